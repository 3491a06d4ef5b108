package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// The imports as the API reads and answers them: the two layouts of CSV
// POST /v1/imports takes (the backlog's own, wire_backlog_csv.go, and a
// Jira export), and its answer.

// Import formats, the values of ?format=.
const (
	formatRoadmap = "roadmap"
	formatJira    = "jira"
)

type (
	// importJSON is the answer of POST /v1/imports.
	importJSON struct {
		ImportID  string         `json:"import_id"`
		DryRun    bool           `json:"dry_run"`
		Created   int            `json:"created"`
		Updated   int            `json:"updated"`
		Unchanged int            `json:"unchanged"`
		Errors    []rowErrorJSON `json:"errors"`
	}
	// rowErrorJSON is one thing wrong with one row of an imported file.
	rowErrorJSON struct {
		Line    int    `json:"line"`
		Column  string `json:"column"`
		Message string `json:"message"`
	}
)

func importAnswer(o ledger.ImportOutcome) importJSON {
	return importJSON{ImportID: o.ImportID, DryRun: o.DryRun, Created: o.Created, Updated: o.Updated, Unchanged: o.Unchanged, Errors: []rowErrorJSON{}}
}

func rowErrorWire(e roadmap.RowError) rowErrorJSON {
	return rowErrorJSON{Line: e.Line, Column: e.Column, Message: e.Message}
}

// errMalformedCSV marks a file the CSV reader cannot read on (a quote left
// open): the rows after it cannot be told apart.
var errMalformedCSV = errors.New("malformed CSV")

// csvFile is an imported file's header and rows, each row with the line it
// starts on. Blank rows are left out.
type csvFile struct {
	header []string
	rows   [][]string
	lines  []int
}

// readCSV reads a whole CSV file: a header row, then rows with as many
// cells. A UTF-8 byte order mark is skipped. A row with another number of
// cells is a row error, found with the others.
func readCSV(r io.Reader) (csvFile, []roadmap.RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var f csvFile
	var problems []roadmap.RowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return f, nil, fmt.Errorf("%w: line %d: %v", errMalformedCSV, pe.Line, pe.Err)
		}
		if err != nil {
			return f, nil, err
		}
		line, _ := cr.FieldPos(0)
		if f.header == nil {
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			f.header = rec
			continue
		}
		if !slices.ContainsFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue
		}
		if len(rec) != len(f.header) {
			problems = append(problems, roadmap.RowError{Line: line, Message: fmt.Sprintf("has %d cells; the header has %d", len(rec), len(f.header))})
			continue
		}
		for i := range rec {
			rec[i] = unneutralise(rec[i])
		}
		f.rows, f.lines = append(f.rows, rec), append(f.lines, line)
	}
	if f.header == nil {
		return f, nil, fmt.Errorf("%w: the file is empty; its first line must name the columns", errMalformedCSV)
	}
	return f, problems, nil
}

