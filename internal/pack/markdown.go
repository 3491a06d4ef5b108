package pack

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// timeLayout is how the pack writes moments: to the minute, in UTC, so a
// pack reads the same wherever it is made.
const timeLayout = "2006-01-02 15:04 UTC"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Markdown writes p as GitHub-flavoured Markdown: a heading per section of
// Sections, in order, numbered from 1. Every text that came from a user
// (titles, rationales, evidence, notes, actors) is escaped, so it reads as
// the same text and can neither break a table nor become markup. It returns
// the error of writing to w.
func Markdown(w io.Writer, p Pack) error {
	var b bytes.Buffer
	m := &mdWriter{b: &b}
	m.header(p)
	for i, s := range Sections() {
		fmt.Fprintf(&b, "\n## %d. %s\n\n", i+1, s.Title)
		switch s.ID {
		case "goals":
			m.goals(p)
		case "progress":
			m.progress(p)
		case "decisions":
			m.decisions(p)
		case "capacity":
			m.capacity(p)
		case "risks":
			m.risks(p)
		case "health":
			m.health(p)
		case "pending":
			m.pending(p)
		case "diff":
			m.diff(p)
		case "numbers":
			m.numbers(p)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

type mdWriter struct{ b *bytes.Buffer }

func (m *mdWriter) line(format string, args ...any) {
	fmt.Fprintf(m.b, format, args...)
	m.b.WriteByte('\n')
}

// table writes a table of already escaped cells; an empty cell shows as a
// dash.
func (m *mdWriter) table(head []string, rows [][]string) {
	m.b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		m.b.WriteString(" --- |")
	}
	m.b.WriteByte('\n')
	for _, r := range rows {
		for i, c := range r {
			if c == "" {
				r[i] = "—"
			}
		}
		m.b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
}

func (m *mdWriter) header(p Pack) {
	m.line("# %s", mdHeading(p.Title))
	m.line("")
	m.line("Governance review pack for %s.", mdText(p.Period))
	m.line("")
	m.line("- Review: `%s`, %s", codeText(p.ReviewID), mdText(p.Status))
	m.line("- Opened: %s", formatTime(p.OpenedAt))
	if p.ClosedAt != nil {
		m.line("- Closed: %s, frozen at ledger position %d", formatTime(*p.ClosedAt), p.Sequence)
	} else {
		m.line("- Open: as the ledger stands at position %d", p.Sequence)
	}
	m.line("- Period: the decisions after ledger position %d, up to %d", p.SinceSequence, p.Sequence)
	if p.AsOf != nil {
		m.line("- Ledger as of: %s", formatTime(*p.AsOf))
	}
	m.line("- Signals measured at: %s", formatTime(p.MeasuredAt))
	if p.ChainDigest != "" {
		m.line("- Chain heads digest: `%s`", codeText(p.ChainDigest))
	}
	if p.Notes != "" {
		m.line("- Notes: %s", mdText(p.Notes))
	}
}

func goalRows(items []GoalItem) [][]string {
	return tableRows(items, func(it GoalItem) []string {
		return []string{mdText(it.Place.Horizon), strconv.Itoa(it.Place.Rank), mdText(it.Title), mdText(it.Product)}
	})
}

func (m *mdWriter) goals(p Pack) {
	if len(p.Goals) == 0 {
		m.line("No active objectives.")
	}
	head := []string{"Horizon", "Rank", "Item", "Product"}
	for _, g := range p.Goals {
		title := mdHeading(g.Title)
		if g.Retired {
			title += " (retired)"
		}
		m.line("### %s", title)
		m.line("")
		m.line("KPI: %s · Target: %s · Product: %s", mdText(g.KPI), mdText(g.Target), mdText(g.Product))
		m.line("")
		if len(g.Items) == 0 {
			m.line("No roadmap item serves this objective.")
		} else {
			m.table(head, goalRows(g.Items))
		}
		m.line("")
	}
	m.line("### Unaligned")
	m.line("")
	if len(p.Unaligned) == 0 {
		m.line("Every roadmap item serves an objective.")
		return
	}
	m.line("Roadmap items that serve no objective:")
	m.line("")
	m.table(head, goalRows(p.Unaligned))
}

func (m *mdWriter) progress(p Pack) { m.dataTable(progressTable(p)) }

func (m *mdWriter) decisions(p Pack) { m.dataTable(decisionsTable(p)) }

func (m *mdWriter) capacity(p Pack) { m.dataTable(capacityTable(p)) }

func (m *mdWriter) risks(p Pack) { m.subTables(riskTables(p)) }

func (m *mdWriter) health(p Pack) {
	m.subTables(healthTables(p.Health))
}

// gravityDetail says since when an item is in later, or where a raise took
// it.
func gravityDetail(g GravityRow) string {
	if g.Since != nil {
		return "in later since " + formatTime(*g.Since)
	}
	if g.Move != "" {
		return "raised " + g.Move
	}
	return ""
}

func (m *mdWriter) pending(p Pack) { m.dataTable(pendingTable(p)) }

func (m *mdWriter) diff(p Pack) {
	d := p.Diff
	if d == nil {
		m.line("First review: nothing to compare.")
		return
	}
	m.line("Against the review of %s (`%s`), frozen at ledger position %d.", mdText(d.AgainstPeriod), codeText(d.AgainstID), d.AgainstSequence)
	m.line("")
	m.subTables(diffTables(d))
}

// subTables writes each table under its "###" heading, a blank line
// between them.
func (m *mdWriter) subTables(ts []dataTable) {
	for i, t := range ts {
		if i > 0 {
			m.line("")
		}
		m.line("### %s", t.Title)
		m.line("")
		m.dataTable(t)
	}
}

// dataTable writes t's rows, or its Empty line; the cells are escaped
// here.
func (m *mdWriter) dataTable(t dataTable) {
	head := make([]string, len(t.Head))
	for i, c := range t.Head {
		head[i] = c.Name
	}
	m.tableOr(t.Empty, head, tableRows(t.Rows, func(r []cell) []string {
		return tableRows(r, mdCell)
	}))
}

// mdCell is a cell as Markdown: escaped text, a list, or bold when it
// warns.
func mdCell(c cell) string {
	switch {
	case c.List != nil:
		return mdList(c.List)
	case c.Alarm:
		return "**" + mdText(c.Text) + "**"
	}
	return mdText(c.Text)
}

// scoreChange reads "moscow 3 → moscow 4"; a score that did not change reads
// once, and no score on either side reads empty.
func scoreChange(r DiffRow) string {
	switch {
	case r.FromScore == r.ToScore:
		return r.ToScore
	case r.FromScore == "":
		return "none → " + r.ToScore
	case r.ToScore == "":
		return r.FromScore + " → none"
	}
	return r.FromScore + " → " + r.ToScore
}

func seq(n uint64) string { return "#" + strconv.FormatUint(n, 10) }

func seqs(ns []uint64) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = seq(n)
	}
	return strings.Join(out, ", ")
}

// listSeparator joins the entries of a list in one table cell.
const listSeparator = " · "

func mdList(items []string) string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		if t := mdText(it); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, listSeparator)
}

// mdText makes user text safe inline Markdown that reads as the same text:
// line breaks and other control characters become spaces (one line, so no
// table row or list item ends early), and every character that could start
// markup or split a cell is backslash-escaped: emphasis, code, links and
// images, raw HTML and entities, strikethrough, the cell separator. The pack
// writes user text only after its own marker ("# ", "- Notes: ", "| "), so
// no text starts a block.
func mdText(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdHeading is mdText for a heading's text, whose trailing #s would
// otherwise close the heading and vanish.
func mdHeading(s string) string {
	return strings.ReplaceAll(mdText(s), "#", `\#`)
}

// codeText keeps text the ledger made (ids, digests) inside a code span:
// only a backtick could end it, and these never hold one.
func codeText(s string) string { return strings.ReplaceAll(s, "`", "'") }

// tableOr writes a table, or the line none when it has no rows.
func (m *mdWriter) tableOr(none string, head []string, rows [][]string) {
	if len(rows) == 0 {
		m.line("%s", none)
		return
	}
	m.table(head, rows)
}

// tableRows is the rows of a table, one a value of vs, as row makes them.
func tableRows[V, R any](vs []V, row func(V) R) []R {
	rows := make([]R, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, row(v))
	}
	return rows
}
