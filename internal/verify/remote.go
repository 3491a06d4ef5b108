package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// Remote is a ledger reached over HTTP, as an auditor reaches it: every
// answer is checked, none is trusted.
type Remote struct {
	// Server is the ledger's base URL, without a trailing slash.
	Server string
	// Token, when not empty, is sent with every request as a bearer token.
	Token string
	// Client makes the requests; http.DefaultClient when nil. It should
	// have no overall timeout: the raw log streams for as long as it is.
	Client *http.Client
}

// StatusError is an answer other than 200.
type StatusError struct {
	Path   string
	Status int
	// Message is the problem's detail, or its title, or the body.
	Message string
	// Token says whether the request carried a token.
	Token bool
}

func (e *StatusError) Error() string {
	said := ""
	if e.Message != "" {
		said = "; the server says: " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized:
		if !e.Token {
			return fmt.Sprintf("the server wants a token (GET %s: 401 Unauthorized) and none was given: pass one with --token T or ROADMAP_TOKEN%s", e.Path, said)
		}
		return fmt.Sprintf("the server does not accept the token (GET %s: 401 Unauthorized): check the one given with --token or ROADMAP_TOKEN; it may be mistyped, revoked or for another ledger%s", e.Path, said)
	case http.StatusForbidden:
		return fmt.Sprintf("the token's role may not read GET %s (403 Forbidden): ask the ledger's administrators for a token whose role allows it%s", e.Path, said)
	}
	return fmt.Sprintf("GET %s: %d %s: %s", e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// API returns the ledger's generated client, which sends r.Token with every
// request through r.Client. It returns an error when r.Server is not a URL.
func (r *Remote) API() (*client.Client, error) {
	hc := r.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	return client.NewClient(r.Server, client.WithHTTPClient(hc), client.WithBearer(r.Token))
}

// Call sends the request send makes with the generated client, and returns
// the answer when it is 200; any other status is a *StatusError quoting the
// problem's detail, naming the request's path and query.
func (r *Remote) Call(ctx context.Context, send func(context.Context, *client.Client) (*http.Response, error)) (*http.Response, error) {
	api, err := r.API()
	if err != nil {
		return nil, err
	}
	res, err := send(ctx, api)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		var p struct{ Detail, Title string }
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &p) == nil && (p.Detail != "" || p.Title != "") {
			msg = p.Detail
			if msg == "" {
				msg = p.Title
			}
		}
		return res, &StatusError{Path: res.Request.URL.RequestURI(), Status: res.StatusCode, Message: msg, Token: r.Token != ""}
	}
	return res, nil
}

// CallSmall sends the request send makes and reads a small answer (at most
// 1 MiB) whole, within a minute; errors as Call.
func (r *Remote) CallSmall(ctx context.Context, send func(context.Context, *client.Client) (*http.Response, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := r.Call(ctx, send)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", res.Request.URL.RequestURI(), err)
	}
	return body, nil
}

// Options say what Verify checks the ledger against.
type Options struct {
	// VerifierKey opens the checkpoints: the key the auditor pinned, or the
	// server's own.
	VerifierKey string
	// KeyKind names the key in messages: "pinned" or "server's unpinned".
	KeyKind string
	// Since, when not nil, is a checkpoint kept from an earlier audit, opened
	// with VerifierKey: the latest checkpoint must extend it.
	Since *proof.Checkpoint
	// Progress, when not nil, is called after each event that checks, with
	// its sequence and the size of the checkpoint the log is checked against.
	Progress func(seq, size int64)
}

// Result is what Verify proved.
type Result struct {
	// Checkpoint is the latest signed checkpoint, which the log matches.
	Checkpoint proof.Checkpoint
	// Events is the last sequence checked, and Aggregates the number of
	// aggregates whose chains were checked.
	Events     int64
	Aggregates int
}

