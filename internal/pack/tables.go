package pack

import "strconv"

// dataTable is a table of the pack as both renderings draw it from the same
// values: Markdown escapes each cell, HTML leaves it to html/template. A
// table with a Title stands under its own heading; one with no rows shows
// the line Empty instead.
type dataTable struct {
	// ID is the heading's anchor in HTML.
	ID, Title string
	Empty     string
	Head      []column
	Rows      [][]cell
}

// column is a table's column: its heading and, in HTML, the class of its
// cells ("num" for numbers, "when" for moments, or none).
type column struct{ Name, Class string }

// cell is one cell of a table: a text, or a list when List is not nil
// (evidence, risks, the items depended on). Alarm marks a text that warns,
// bold in Markdown and in the class "over" in HTML.
type cell struct {
	Text  string
	List  []string
	Alarm bool
}

// plain are columns with no class.
func plain(names ...string) []column {
	cols := make([]column, len(names))
	for i, n := range names {
		cols[i] = column{Name: n}
	}
	return cols
}

// texts are cells of plain text.
func texts(ss ...string) []cell {
	cells := make([]cell, len(ss))
	for i, s := range ss {
		cells[i] = cell{Text: s}
	}
	return cells
}

// list is a cell showing items as a list.
func list(items []string) cell {
	if items == nil {
		items = []string{}
	}
	return cell{List: items}
}

func progressTable(p Pack) dataTable {
	return dataTable{Empty: "No items delivered in this period.",
		Head: append([]column{{"Seq", "num"}, {"Time", "when"}}, plain("Actor", "Item", "Product", "Rationale", "Evidence")...),
		Rows: tableRows(p.Progress, func(r ProgressRow) []cell {
			return append(texts(seq(r.Sequence), formatTime(r.At), r.Actor, r.Title, r.Product, r.Rationale), list(r.Evidence))
		})}
}

func decisionsTable(p Pack) dataTable {
	return dataTable{Empty: "No decisions in this period.",
		Head: append([]column{{"Seq", "num"}, {"Time", "when"}}, plain("Actor", "Type", "Subject", "From → To", "Score", "Rationale", "Evidence")...),
		Rows: tableRows(p.Decisions, func(d DecisionRow) []cell {
			return append(texts(seq(d.Sequence), formatTime(d.At), d.Actor, d.Type, d.Subject, d.Change(), d.Score, d.Rationale), list(d.Evidence))
		})}
}

func capacityTable(p Pack) dataTable {
	return dataTable{Empty: "No capacity set.",
		Head: []column{{"Product", ""}, {"Horizon", ""}, {"Capacity", "num"}, {"Committed", "num"}, {"Over capacity", ""}},
		Rows: tableRows(p.Capacity, func(c CapacityRow) []cell {
			capacity, over := "not set", cell{Text: "no"}
			if c.Capacity != nil {
				capacity = strconv.Itoa(*c.Capacity)
			}
			if c.Over {
				over = cell{Text: "over", Alarm: true}
			}
			return append(texts(c.Product, c.Horizon, capacity, strconv.Itoa(c.Committed)), over)
		})}
}

// riskTables are the risks recorded against items and the items' dependencies.
func riskTables(p Pack) []dataTable {
	return []dataTable{
		{"risks-items", "Risks", "No risks recorded.", plain("Item", "Risks"),
			tableRows(p.Risks, func(r RiskRow) []cell {
				return []cell{{Text: r.Title}, list(r.Risks)}
			})},
		{"dependencies", "Dependencies", "No dependencies recorded.", plain("Item", "Depends on", "Flag"),
			tableRows(p.Dependencies, func(d DependencyRow) []cell {
				return []cell{{Text: d.Title}, list(d.DependsOn), {Text: d.Flag}}
			})},
	}
}

func pendingTable(p Pack) dataTable {
	return dataTable{Empty: "No changes pending approval.",
		Head: []column{{"Item", ""}, {"Change", ""}, {"Proposed by", ""}, {"Proposed at", "when"}, {"Rationale", ""}},
		Rows: tableRows(p.Pending, func(r PendingRow) []cell {
			return texts(r.Title, r.Change, r.ProposedBy, formatTime(r.ProposedAt), r.Rationale)
		})}
}

// healthTables are the review's health signals, one table a signal.
func healthTables(h Health) []dataTable {
	return []dataTable{
		{"health-orphans", "Orphans", "None.", plain("Item", "Product", "Place"),
			tableRows(h.Orphans, func(o HealthItem) []cell {
				return texts(o.Title, o.Product, o.Place.String())
			})},
		{"health-orphaned-objectives", "Orphaned objectives", "None.", plain("Objective", "KPI", "Target", "Product"),
			tableRows(h.OrphanedObjectives, func(o ObjectiveRow) []cell {
				return texts(o.Title, o.KPI, o.Target, o.Product)
			})},
		{"health-stale", "Stale items", "None.", append(plain("Item", "Product", "Place"), column{"Last decision", "when"}, column{"Days since", "num"}),
			tableRows(h.Stale, func(s StaleRow) []cell {
				return texts(s.Title, s.Product, s.Place.String(), formatTime(s.LastDecisionAt), strconv.Itoa(s.DaysSince))
			})},
		{"health-churn", "Churn", "None.", []column{{"Item", ""}, {"Moves", "num"}, {"Decisions", ""}},
			tableRows(h.Churn, func(c ChurnRow) []cell {
				return texts(c.Title, strconv.Itoa(c.Moves), seqs(c.Sequences))
			})},
		{"health-gravity", "Backlog gravity", "None.", []column{{"Item", ""}, {"Product", ""}, {"Reason", ""}, {"Decision", "num"}, {"Detail", ""}},
			tableRows(h.Gravity, func(g GravityRow) []cell {
				return texts(g.Title, g.Product, g.Reason, seq(g.Sequence), gravityDetail(g))
			})},
	}
}

// diffTables are the lists of a diff: what was added, removed, moved and
// rescored.
func diffTables(d *Diff) []dataTable {
	part := func(id, title string, rows []DiffRow) dataTable {
		return dataTable{"diff-" + id, title, "None.", plain("Item", "Product", "From", "To", "Score", "Decisions"),
			tableRows(rows, func(r DiffRow) []cell {
				return texts(r.Title, r.Product, r.From.String(), r.To.String(), scoreChange(r), seqs(r.Decisions))
			})}
	}
	return []dataTable{
		part("added", "Added", d.Added),
		part("removed", "Removed", d.Removed),
		part("moved", "Moved", d.Moved),
		part("rescored", "Rescored", d.Rescored),
	}
}
