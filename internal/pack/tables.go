package pack

import "strconv"

// subTable is a titled table of plain-text cells shown under its own
// heading, or as "None." when it has no rows. The health signals and the
// lists of the diff are such tables, and both renderings draw them from the
// same values: Markdown escapes each cell, HTML leaves it to html/template.
type subTable struct {
	// ID is the heading's anchor in HTML.
	ID, Title string
	Head      []column
	Rows      [][]string
}

// column is a table's column: its heading and, in HTML, the class of its
// cells ("num" for numbers, "when" for moments, or none).
type column struct{ Name, Class string }

// plain are columns with no class.
func plain(names ...string) []column {
	cols := make([]column, len(names))
	for i, n := range names {
		cols[i] = column{Name: n}
	}
	return cols
}

// healthTables are the review's health signals, one table a signal.
func healthTables(h Health) []subTable {
	return []subTable{
		{"health-orphans", "Orphans", plain("Item", "Product", "Place"),
			tableRows(h.Orphans, func(o HealthItem) []string {
				return []string{o.Title, o.Product, o.Place.String()}
			})},
		{"health-orphaned-objectives", "Orphaned objectives", plain("Objective", "KPI", "Target", "Product"),
			tableRows(h.OrphanedObjectives, func(o ObjectiveRow) []string {
				return []string{o.Title, o.KPI, o.Target, o.Product}
			})},
		{"health-stale", "Stale items", append(plain("Item", "Product", "Place"), column{"Last decision", "when"}, column{"Days since", "num"}),
			tableRows(h.Stale, func(s StaleRow) []string {
				return []string{s.Title, s.Product, s.Place.String(), formatTime(s.LastDecisionAt), strconv.Itoa(s.DaysSince)}
			})},
		{"health-churn", "Churn", []column{{"Item", ""}, {"Moves", "num"}, {"Decisions", ""}},
			tableRows(h.Churn, func(c ChurnRow) []string {
				return []string{c.Title, strconv.Itoa(c.Moves), seqs(c.Sequences)}
			})},
		{"health-gravity", "Backlog gravity", []column{{"Item", ""}, {"Product", ""}, {"Reason", ""}, {"Decision", "num"}, {"Detail", ""}},
			tableRows(h.Gravity, func(g GravityRow) []string {
				return []string{g.Title, g.Product, g.Reason, seq(g.Sequence), gravityDetail(g)}
			})},
	}
}

// diffTables are the lists of a diff: what was added, removed, moved and
// rescored.
func diffTables(d *Diff) []subTable {
	part := func(id, title string, rows []DiffRow) subTable {
		return subTable{"diff-" + id, title, plain("Item", "Product", "From", "To", "Score", "Decisions"),
			tableRows(rows, func(r DiffRow) []string {
				return []string{r.Title, r.Product, r.From.String(), r.To.String(), scoreChange(r), seqs(r.Decisions)}
			})}
	}
	return []subTable{
		part("added", "Added", d.Added),
		part("removed", "Removed", d.Removed),
		part("moved", "Moved", d.Moved),
		part("rescored", "Rescored", d.Rescored),
	}
}