// Verify checks the ledger against its latest signed checkpoint: it opens
// the checkpoint with o.VerifierKey, checks that it extends o.Since, streams
// the whole raw log (GET /v1/events) and checks every event's bytes and
// hash, every chain, that no sequence is missing, and the Merkle root of the
// events the checkpoint covers. It returns the first check that fails; a
// failure of the log itself is a *Failure naming the sequence.
func (r *Remote) Verify(ctx context.Context, o Options) (Result, error) {
	var res Result
	latest, err := r.LatestCheckpoint(ctx, o.VerifierKey, o.KeyKind)
	if err != nil {
		return res, err
	}
	res.Checkpoint = latest
	if o.Since != nil {
		if err := r.CheckConsistency(ctx, *o.Since, latest); err != nil {
			return res, err
		}
	}
	var progress func(int64)
	if o.Progress != nil {
		progress = func(seq int64) { o.Progress(seq, latest.Size) }
	}
	checker, err := r.CheckLog(ctx, latest, progress)
	res.Events, res.Aggregates = checker.Checked(), checker.Aggregates()
	return res, err
}

// LatestCheckpoint returns the server's latest checkpoint, opened with
// vkey, whose kind (pinned or not) the messages name.
func (r *Remote) LatestCheckpoint(ctx context.Context, vkey, kind string) (proof.Checkpoint, error) {
	body, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetLatestCheckpoint(ctx)
	})
	var se *StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return proof.Checkpoint{}, errors.New("the ledger has no signed checkpoint yet: nothing to verify the log against (sign one with POST /v1/checkpoints)")
	}
	if err != nil {
		return proof.Checkpoint{}, fmt.Errorf("the latest checkpoint: %w", err)
	}
	var answer struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Note == "" {
		return proof.Checkpoint{}, fmt.Errorf("the latest checkpoint: the answer holds no signed note")
	}
	latest, err := proof.OpenCheckpoint([]byte(answer.Note), vkey)
	if err != nil {
		return proof.Checkpoint{}, fmt.Errorf("the latest checkpoint's signature does not verify with the %s key: %w", kind, err)
	}
	return latest, nil
}

// CheckConsistency checks, with the server's consistency proof, that latest
// extends older.
func (r *Remote) CheckConsistency(ctx context.Context, older, latest proof.Checkpoint) error {
	if older.Size > latest.Size {
		return fmt.Errorf("the latest checkpoint covers %d events, fewer than the %d of the kept checkpoint: the log shrank", latest.Size, older.Size)
	}
	body, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetConsistencyProof(ctx, &client.GetConsistencyProofParams{From: older.Size, To: latest.Size})
	})
	if err != nil {
		return fmt.Errorf("the consistency proof from %d to %d: %w", older.Size, latest.Size, err)
	}
	var answer struct {
		From, To int64
		Proof    []string
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("the consistency proof from %d to %d: %w", older.Size, latest.Size, err)
	}
	if answer.From != older.Size || answer.To != latest.Size {
		return fmt.Errorf("the consistency proof is from %d to %d, asked from %d to %d", answer.From, answer.To, older.Size, latest.Size)
	}
	p := make(tlog.TreeProof, len(answer.Proof))
	for i, s := range answer.Proof {
		if p[i], err = tlog.ParseHash(s); err != nil {
			return fmt.Errorf("the consistency proof from %d to %d: hash %d: %w", older.Size, latest.Size, i, err)
		}
	}
	if err := proof.VerifyConsistency(older, latest, p); err != nil {
		return fmt.Errorf("the latest checkpoint (size %d) does not extend the kept one (size %d): %w", latest.Size, older.Size, err)
	}
	return nil
}

// CheckLog streams the whole raw log and checks it against cp. It returns
// the Checker, whose counts hold even after a failure.
func (r *Remote) CheckLog(ctx context.Context, cp proof.Checkpoint, progress func(seq int64)) (*Checker, error) {
	checker := NewChecker(cp)
	res, err := r.Call(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetRawEvents(ctx, &client.GetRawEventsParams{After: new(int64)})
	})
	if err != nil {
		return checker, fmt.Errorf("the raw log: %w", err)
	}
	defer res.Body.Close()
	err = checker.CheckStream(res.Body, progress)
	var failure *Failure
	if err != nil && !errors.As(err, &failure) {
		if ctx.Err() != nil {
			return checker, ctx.Err()
		}
		// A read that fails part way is a log cut short: name where.
		return checker, fmt.Errorf("sequence %d: the raw log could not be read past sequence %d: %w", checker.Checked()+1, checker.Checked(), err)
	}
	if err == nil {
		err = checker.Finish()
	}
	return checker, err
}