// unneutralise takes off the apostrophe safeCell puts before a cell a
// spreadsheet would run as a formula.
func unneutralise(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// readRoadmapRows reads the rows of a file in the backlog's own layout.
// Columns are matched by name, ignoring case and surrounding spaces; title
// is required, the read-only columns are ignored, and an unknown or
// repeated column is an error (a misspelt column would otherwise drop its
// values without a word).
func readRoadmapRows(f csvFile) ([]roadmap.ImportRow, []roadmap.RowError) {
	var problems []roadmap.RowError
	at := map[string]int{}
	for i, name := range f.header {
		name = strings.ToLower(strings.TrimSpace(name))
		switch _, seen := at[name]; {
		case !slices.Contains(backlogColumns, name):
			problems = append(problems, roadmap.RowError{Line: 1, Column: clip(name), Message: "is not a column of the roadmap layout: " + strings.Join(backlogColumns, ", ")})
		case seen:
			problems = append(problems, roadmap.RowError{Line: 1, Column: name, Message: "is given twice"})
		case !slices.Contains(backlogReadOnlyColumns, name):
			at[name] = i
		}
	}
	if _, ok := at[colTitle]; !ok {
		problems = append(problems, roadmap.RowError{Line: 1, Column: colTitle, Message: "is required: the header must name a title column"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	rows := make([]roadmap.ImportRow, len(f.rows))
	for i, rec := range f.rows {
		c := rowCells{line: f.lines[i], rec: rec, at: at}
		rows[i] = roadmap.ImportRow{
			Line: c.line, ItemID: c.id(), ExternalID: strings.TrimSpace(c.text(colExternalID)),
			Title: c.textPtr(colTitle), Description: c.textPtr(colDescription),
			Kind: (*roadmap.Kind)(c.trimmedPtr(colKind)), ParentID: c.trimmedPtr(colParentID), Product: c.trimmedPtr(colProduct),
			ObjectiveIDs: c.ids(colObjectiveIDs), DependsOn: c.ids(colDependsOn), Risks: c.lines(colRisks),
			Effort: c.number(colEffort), Horizon: c.horizon(), Rank: c.number(colRank),
		}
		rows[i].Problems = c.problems
	}
	return rows, nil
}

// rowCells reads the cells of one row by column name, noting what is wrong
// with them.
type rowCells struct {
	line     int
	rec      []string
	at       map[string]int // column → index
	problems []roadmap.RowError
}

func (c *rowCells) fail(column, message string) {
	c.problems = append(c.problems, roadmap.RowError{Line: c.line, Column: column, Message: message})
}

// text is the cell of column, "" when the file has no such column.
func (c *rowCells) text(column string) string {
	if i, ok := c.at[column]; ok {
		return c.rec[i]
	}
	return ""
}

// textPtr is the cell of column, nil when the file has no such column.
func (c *rowCells) textPtr(column string) *string {
	if _, ok := c.at[column]; !ok {
		return nil
	}
	s := c.text(column)
	return &s
}

func (c *rowCells) trimmedPtr(column string) *string {
	p := c.textPtr(column)
	if p != nil {
		*p = strings.TrimSpace(*p)
	}
	return p
}

func (c *rowCells) id() string {
	id := strings.TrimSpace(c.text(colID))
	if id != "" && !roadmap.ValidID(id) {
		c.fail(colID, "must be an item id (a lower-case UUID), or empty for a new item")
		return ""
	}
	return id
}

// ids reads a list of ids: one a line, or separated by ";" or spaces.
func (c *rowCells) ids(column string) *[]string {
	p := c.textPtr(column)
	if p == nil {
		return nil
	}
	ids := strings.FieldsFunc(*p, func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
	if ids == nil {
		ids = []string{}
	}
	return &ids
}

// lines reads a list of texts, one a line.
func (c *rowCells) lines(column string) *[]string {
	p := c.textPtr(column)
	if p == nil {
		return nil
	}
	out := []string{}
	for _, l := range strings.Split(*p, CSVListSeparator) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return &out
}

// number reads a whole number; an empty cell is none.
func (c *rowCells) number(column string) *int {
	s := strings.TrimSpace(c.text(column))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		c.fail(column, fmt.Sprintf("must be a whole number, not %q", clip(s)))
		return nil
	}
	return &n
}

func (c *rowCells) horizon() roadmap.Horizon {
	h := roadmap.Horizon(strings.ToLower(strings.TrimSpace(c.text(colHorizon))))
	if h != "" && !h.Valid() {
		c.fail(colHorizon, fmt.Sprintf("must be now, next or later, or empty to leave the item where it is; not %q", clip(string(h))))
		return ""
	}
	return h
}

// The columns of a Jira CSV export the import reads. Jira names the epic
// link "Custom field (Epic Link)" in its exports; "Epic Link" is taken too.
const (
	jiraSummary     = "Summary"
	jiraKey         = "Issue key"
	jiraIssueID     = "Issue id"
	jiraType        = "Issue Type"
	jiraDescription = "Description"
	jiraParent      = "Parent"
	jiraEpicLink    = "Custom field (Epic Link)"
	jiraEpicLinkAlt = "Epic Link"
)

// readJiraRows reads the rows of a Jira CSV export: Summary is the title,
// Issue key the external id, an Epic an initiative and any other type an
// idea, Description the description, Parent or the Epic Link (a key, or an
// issue id of the same file) the parent. Summary and Issue key are
// required; every other column (Labels, Status, dates, sprints...) is
// ignored: the ledger has no field for them.
func readJiraRows(f csvFile) ([]roadmap.ImportRow, []roadmap.RowError) {
	at := map[string]int{}
	for i, name := range f.header {
		name = strings.TrimSpace(name)
		if _, seen := at[name]; !seen {
			at[name] = i
		}
	}
	var problems []roadmap.RowError
	for _, required := range []string{jiraSummary, jiraKey} {
		if _, ok := at[required]; !ok {
			problems = append(problems, roadmap.RowError{Line: 1, Column: required, Message: "is required in a Jira export"})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	keyOfIssueID := map[string]string{}
	if i, ok := at[jiraIssueID]; ok {
		for _, rec := range f.rows {
			keyOfIssueID[strings.TrimSpace(rec[i])] = strings.TrimSpace(rec[at[jiraKey]])
		}
	}
	rows := make([]roadmap.ImportRow, len(f.rows))
	for n, rec := range f.rows {
		c := rowCells{line: f.lines[n], rec: rec, at: at}
		row := roadmap.ImportRow{
			Line: c.line, ExternalID: strings.TrimSpace(c.text(jiraKey)),
			Title: c.textPtr(jiraSummary), Description: c.textPtr(jiraDescription),
			Columns: map[string]string{
				"title": jiraSummary, "description": jiraDescription, "kind": jiraType,
				"external_id": jiraKey, "id": jiraKey,
			},
		}
		if row.ExternalID == "" {
			c.fail(jiraKey, "is required: the issue's key, such as PROJ-12")
		}
		if t := c.textPtr(jiraType); t != nil {
			kind := roadmap.KindIdea
			if strings.EqualFold(strings.TrimSpace(*t), "Epic") {
				kind = roadmap.KindInitiative
			}
			row.Kind = &kind
		}
		for _, column := range []string{jiraParent, jiraEpicLink, jiraEpicLinkAlt} {
			if _, ok := at[column]; !ok {
				continue
			}
			if row.ParentID == nil {
				none := ""
				row.ParentID, row.Columns["parent_id"] = &none, column
			}
			parent := strings.TrimSpace(c.text(column))
			if key, ok := keyOfIssueID[parent]; ok {
				parent = key
			}
			if parent != "" && row.ParentExternalID == "" {
				row.ParentExternalID, row.Columns["parent_external_id"], row.Columns["parent_id"] = parent, column, column
			}
		}
		row.Problems = c.problems
		rows[n] = row
	}
	return rows, nil
}
