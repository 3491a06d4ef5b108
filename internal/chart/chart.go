// Package chart draws small line charts as inline SVG, for pages and
// documents made on the server: no script, no library, the same bytes for
// the same values. A chart is an image with an accessible name (role="img",
// its <title> and <desc>); it is meant to stand beside a table of the same
// figures, which is what screen readers and print read. Every text that
// goes into the SVG is escaped here. It depends on the standard library
// only.
package chart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// Line is a line chart over time: one or more series of points, and
// markers (events on the same time axis, such as deliveries).
type Line struct {
	// ID makes the ids of the chart's title and description unique in
	// its page; it must be made of letters, digits and hyphens.
	ID string
	// Title is the chart's accessible name; Desc says what it shows.
	Title, Desc string
	// Unit follows each value in the tooltips ("days", "%").
	Unit string
	// From and To bound the time axis; when zero, the points and markers
	// bound it.
	From, To time.Time
	Series   []Series
	Markers  []Marker
	// Percent shows values (shares from 0 to 1) as percentages.
	Percent bool
	// Dates labels the time axis with the dates of its start, middle and
	// end rather than with the points' labels: for points at any moment,
	// not one a month.
	Dates bool
}

// Series is a named line. A point with None set is a gap: the line breaks
// there.
type Series struct {
	Name   string
	Points []Point
}

// Point is one value at one moment; Label names it in its tooltip (a month,
// a date).
type Point struct {
	At    time.Time
	Value float64
	None  bool
	Label string
}

// Marker is an event at a moment, drawn as a vertical mark with its label
// as its tooltip.
type Marker struct {
	At    time.Time
	Label string
}

// The chart's frame, in the units of its viewBox.
const (
	width, height          = 640, 240
	left, right, top, foot = 56, 16, 16, 40
	// inset keeps the first and last moments off the frame's edges, so
	// their labels stand whole.
	inset = 28
)

// Empty says whether the chart has no value to draw.
func (l Line) Empty() bool {
	for _, s := range l.Series {
		for _, p := range s.Points {
			if !p.None && finite(p.Value) {
				return false
			}
		}
	}
	return true
}

// SVG returns the chart as an <svg> element: safe to put in HTML as it is,
// every text in it escaped. A chart with no value says "no data" in its
// frame.
func (l Line) SVG() string {
	var b strings.Builder
	id := safeID(l.ID)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`, width, height, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(l.Title), id, esc(l.description()))
	x0, x1 := l.timeRange()
	lo, hi := l.valueRange()
	xs := scale(float64(x0.UnixMilli()), float64(x1.UnixMilli()), left+inset, width-right-inset)
	ys := scale(lo, hi, height-foot, top)
	// Axes and grid.
	for _, v := range ticks(lo, hi) {
		y := ys(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%s" x2="%d" y2="%s" stroke="#ddd" stroke-width="1"/>`, left, num(y), width-right, num(y))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" font-size="11" fill="#444">%s</text>`, left-6, num(y+4), esc(l.tick(v)))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444" stroke-width="1"/>`, left, height-foot, width-right, height-foot)
	for _, t := range l.axisLabels(x0, x1) {
		x := xs(float64(t.At.UnixMilli()))
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" font-size="11" fill="#444">%s</text>`, num(x), height-foot+16, esc(t.Label))
	}
	if l.Empty() {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="14" fill="#444">no data</text>`, (left+width-right)/2, (top+height-foot)/2)
	}
	for _, m := range l.Markers {
		x := num(xs(float64(m.At.UnixMilli())))
		fmt.Fprintf(&b, `<g class="marker"><title>%s</title><line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#7a4b00" stroke-width="2" stroke-dasharray="3 3"/><path d="M%s %d l-6 -10 h12 z" fill="#7a4b00"/></g>`,
			esc(m.Label), x, top, x, height-foot, x, height-foot)
	}
	for i, s := range l.Series {
		style := seriesStyles[i%len(seriesStyles)]
		var path strings.Builder
		pen := "M"
		for _, p := range s.Points {
			if p.None || !finite(p.Value) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%s %s ", pen, num(xs(float64(p.At.UnixMilli()))), num(ys(p.Value)))
			pen = "L"
		}
		fmt.Fprintf(&b, `<g class="series"><path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.TrimSpace(path.String()), style.color, style.dash)
		for _, p := range s.Points {
			if p.None || !finite(p.Value) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="4" fill="%s"><title>%s</title></circle>`,
				num(xs(float64(p.At.UnixMilli()))), num(ys(p.Value)), style.color, esc(pointLabel(s.Name, p.Label, l.value(p.Value))))
		}
		b.WriteString(`</g>`)
	}
	if len(l.Series) > 1 {
		for i, s := range l.Series {
			style := seriesStyles[i%len(seriesStyles)]
			x := left + i*150
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d" font-size="11" fill="#222">%s</text>`,
				x, height-8, x+24, height-8, style.color, style.dash, x+30, height-4, esc(s.Name))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// seriesStyles tell series apart by more than colour: each has its dash.
var seriesStyles = []struct{ color, dash string }{
	{"#1f5fa8", ""},
	{"#a83a1f", ` stroke-dasharray="6 4"`},
	{"#2f7d32", ` stroke-dasharray="2 3"`},
}

func pointLabel(series, label, value string) string {
	parts := []string{}
	for _, s := range []string{series, label} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return value
	}
	return strings.Join(parts, ", ") + ": " + value
}

