package desired

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeBenchXLSX writes the CSV at csvPath as a workbook: the
// authenticated_calls column as booleans, the rest as the same text, or,
// with numeric, numbers in E.164 typed as numbers (their digits), as a
// person typing them would have them.
func writeBenchXLSX(tb testing.TB, csvPath string, numeric bool) string {
	tb.Helper()
	in, err := os.Open(csvPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	recs, err := csv.NewReader(in).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	for i, rec := range recs {
		cells := make([]any, len(rec))
		for j, v := range rec {
			cells[j] = v
			if i == 0 {
				continue
			}
			if numeric && j == 0 && strings.HasPrefix(v, "+") {
				n, _ := strconv.ParseInt(v[1:], 10, 64)
				cells[j] = n
			}
			if b, err := strconv.ParseBool(v); err == nil && j == len(rec)-1 {
				cells[j] = b
			}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1), cells); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "desired.xlsx")
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkValidate100k validates the same 100,000 rows as a CSV and as a
// workbook and reports each one's time and peak heap, for `make bench` to
// print side by side. The workbook holds the CSV's text, so the two differ
// only in the file format; a third read, of a workbook whose E.164 numbers
// are typed as numbers (12125550100), shows what digits without the "+"
// cost the phone normaliser (they take the library's path, not the
// canonical fast path).
func BenchmarkValidate100k(b *testing.B) {
	const rows = 100_000
	csvPath := writeBenchCSV(b, rows, 10)
	xlsxPath := writeBenchXLSX(b, csvPath, false)
	numPath := writeBenchXLSX(b, csvPath, true)
	if _, err := nanpPrefixLen(); err != nil {
		b.Fatal(err)
	}
	measure := func(path string) (time.Duration, time.Duration, uint64) {
		runtime.GC()
		start, c0 := time.Now(), cpuTime()
		heap := peakHeap(func() {
			d, _, err := ReadFile(path, Options{OneUCEnabled: true, FirstOrionEnabled: true})
			if err != nil {
				b.Fatal(err)
			}
			if len(d.Rows) != rows {
				b.Fatalf("%s: %d rows", path, len(d.Rows))
			}
		})
		return time.Since(start), cpuTime() - c0, heap
	}
	// CPU time (all threads) is the steadier figure on a shared machine.
	var csvT, xlsxT, numT, csvC, xlsxC time.Duration
	var csvH, xlsxH uint64
	b.ResetTimer()
	for b.Loop() {
		t, c, h := measure(csvPath)
		csvT, csvC, csvH = t, c, max(csvH, h)
		t, c, h = measure(xlsxPath)
		xlsxT, xlsxC, xlsxH = t, c, max(xlsxH, h)
		numT, _, _ = measure(numPath)
	}
	b.StopTimer()
	fi, _ := os.Stat(xlsxPath)
	ci, _ := os.Stat(csvPath)
	b.ReportMetric(csvT.Seconds(), "csv-s")
	b.ReportMetric(xlsxT.Seconds(), "xlsx-s")
	b.ReportMetric(numT.Seconds(), "xlsx-numeric-phone-s")
	b.ReportMetric(csvC.Seconds(), "csv-cpu-s")
	b.ReportMetric(xlsxC.Seconds(), "xlsx-cpu-s")
	b.ReportMetric(xlsxT.Seconds()/csvT.Seconds(), "xlsx-x-csv")
	b.ReportMetric(float64(csvH)/(1<<20), "csv-heap-MiB")
	b.ReportMetric(float64(xlsxH)/(1<<20), "xlsx-heap-MiB")
	b.ReportMetric(float64(xlsxH)/float64(csvH), "xlsx-heap-x-csv")
	b.ReportMetric(float64(ci.Size())/(1<<20), "csv-file-MiB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "xlsx-file-MiB")
}
