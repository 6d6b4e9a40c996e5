#!/usr/bin/python3
"""Writes the workbook twins of samples/desired.csv that the end-to-end
test plans and applies beside the CSV (TestWorkbookTwinsPlanAndApplyAlike).

openpyxl (Debian python3-openpyxl) writes openpyxl/desired.xlsx the way a
person keeps the table in a spreadsheet: every other phone number typed as
a number (12126341001, its NANP digits), the others as the CSV writes them,
authenticated_calls as booleans, everything else as text (a postal code
keeps its leading zero). LibreOffice Calc (Debian libreoffice-calc-nogui)
opens it and saves it as its own libreoffice/desired.xlsx. Run from this
directory:  /usr/bin/python3 make.py
"""
import csv
import os
import re
import subprocess
import tempfile

from openpyxl import Workbook

BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def main():
    os.makedirs("openpyxl", exist_ok=True)
    os.makedirs("libreoffice", exist_ok=True)
    with open("../../../../samples/desired.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    auth = [h.strip().lower().replace(" ", "_") for h in header].index("authenticated_calls")
    wb = Workbook()
    ws = wb.active
    ws.title = "Numbers"
    ws.append(header)
    for i, row in enumerate(rows[1:]):
        cells = list(row)
        digits = re.sub(r"\D", "", cells[0])
        if i % 2 == 0 and len(digits) in (10, 11):
            cells[0] = int(digits if len(digits) == 11 else "1" + digits)
        if cells[auth].strip().lower() in BOOLS:
            cells[auth] = BOOLS[cells[auth].strip().lower()]
        ws.append(cells)
    # openpyxl guesses no types from strings: a str stays text.
    wb.save("openpyxl/desired.xlsx")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["soffice", "-env:UserInstallation=file://" + profile,
                        "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                        "--outdir", "libreoffice", "openpyxl/desired.xlsx"],
                       check=True, stdout=subprocess.DEVNULL)


main()
