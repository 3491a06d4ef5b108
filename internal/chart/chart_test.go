package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

// parse checks that svg is well-formed XML and returns its elements'
// names, attributes and texts, in order.
func parse(t *testing.T, svg string) []xml.Token {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var out []xml.Token
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed: %v\n%s", err, svg)
		}
		out = append(out, xml.CopyToken(tok))
	}
}

// texts are the texts inside the elements named name.
func texts(t *testing.T, svg, name string) []string {
	t.Helper()
	var out []string
	in := 0
	for _, tok := range parse(t, svg) {
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == name {
				in++
				out = append(out, "")
			}
		case xml.EndElement:
			if tok.Name.Local == name {
				in--
			}
		case xml.CharData:
			if in > 0 {
				out[len(out)-1] += string(tok)
			}
		}
	}
	return out
}

// attrs are the values of attribute attr of the elements named name.
func attrs(t *testing.T, svg, name, attr string) []string {
	t.Helper()
	var out []string
	for _, tok := range parse(t, svg) {
		if s, ok := tok.(xml.StartElement); ok && s.Name.Local == name {
			for _, a := range s.Attr {
				if a.Name.Local == attr {
					out = append(out, a.Value)
				}
			}
		}
	}
	return out
}

func TestUserTextIsEscaped(t *testing.T) {
	hostile := `Fix <script>alert("x")</script> & 'quotes'`
	l := Line{ID: `k"><script>`, Title: hostile, Desc: hostile,
		Series:  []Series{{Name: hostile, Points: []Point{{At: day(1), Value: 1, Label: hostile}, {At: day(2), Value: 2}}}},
		Markers: []Marker{{At: day(2), Label: hostile}}}
	svg := l.SVG()
	if strings.Contains(svg, "<script") || strings.Contains(svg, `"x"`) || strings.Contains(svg, `'quotes'`) {
		t.Fatalf("user text reached the SVG unescaped:\n%s", svg)
	}
	for _, want := range []string{"&lt;script&gt;", "&amp;", "&#34;x&#34;", "&#39;quotes&#39;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q:\n%s", want, svg)
		}
	}
	titles := texts(t, svg, "title")
	if len(titles) != 4 || titles[0] != hostile || titles[1] != hostile || !strings.HasPrefix(titles[2], hostile+", "+hostile+": ") {
		t.Errorf("the titles read %q, want the hostile text back as text (the chart's, the marker's, each point's)", titles)
	}
	if got := attrs(t, svg, "svg", "aria-labelledby"); len(got) != 1 || got[0] != "kscript-title kscript-desc" {
		t.Errorf("aria-labelledby %q, want the id kept to letters, digits and hyphens", got)
	}
}

func TestAccessibleName(t *testing.T) {
	svg := Line{ID: "rate", Title: "Delivery rate per month", Series: []Series{{Points: []Point{{At: day(1), Value: .5}}}}, Percent: true}.SVG()
	if got := attrs(t, svg, "svg", "role"); len(got) != 1 || got[0] != "img" {
		t.Errorf("role %q, want img", got)
	}
	if got := attrs(t, svg, "title", "id"); len(got) == 0 || got[0] != "rate-title" {
		t.Errorf("the title's id is %q, want rate-title", got)
	}
	if got := texts(t, svg, "title"); got[0] != "Delivery rate per month" {
		t.Errorf("the accessible name is %q", got[0])
	}
	if got := texts(t, svg, "title"); got[1] != "50%" {
		t.Errorf("the point reads %q, want 50%%", got[1])
	}
}

func TestScales(t *testing.T) {
	cases := []struct {
		name   string
		points []Point
		// want: the points' y, top to bottom of the frame (top=16, foot at 200)
		want []string
	}{
		{"one point stands in the middle of the time axis, at the top of a scale from zero", []Point{{At: day(3), Value: 7}}, []string{"16"}},
		{"equal values draw a flat line", []Point{{At: day(1), Value: 3}, {At: day(2), Value: 3}, {At: day(3), Value: 3}}, []string{"16", "16", "16"}},
		{"zero alone sits on the axis", []Point{{At: day(1), Value: 0}}, []string{"200"}},
		{"negative values go below zero", []Point{{At: day(1), Value: -2}, {At: day(2), Value: 2}}, []string{"200", "16"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svg := Line{ID: "c", Title: "t", Series: []Series{{Points: c.points}}}.SVG()
			ys := attrs(t, svg, "circle", "cy")
			if strings.Join(ys, ",") != strings.Join(c.want, ",") {
				t.Errorf("the points stand at y %q, want %q", ys, c.want)
			}
			xs := attrs(t, svg, "circle", "cx")
			for _, x := range xs {
				if x == "NaN" || strings.Contains(x, "Inf") {
					t.Errorf("a point at x %s", x)
				}
			}
			if len(c.points) == 1 && xs[0] != "340" {
				t.Errorf("one point at x %s, want the middle, 340", xs[0])
			}
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("the chart holds a NaN or an infinity:\n%s", svg)
			}
		})
	}
}

func TestGapsAndEmptyCharts(t *testing.T) {
	l := Line{ID: "g", Title: "t", Series: []Series{{Points: []Point{{At: day(1), Value: 1}, {At: day(2), None: true}, {At: day(3), Value: 2}}}}}
	svg := l.SVG()
	if d := attrs(t, svg, "path", "d"); len(d) == 0 || strings.Count(d[0], "M") != 2 || strings.Contains(d[0], "L") {
		t.Errorf("the line is %q, want two pieces broken at the gap", d)
	}
	empty := Line{ID: "e", Title: "t", From: day(1), To: day(30), Series: []Series{{Points: []Point{{At: day(1), None: true}}}}}
	if !empty.Empty() {
		t.Error("a chart of gaps only is not Empty")
	}
	if got := texts(t, empty.SVG(), "text"); !contains(got, "no data") {
		t.Errorf("an empty chart reads %q, want no data", got)
	}
	if got := texts(t, empty.SVG(), "desc"); got[0] != "No data." {
		t.Errorf("an empty chart's description is %q", got)
	}
}

func TestMarkersStandOnTheTimeAxis(t *testing.T) {
	l := Line{ID: "m", Title: "KPI", From: day(1), To: day(21),
		Series:  []Series{{Points: []Point{{At: day(1), Value: 1}, {At: day(21), Value: 2}}}},
		Markers: []Marker{{At: day(11), Label: "Delivered: Checkout"}}}
	svg := l.SVG()
	xs := attrs(t, svg, "line", "x1")
	cx := attrs(t, svg, "circle", "cx")
	if cx[0] != "84" || cx[1] != "596" {
		t.Fatalf("the points at %q, want the ends of the axis", cx)
	}
	if !contains(xs, "340") {
		t.Errorf("no marker halfway along the axis (x 340): lines at %q", xs)
	}
	if !contains(texts(t, svg, "title"), "Delivered: Checkout") {
		t.Error("the marker has no tooltip naming it")
	}
	l.Dates = true
	if got := texts(t, l.SVG(), "text"); !contains(got, "2026-11-01") || !contains(got, "2026-11-11") || !contains(got, "2026-11-21") {
		t.Errorf("a dated axis reads %q, want its start, middle and end", got)
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{0.5: "0.5", 8.5: "8.5", 17: "17", -2.25: "−2.25", 1.0 / 3: "0.33", -0.001: "0"} {
		if got := Number(v); got != want {
			t.Errorf("Number(%v) = %q, want %q", v, got, want)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
