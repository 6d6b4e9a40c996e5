#!/usr/bin/python3
"""Writes the fixture workbooks the desired-state reader is tested on.

openpyxl (Debian python3-openpyxl) writes openpyxl/*.xlsx; LibreOffice Calc
(Debian libreoffice-calc-nogui) then opens each and saves it as its own
.xlsx under libreoffice/ (calculating the formulas, which openpyxl leaves
uncalculated). Run from this directory:  /usr/bin/python3 make.py
"""
import datetime
import os
import subprocess
import tempfile

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

HEADER = ["Phone Number", "CNAM", "Brand Business Unit", "Brand Program",
          "Brand Channel", "Authenticated Calls"]


def typed():
    """Numbers typed as numbers and as text, booleans, a second sheet of
    notes, and formatted empty rows after the data."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Numbers"
    ws.append(HEADER)
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.append([12125550100, "ACME", "Retail", "Store Lines", "callerName", True])
    ws.append(["+1 415 555 0101", 12345, "Retail", "Promotions", "callerImage", False])
    ws.append([13125550102, "ACME SUPPORT", "Support", "", "", "yes"])
    ws.append([6175550103, 2.5, "", "", "", None])
    ws["A5"].number_format = "0"
    # Formatted but empty rows, as a sheet someone has been working in
    # has them.
    fill = PatternFill("solid", fgColor="FFFF00")
    for r in range(6, 12):
        for c in range(1, 7):
            ws.cell(row=r, column=c).fill = fill
    notes = wb.create_sheet("Notes")
    notes.append(["Who", "What"])
    notes.append(["ops", "migrated from the old carrier"])
    wb.save("openpyxl/typed.xlsx")


def formulas():
    """Cells whose values are formulas: openpyxl writes no calculated
    values; LibreOffice calculates them when it saves."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Numbers"
    ws.append(["phone_number", "cnam", "authenticated_calls"])
    ws.append(['="+1212555"&"0100"', '=UPPER("acme")', "=1=1"])
    ws.append(["=12125550000+101", '=LEFT("ACME STORES EAST",11)', "=1=2"])
    wb.save("openpyxl/formulas.xlsx")


def bad():
    """What a workbook can hold that no desired-state row may: a date, an
    error value, a merged range, a value right of the table; and a second
    sheet that is a table too."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Numbers"
    ws.append(["phone_number", "cnam", "brand_business_unit", "brand_program"])
    ws.append([12125550100, datetime.date(2024, 3, 1), "Retail", "Store Lines"])
    ws.append([12125550101, "=1/0", "Retail", "Store Lines"])
    ws.append([12125550102, "ACME", "Retail", "Store Lines"])
    ws.append([12125550103, "ACME", None, "Store Lines"])
    ws.merge_cells("C4:C5")
    ws["F3"] = "stray"
    other = wb.create_sheet("Numbers (old)")
    other.append(["phone_number"])
    other.append(["+12125550199"])
    wb.save("openpyxl/bad.xlsx")


def main():
    os.makedirs("openpyxl", exist_ok=True)
    os.makedirs("libreoffice", exist_ok=True)
    typed()
    formulas()
    bad()
    with tempfile.TemporaryDirectory() as profile:
        for name in ("typed", "formulas", "bad"):
            subprocess.run(["soffice", "-env:UserInstallation=file://" + profile,
                            "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                            "--outdir", "libreoffice", "openpyxl/%s.xlsx" % name],
                           check=True, stdout=subprocess.DEVNULL)


main()
