// Package results writes (and, for checking, reads) the files every experiment leaves in its -out
// directory: results.csv (one row per configuration and round) and
// summary.json. Writes are atomic, so an interrupted run never leaves a
// half-written file.
package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/fedactor/fedactor/internal/atomicfile"
)

// WriteCSV writes header and rows as CSV to path. Every row must have as
// many fields as the header.
func WriteCSV(path string, header []string, rows [][]string) error {
	for i, r := range rows {
		if len(r) != len(header) {
			return fmt.Errorf("write %s: row %d has %d fields, header has %d", path, i, len(r), len(header))
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}

// ReadCSV reads the CSV file at path, header first, as WriteCSV wrote it.
func ReadCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// WriteJSON writes v as indented JSON to path.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'))
}