// description is Desc, or what the chart holds.
func (l Line) description() string {
	if l.Desc != "" {
		return l.Desc
	}
	if l.Empty() {
		return "No data."
	}
	return "A line chart; the table beside it holds the same figures."
}

// tick shows a value on the value axis: a percentage for a share, else the
// number alone (the unit is in the chart's description and tooltips).
func (l Line) tick(v float64) string {
	if l.Percent {
		return Number(v*100) + "%"
	}
	return Number(v)
}

// value shows a value with the chart's unit.
func (l Line) value(v float64) string {
	if l.Percent {
		return Number(v*100) + "%"
	}
	if l.Unit != "" {
		return Number(v) + " " + l.Unit
	}
	return Number(v)
}

// Number shows a value to at most two decimals, without trailing zeros;
// a minus sign for a negative one.
func Number(v float64) string {
	if !finite(v) {
		return "—"
	}
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	if s == "-0" {
		s = "0"
	}
	return strings.Replace(s, "-", "−", 1)
}

// timeRange is the chart's time axis: From and To, or the span of its
// points and markers; one moment is widened to a day each side.
func (l Line) timeRange() (time.Time, time.Time) {
	from, to := l.From, l.To
	if from.IsZero() || to.IsZero() {
		var lo, hi time.Time
		see := func(t time.Time) {
			if lo.IsZero() || t.Before(lo) {
				lo = t
			}
			if hi.IsZero() || t.After(hi) {
				hi = t
			}
		}
		for _, s := range l.Series {
			for _, p := range s.Points {
				see(p.At)
			}
		}
		for _, m := range l.Markers {
			see(m.At)
		}
		if from.IsZero() {
			from = lo
		}
		if to.IsZero() {
			to = hi
		}
	}
	if !to.After(from) {
		from, to = from.Add(-24*time.Hour), from.Add(24*time.Hour)
	}
	return from, to
}

// valueRange is the value axis: the values' range, from zero when they
// are all positive (or all negative), widened when it is a single value.
func (l Line) valueRange() (float64, float64) {
	lo, hi := 0.0, 0.0
	for _, s := range l.Series {
		for _, p := range s.Points {
			if p.None || !finite(p.Value) {
				continue
			}
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		}
	}
	if l.Percent {
		lo, hi = math.Min(lo, 0), math.Max(hi, 1)
	}
	if hi == lo {
		hi = lo + 1
	}
	return lo, hi
}

// ticks are three to six round values spanning lo to hi.
func ticks(lo, hi float64) []float64 {
	if !finite(hi-lo) || hi <= lo {
		return []float64{lo, hi}
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/4)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if (hi-lo)/(step*m) <= 5 {
			step *= m
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6 && len(out) < 12; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// axisLabel is a label on the time axis.
type axisLabel struct {
	At    time.Time
	Label string
}

// axisLabels are the labels of the time axis: the points' own labels
// when there are few, else the first and last moments.
func (l Line) axisLabels(from, to time.Time) []axisLabel {
	if l.Dates {
		mid := from.Add(to.Sub(from) / 2)
		return []axisLabel{{from, from.UTC().Format(time.DateOnly)}, {mid, mid.UTC().Format(time.DateOnly)}, {to, to.UTC().Format(time.DateOnly)}}
	}
	if len(l.Series) > 0 && len(l.Series[0].Points) <= 12 {
		var out []axisLabel
		for _, p := range l.Series[0].Points {
			if p.Label != "" {
				out = append(out, axisLabel{p.At, p.Label})
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return []axisLabel{{from, from.UTC().Format(time.DateOnly)}, {to, to.UTC().Format(time.DateOnly)}}
}

// scale maps [a, b] onto [c, d].
func scale(a, b, c, d float64) func(float64) float64 {
	return func(v float64) float64 { return c + (v-a)/(b-a)*(d-c) }
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// num writes a coordinate to a tenth.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// esc escapes text for SVG's text and attributes: <, >, &, ' and ".
func esc(s string) string { return html.EscapeString(s) }

// safeID keeps the letters, digits and hyphens of id: it is written into
// attributes and references.
func safeID(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "chart"
	}
	return b.String()
}
