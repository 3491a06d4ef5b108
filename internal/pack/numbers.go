package pack

import (
	"html/template"
	"strings"

	"github.com/roadmap-ledger/roadmap/internal/chart"
)

// figureValue shows a figure's value with its unit; "no data" for none.
func figureValue(v *float64, unit string) string {
	switch {
	case v == nil:
		return "no data"
	case unit == "%":
		return chart.Number(*v*100) + "%"
	case unit != "":
		return chart.Number(*v) + " " + unit
	}
	return chart.Number(*v)
}

// figureChange is now less previous, signed, in the figure's unit
// (percentage points for a share); empty when either has no value.
func figureChange(r FigureRow) string {
	if r.Previous == nil || r.Now == nil {
		return ""
	}
	d := *r.Now - *r.Previous
	unit := r.Unit
	if unit == "%" {
		d, unit = d*100, "pp"
	}
	s := chart.Number(d)
	if s != "0" && !strings.HasPrefix(s, "−") {
		s = "+" + s
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

// numbersIntro says what the figures compare.
func numbersIntro(n *Numbers) string {
	if n.PreviousID == "" {
		return "The figures of " + n.Period + " (docs/metrics.md defines each), read from the log up to ledger position " + seq(n.Sequence) + ". First review: there is no previous review to compare with."
	}
	return "The figures of " + n.Period + " against those of " + n.PreviousPeriod + ", the previous closed review's month (docs/metrics.md defines each), both read from the log up to ledger position " + seq(n.Sequence) + "."
}

// figuresTable is the figures, previous and now, and their change.
func figuresTable(n *Numbers) dataTable {
	prev := "Previous"
	if n.PreviousPeriod != "" {
		prev += " (" + n.PreviousPeriod + ")"
	}
	return dataTable{ID: "numbers-figures", Title: "Figures", Empty: "No figures.",
		Head: []column{{"Figure", ""}, {prev, "num"}, {"Now (" + n.Period + ")", "num"}, {"Change", "num"}},
		Rows: tableRows(n.Figures, func(r FigureRow) []cell {
			previous := figureValue(r.Previous, r.Unit)
			if n.PreviousID == "" {
				previous = ""
			}
			return texts(r.Name, previous, figureValue(r.Now, r.Unit), figureChange(r))
		})}
}

// kpiEntry is a measurement or a delivery, for the table of a KPI over
// time.
type kpiEntry struct {
	cells []cell
	at    int64
	order int
}

// kpiTable lists an objective's measurements and deliveries by time.
func kpiTable(k KPISeries) dataTable {
	var entries []kpiEntry
	for i, m := range k.Measurements {
		detail := m.Source
		if m.Note != "" {
			detail += ": " + m.Note
		}
		entries = append(entries, kpiEntry{texts(formatTime(m.At), "measured", chart.Number(m.Value), detail), m.At.UnixNano(), i})
	}
	for i, d := range k.Deliveries {
		entries = append(entries, kpiEntry{texts(formatTime(d.At), "delivered", "", d.Title), d.At.UnixNano(), len(k.Measurements) + i})
	}
	sortEntries(entries)
	return dataTable{ID: "kpi-" + k.ObjectiveID, Title: "KPI over time: " + k.Title, Empty: "No measurement and no delivery yet.",
		Head: []column{{"Time", "when"}, {"Event", ""}, {"Value", "num"}, {"Source, note or item", ""}},
		Rows: tableRows(entries, func(e kpiEntry) []cell { return e.cells })}
}

func sortEntries(es []kpiEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && (es[j].at < es[j-1].at || es[j].at == es[j-1].at && es[j].order < es[j-1].order); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// kpiLine is an objective's KPI over time as a chart, the deliveries
// marked on its time axis.
func kpiLine(k KPISeries) chart.Line {
	l := chart.Line{ID: "chart-kpi-" + k.ObjectiveID, Title: "KPI over time: " + k.Title,
		Desc: "Measurements of " + k.KPI + ", with the deliveries of the items serving the objective marked. The table below holds the same.", Dates: true}
	s := chart.Series{Name: k.KPI}
	for _, m := range k.Measurements {
		s.Points = append(s.Points, chart.Point{At: m.At, Value: m.Value, Label: formatTime(m.At)})
	}
	l.Series = []chart.Series{s}
	for _, d := range k.Deliveries {
		l.Markers = append(l.Markers, chart.Marker{At: d.At, Label: "Delivered: " + d.Title + " (" + formatTime(d.At) + ")"})
	}
	return l
}

// kpiChart is kpiLine drawn, for the HTML pack: chart escapes every text
// it writes.
func kpiChart(k KPISeries) template.HTML { return template.HTML(kpiLine(k).SVG()) }

func (m *mdWriter) numbers(p Pack) {
	n := p.Numbers
	if n == nil {
		m.line("No figures: this pack was made without the ledger's figures.")
		return
	}
	m.line("%s", mdText(numbersIntro(n)))
	m.line("")
	m.dataTable(figuresTable(n))
	for _, k := range n.Objectives {
		m.line("")
		m.line("### KPI over time: %s", mdHeading(k.Title))
		m.line("")
		m.line("KPI: %s · Target: %s", mdText(k.KPI), mdText(k.Target))
		m.line("")
		m.dataTable(kpiTable(k))
	}
}

// PreviousText shows the figure of the previous review's month; "no data"
// when it has none.
func (r FigureRow) PreviousText() string { return figureValue(r.Previous, r.Unit) }

// NowText shows the figure of the review's month; "no data" when it has
// none.
func (r FigureRow) NowText() string { return figureValue(r.Now, r.Unit) }

// Change shows now less previous, signed, in percentage points for a
// share; empty when either has no value.
func (r FigureRow) Change() string { return figureChange(r) }
