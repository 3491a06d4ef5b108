package pack

import (
	"bytes"
	"html/template"
	"io"
)

// HTML writes p as one standalone HTML5 document: its styles inline, no
// script, nothing loaded from anywhere (a content security policy says so to
// the browser too), laid out to print. Each part of Sections is a <section>
// with the part's id and a numbered <h2>. Every text is escaped by
// html/template, and links in evidence stay text. It returns the error of
// rendering or of writing to w.
func HTML(w io.Writer, p Pack) error {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, htmlData{Pack: p, Sections: Sections()}); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

type htmlData struct {
	Pack
	Sections []Section
}

// htmlTemplate is parsed once; it never changes after.
var htmlTemplate = template.Must(template.New("pack").Funcs(template.FuncMap{
	"time":           formatTime,
	"seq":            seq,
	"inc":            func(i int) int { return i + 1 },
	"progressTable":  progressTable,
	"decisionsTable": decisionsTable,
	"capacityTable":  capacityTable,
	"riskTables":     riskTables,
	"pendingTable":   pendingTable,
	"healthTables":   healthTables,
	"diffTables":     diffTables,
	"numbersIntro":   numbersIntro,
	"figuresTable":   figuresTable,
	"kpiTable":       kpiTable,
	"kpiChart":       kpiChart,
}).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · governance review pack</title>
<link rel="icon" href="data:,">
<style>
:root { color-scheme: light; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 70rem; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid #1a1a1a; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .8rem 0 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; font-size: .92em; }
th, td { border: 1px solid #b8b8b8; padding: .25rem .45rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #efefef; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
td.when { white-space: nowrap; }
ul.evidence { margin: 0; padding-left: 1rem; overflow-wrap: anywhere; }
p.kpi { margin: 0 0 .3rem; color: #444; }
p.empty { color: #555; font-style: italic; }
.over { font-weight: 700; color: #a00000; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  @page { size: A4; margin: 14mm; }
  h2, h3 { break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p>Governance review pack for {{.Period}}.</p>
<dl class="meta">
<dt>Review</dt><dd><code>{{.ReviewID}}</code>, {{.Status}}</dd>
<dt>Opened</dt><dd>{{time .OpenedAt}}</dd>
{{- if .ClosedAt}}
<dt>Closed</dt><dd>{{time .ClosedAt}}, frozen at ledger position {{.Sequence}}</dd>
{{- else}}
<dt>Open</dt><dd>as the ledger stands at position {{.Sequence}}</dd>
{{- end}}
<dt>Period</dt><dd>the decisions after ledger position {{.SinceSequence}}, up to {{.Sequence}}</dd>
{{- if .AsOf}}
<dt>Ledger as of</dt><dd>{{time .AsOf}}</dd>
{{- end}}
<dt>Signals measured at</dt><dd>{{time .MeasuredAt}}</dd>
{{- if .ChainDigest}}
<dt>Chain heads digest</dt><dd><code>{{.ChainDigest}}</code></dd>
{{- end}}
{{- if .Notes}}
<dt>Notes</dt><dd>{{.Notes}}</dd>
{{- end}}
</dl>
</header>
<main>
{{- $p := .Pack}}
{{- range $i, $s := .Sections}}
<section id="{{$s.ID}}">
<h2>{{inc $i}}. {{$s.Title}}</h2>
{{- if eq $s.ID "goals"}}{{template "goals" $p}}
{{- else if eq $s.ID "progress"}}{{template "progress" $p}}
{{- else if eq $s.ID "decisions"}}{{template "decisions" $p}}
{{- else if eq $s.ID "capacity"}}{{template "capacity" $p}}
{{- else if eq $s.ID "risks"}}{{template "risks" $p}}
{{- else if eq $s.ID "health"}}{{template "health" $p}}
{{- else if eq $s.ID "pending"}}{{template "pending" $p}}
{{- else if eq $s.ID "diff"}}{{template "diff" $p}}
{{- else if eq $s.ID "numbers"}}{{template "numbers" $p}}
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
{{define "evidence"}}{{if .}}<ul class="evidence">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
{{- define "goalItems"}}
<table>
<thead><tr><th>Horizon</th><th>Rank</th><th>Item</th><th>Product</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.Place.Horizon}}</td><td class="num">{{.Place.Rank}}</td><td>{{.Title}}</td><td>{{.Product}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- define "goals"}}
{{- if not .Goals}}
<p class="empty">No active objectives.</p>
{{- end}}
{{- range .Goals}}
<h3 id="goal-{{.ObjectiveID}}">{{.Title}}{{if .Retired}} (retired){{end}}</h3>
<p class="kpi">KPI: {{.KPI}} · Target: {{.Target}} · Product: {{.Product}}</p>
{{- if .Items}}{{template "goalItems" .Items}}{{else}}
<p class="empty">No roadmap item serves this objective.</p>
{{- end}}
{{- end}}
<h3 id="unaligned">Unaligned</h3>
{{- if .Unaligned}}
<p>Roadmap items that serve no objective:</p>
{{- template "goalItems" .Unaligned}}
{{- else}}
<p class="empty">Every roadmap item serves an objective.</p>
{{- end}}
{{- end}}
{{- define "progress"}}{{template "table" (progressTable .)}}{{end}}
{{- define "decisions"}}{{template "table" (decisionsTable .)}}{{end}}
{{- define "capacity"}}{{template "table" (capacityTable .)}}{{end}}
{{- define "risks"}}
{{- range riskTables .}}{{template "subTable" .}}{{end}}
{{- end}}
{{- define "health"}}
{{- range healthTables .Health}}{{template "subTable" .}}{{end}}
{{- end}}
{{- define "pending"}}{{template "table" (pendingTable .)}}{{end}}
{{- define "diff"}}
{{- with .Diff}}
<p>Against the review of {{.AgainstPeriod}} (<code>{{.AgainstID}}</code>), frozen at ledger position {{.AgainstSequence}}.</p>
{{- range diffTables .}}{{template "subTable" .}}{{end}}
{{- else}}
<p class="empty">First review: nothing to compare.</p>
{{- end}}
{{- end}}
{{- define "numbers"}}
{{- with .Numbers}}
<p>{{numbersIntro .}}</p>
{{- template "subTable" (figuresTable .)}}
{{- range .Objectives}}
<h3 id="kpi-{{.ObjectiveID}}">KPI over time: {{.Title}}</h3>
<p class="kpi">KPI: {{.KPI}} · Target: {{.Target}}</p>
<figure class="chart" style="margin: .3rem 0; max-width: 44rem">{{kpiChart .}}</figure>
{{- template "table" (kpiTable .)}}
{{- end}}
{{- else}}
<p class="empty">No figures: this pack was made without the ledger's figures.</p>
{{- end}}
{{- end}}
{{- define "subTable"}}
<h3 id="{{.ID}}">{{.Title}}</h3>{{template "table" .}}
{{- end}}
{{- define "table"}}
{{- if .Rows}}
<table>
<thead><tr>{{range .Head}}<th>{{.Name}}</th>{{end}}</tr></thead>
<tbody>
{{- $head := .Head}}
{{- range .Rows}}
<tr>{{range $i, $cell := .}}<td{{with (index $head $i).Class}} class="{{.}}"{{end}}>{{template "cell" $cell}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="empty">{{.Empty}}</p>
{{- end}}
{{- end}}
{{- define "cell"}}{{if .List}}{{template "evidence" .List}}{{else if .Alarm}}<span class="over">{{.Text}}</span>{{else}}{{.Text}}{{end}}{{end}}
`
