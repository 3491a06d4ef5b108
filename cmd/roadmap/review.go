package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

const reviewUsage = `usage: roadmap review replay --server URL [--token T] --period YYYY-MM [--format text|json]

Prints the decisions of the governance review of a period in ledger order,
one numbered block each, as a board steps through them: sequence, time,
actor, type, the item or objective, where it moved (horizon and rank, before
and after), the score it was given, the rationale and the evidence.

The review is found by its period (GET /v1/reviews). An open review shows
the decisions since the previous closed review, as the ledger stands now; a
closed one the decisions frozen when it closed. --format json prints one
JSON object per decision, one per line. Exits non-zero when no review has
the period.

--token T (or ROADMAP_TOKEN) is sent with every request as
"Authorization: Bearer T".

`

// reviewConfig is what review replay's flags say.
type reviewConfig struct {
	endpoint
	period, format string
	client         *http.Client
}

var periodPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

func reviewCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		fmt.Fprint(stderr, reviewUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return nil
		}
		return fmt.Errorf("unknown review command %q: the one there is is replay", args[0])
	}
	cfg, err := parseReview(args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	return runReplay(ctx, cfg, stdout)
}

func parseReview(args []string, getenv func(string) string, stderr io.Writer) (reviewConfig, error) {
	var cfg reviewConfig
	fs := newFlagSet("review replay", reviewUsage, stderr)
	cfg.register(fs, getenv, "base URL of the ledger (ROADMAP_SERVER)")
	fs.StringVar(&cfg.period, "period", "", "the review's period, a month: YYYY-MM")
	fs.StringVar(&cfg.format, "format", "text", "text (one block per decision) or json (one object per line)")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if err := cfg.require(fs, "review replay needs --server URL and --period YYYY-MM", cfg.period); err != nil {
		return cfg, err
	}
	if !periodPattern.MatchString(cfg.period) {
		return cfg, fmt.Errorf("--period %q is not a month such as 2026-10", cfg.period)
	}
	if cfg.format != "text" && cfg.format != "json" {
		return cfg, fmt.Errorf("--format %q: give text or json", cfg.format)
	}
	return cfg, nil
}

// The answers replay reads, as api/openapi.yaml gives them.
type (
	reviewSummary struct {
		ID     string `json:"id"`
		Period string `json:"period"`
		Title  string `json:"title"`
		Status string `json:"status"`
	}
	reviewSnapshot struct {
		ID            string           `json:"id"`
		Period        string           `json:"period"`
		Title         string           `json:"title"`
		Status        string           `json:"status"`
		OpenedAt      time.Time        `json:"opened_at"`
		ClosedAt      *time.Time       `json:"closed_at"`
		SinceSequence uint64           `json:"since_sequence"`
		Sequence      uint64           `json:"sequence"`
		Decisions     []reviewDecision `json:"decisions"`
	}
	// reviewDecision is an AuditEvent: every key present, null when it does
	// not apply.
	reviewDecision struct {
		Seq           uint64          `json:"seq"`
		At            time.Time       `json:"at"`
		Actor         string          `json:"actor"`
		Type          string          `json:"type"`
		AggregateType string          `json:"aggregate_type"`
		AggregateID   string          `json:"aggregate_id"`
		Product       *string         `json:"product"`
		Title         *string         `json:"title"`
		Rationale     *string         `json:"rationale"`
		Evidence      []string        `json:"evidence"`
		From          *place          `json:"from"`
		To            *place          `json:"to"`
		Score         json.RawMessage `json:"score"`
	}
	place struct {
		Horizon *string `json:"horizon"`
		Rank    *int    `json:"rank"`
	}
)

// maxSnapshot bounds the review read: its roadmap and a month of decisions.
const maxSnapshot = 512 << 20

// runReplay prints the decisions of cfg.period's review.
func runReplay(ctx context.Context, cfg reviewConfig, stdout io.Writer) error {
	r := &verify.Remote{Server: cfg.server, Token: cfg.token, Client: cfg.client}
	if r.Client == nil {
		r.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	var list struct {
		Reviews []reviewSummary `json:"reviews"`
	}
	if err := getJSON(ctx, r, &list, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.ListReviews(ctx, client.Accept("application/json"))
	}); err != nil {
		return fmt.Errorf("the reviews: %w", err)
	}
	var found *reviewSummary
	var periods []string
	for i, rv := range list.Reviews {
		periods = append(periods, rv.Period)
		if rv.Period == cfg.period {
			found = &list.Reviews[i]
			break
		}
	}
	if found == nil {
		slices.Sort(periods)
		known := "the ledger has no review yet"
		if len(periods) > 0 {
			known = "the ledger has reviews for " + strings.Join(periods, ", ")
		}
		return fmt.Errorf("no review has the period %s: %s", cfg.period, known)
	}
	var snap reviewSnapshot
	if err := getJSON(ctx, r, &snap, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetReview(ctx, found.ID, client.Accept("application/json"))
	}); err != nil {
		return fmt.Errorf("the review of %s: %w", cfg.period, err)
	}
	if snap.ID != found.ID || snap.Period != cfg.period {
		return fmt.Errorf("the server answered review %s of %s, asked for %s of %s", snap.ID, snap.Period, found.ID, cfg.period)
	}
	for i := 1; i < len(snap.Decisions); i++ {
		if snap.Decisions[i].Seq <= snap.Decisions[i-1].Seq {
			return fmt.Errorf("the review's decisions are not in ledger order: sequence %d after %d", snap.Decisions[i].Seq, snap.Decisions[i-1].Seq)
		}
	}
	if cfg.format == "json" {
		return replayJSON(stdout, snap)
	}
	return replayText(stdout, snap)
}

