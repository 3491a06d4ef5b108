package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
)

// Exports streamed row by row: the audit trail as JSON Lines or CSV, the
// backlog as CSV. Rows are written and flushed as they come, and the
// spreadsheet safety of CSV cells is decided here, once.

// exportFlushEvery is how many rows of an export are written between
// flushes to the client.
const exportFlushEvery = 100

// csvContentType is the Content-Type of every CSV answer.
const csvContentType = mediaCSV + "; charset=utf-8; header=present"

// CSVListSeparator joins the entries of a list (evidence, objective_ids) in
// one CSV cell: a line break, so a spreadsheet shows one entry a line.
const CSVListSeparator = "\n"

// safeCell keeps a spreadsheet from running free text as a formula: a cell
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe. The JSON and JSON Lines answers carry the text as recorded.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// rowWriter writes the rows of an export in one format: write buffers one
// row, flush sends what is buffered on.
type rowWriter[T any] struct {
	write func(T) error
	flush func() error
}

// csvRows returns the rowWriter of CSV to w that writes each row as row
// makes it, having written the header row first.
func csvRows[T any](w io.Writer, header []string, row func(T) []string) (rowWriter[T], error) {
	cw := csv.NewWriter(w)
	rows := rowWriter[T]{
		write: func(v T) error { return cw.Write(row(v)) },
		flush: func() error { cw.Flush(); return cw.Error() },
	}
	return rows, cw.Write(header)
}

// ndjsonRows returns the rowWriter of JSON Lines to w that writes each row
// as wire makes it.
func ndjsonRows[T, W any](w io.Writer, wire func(T) W) rowWriter[T] {
	enc := json.NewEncoder(w)
	return rowWriter[T]{
		write: func(v T) error { return enc.Encode(wire(v)) },
		flush: func() error { return nil },
	}
}

// streamRows answers 200 with the rows each emits, written with rows to a
// client stream and sent on every exportFlushEvery rows: nothing is
// gathered in memory. The answer's headers must be set before. An error
// once rows are sent aborts the connection, so a cut export is never taken
// for a whole one; what names the export in the service's log.
func streamRows[T any](st *clientStream, rows rowWriter[T], each func(emit func(T) error) error) error {
	sent := 0
	err := each(func(v T) error {
		if err := rows.write(v); err != nil {
			return err
		}
		sent++
		if sent%exportFlushEvery == 0 {
			if err := rows.flush(); err != nil {
				return err
			}
			return st.Flush()
		}
		return nil
	})
	if err == nil {
		err = rows.flush()
	}
	return st.end(sent, err)
}