// getJSON sends the request send makes and decodes its JSON answer into
// v: the shapes replay prints, which keep the answer's keys and order.
func getJSON(ctx context.Context, r *verify.Remote, v any, send func(context.Context, *client.Client) (*http.Response, error)) error {
	res, err := r.Call(ctx, send)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(io.LimitReader(res.Body, maxSnapshot)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", res.Request.URL.RequestURI(), err)
	}
	return nil
}

// replayLine is one decision of --format json: the decision as the API
// gave it, numbered.
type replayLine struct {
	N int `json:"n"`
	reviewDecision
}

func replayJSON(w io.Writer, snap reviewSnapshot) error {
	enc := json.NewEncoder(w)
	for i, d := range snap.Decisions {
		if err := enc.Encode(replayLine{N: i + 1, reviewDecision: d}); err != nil {
			return err
		}
	}
	return nil
}

func replayText(w io.Writer, snap reviewSnapshot) error {
	state := "open: the decisions since"
	if snap.Status == "closed" && snap.ClosedAt != nil {
		state = "closed " + snap.ClosedAt.UTC().Format("2006-01-02 15:04 UTC") + ": the decisions after"
	}
	since := fmt.Sprintf("sequence %d", snap.SinceSequence)
	if snap.SinceSequence == 0 {
		since = "the start of the ledger"
	}
	esc := termtext.Escape
	fmt.Fprintf(w, "Review %s, \"%s\" (%s %s, up to sequence %d): %d decision(s)\n", esc(snap.Period), esc(snap.Title), state, since, snap.Sequence, len(snap.Decisions))
	width := len(strconv.Itoa(len(snap.Decisions)))
	indent := strings.Repeat(" ", width+2)
	for i, d := range snap.Decisions {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%*d. seq %d  %s  %s\n", width, i+1, d.Seq, d.At.UTC().Format("2006-01-02 15:04:05 UTC"), esc(d.Actor))
		what := esc(d.AggregateType)
		if d.Title != nil {
			what += " \"" + esc(*d.Title) + "\""
		}
		what += " (" + esc(d.AggregateID)
		if d.Product != nil && *d.Product != "" {
			what += ", " + esc(*d.Product)
		}
		what += ")"
		fmt.Fprintf(w, "%s%s  %s\n", indent, esc(d.Type), what)
		if d.From != nil || d.To != nil {
			fmt.Fprintf(w, "%splace:     %s -> %s\n", indent, esc(d.From.text()), esc(d.To.text()))
		}
		if s := scoreText(d.Score); s != "" {
			fmt.Fprintf(w, "%sscore:     %s\n", indent, esc(s))
		}
		if d.Rationale != nil {
			fmt.Fprintf(w, "%srationale: %s\n", indent, esc(*d.Rationale))
		}
		if d.Evidence != nil {
			ev := "(none)"
			if len(d.Evidence) > 0 {
				ev = strings.Join(mapStrings(d.Evidence, esc), "\n"+indent+"           ")
			}
			fmt.Fprintf(w, "%sevidence:  %s\n", indent, ev)
		}
	}
	return nil
}

// text is a place as a board reads it: "now #2", or "off the roadmap".
func (p *place) text() string {
	if p == nil || p.Horizon == nil {
		return "off the roadmap"
	}
	if p.Rank == nil {
		return *p.Horizon
	}
	return fmt.Sprintf("%s #%d", *p.Horizon, *p.Rank)
}

// scoreText is a score on one line: the framework, the value and the
// inputs, in the order the ledger stores them.
func scoreText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return string(raw)
	}
	var framework, value string
	var inputs []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return string(raw)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return string(raw)
		}
		name, _ := k.(string)
		s := fmt.Sprint(v)
		switch name {
		case "framework":
			framework = s
		case "value":
			value = s
		case "version":
		default:
			inputs = append(inputs, name+" "+s)
		}
	}
	out := framework + " " + value
	if len(inputs) > 0 {
		out += " (" + strings.Join(inputs, ", ") + ")"
	}
	return out
}

// mapStrings returns f of each of in.
func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}
