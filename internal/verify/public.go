package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// ErrPublicPage means a public page does not hold what the ledger signed,
// or one of its entries is not proven in the signed ledger.
var ErrPublicPage = errors.New("the public page does not verify")

// PublicResult is what a verified public page says.
type PublicResult struct {
	Slug       string
	Sequence   uint64
	Entries    int
	Checkpoint proof.Checkpoint
}

// publicPage is the JSON of a public view, as GET /public/{slug}.json
// answers it.
type publicPage struct {
	Slug       string `json:"slug"`
	Sequence   uint64 `json:"sequence"`
	Checkpoint *struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
		Note string `json:"note"`
	} `json:"checkpoint"`
	Statement *string `json:"statement"`
	Entries   []struct {
		Summary    string   `json:"summary"`
		Horizon    string   `json:"horizon"`
		Objectives []string `json:"objectives"`
		Sequence   int64    `json:"sequence"`
		LeafHash   string   `json:"leaf_hash"`
		Proof      *string  `json:"proof"`
	} `json:"entries"`
}

// PublicRemote returns the ledger that serves the public page at pageURL
// (http or https; the page or its .json), reached with no token, and the
// public view's slug.
func PublicRemote(pageURL string) (*Remote, string, error) {
	u, err := url.Parse(pageURL)
	slug, ok := "", false
	if err == nil {
		slug, ok = strings.CutPrefix(strings.TrimSuffix(strings.TrimRight(u.Path, "/"), ".json"), "/public/")
	}
	if !ok || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || slug == "" || strings.Contains(slug, "/") {
		return nil, "", fmt.Errorf("%q is not the address of a public view (http or https, /public/SLUG)", pageURL)
	}
	return &Remote{Server: u.Scheme + "://" + u.Host}, slug, nil
}

// CheckPublic checks the public page at path of r against the pinned key
// vkey, trusting nothing the server says: the checkpoint the page names
// must be signed by the key; the page's statement must be signed by the
// key and say exactly what the page shows, entry by entry; and each
// entry's proof, fetched from the server, must lead from the hash of the
// event that published it to the checkpoint's root. It returns an error
// wrapping ErrPublicPage (or a proof error) naming the first thing that
// fails, and a *StatusError for an answer other than 200.
func (r *Remote) CheckPublic(ctx context.Context, slug, vkey string) (PublicResult, error) {
	body, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetPublicRoadmap(ctx, slug+".json")
	})
	if err != nil {
		return PublicResult{}, err
	}
	var page publicPage
	if err := json.Unmarshal(body, &page); err != nil {
		return PublicResult{}, fmt.Errorf("%w: /public/%s.json is not a public view's JSON: %v", ErrPublicPage, slug, err)
	}
	if page.Checkpoint == nil || page.Statement == nil {
		return PublicResult{}, fmt.Errorf("%w: the page names no signed checkpoint, so nothing on it can be checked yet", ErrPublicPage)
	}
	cp, err := proof.OpenCheckpoint([]byte(page.Checkpoint.Note), vkey)
	if err != nil {
		return PublicResult{}, fmt.Errorf("%w: its checkpoint: %w", ErrPublicPage, err)
	}
	if cp.Size != page.Checkpoint.Size || cp.Root.String() != page.Checkpoint.Root {
		return PublicResult{}, fmt.Errorf("%w: the checkpoint it names (size %d, root %s) is not the one signed (size %d, root %s)",
			ErrPublicPage, page.Checkpoint.Size, page.Checkpoint.Root, cp.Size, cp.Root)
	}
	signed, name, err := proof.OpenNote([]byte(*page.Statement), vkey)
	if err != nil {
		return PublicResult{}, fmt.Errorf("%w: its statement: %w", ErrPublicPage, err)
	}
	if name != cp.Origin {
		return PublicResult{}, fmt.Errorf("%w: the statement is signed by %q, the checkpoint by %q", ErrPublicPage, name, cp.Origin)
	}
	entries := make([]proof.PublicEntry, len(page.Entries))
	for i, e := range page.Entries {
		leaf, err := tlog.ParseHash(e.LeafHash)
		if err != nil {
			return PublicResult{}, fmt.Errorf("%w: entry %d: leaf hash %q: %v", ErrPublicPage, i+1, e.LeafHash, err)
		}
		entries[i] = proof.PublicEntry{Seq: e.Sequence, Leaf: leaf, Summary: e.Summary, Horizon: e.Horizon, Objectives: e.Objectives}
	}
	if proof.PublicText(page.Slug, page.Sequence, cp, entries) != signed {
		return PublicResult{}, fmt.Errorf("%w: the page does not say what the ledger signed for it: it was changed after it left the ledger", ErrPublicPage)
	}
	for i, e := range page.Entries {
		if e.Proof == nil {
			return PublicResult{}, fmt.Errorf("%w: entry %d (event %d) is not yet in a signed checkpoint", ErrPublicPage, i+1, e.Sequence)
		}
		if err := r.checkPublicProof(ctx, slug, cp, entries[i]); err != nil {
			return PublicResult{}, fmt.Errorf("entry %d (event %d): %w", i+1, e.Sequence, err)
		}
	}
	return PublicResult{Slug: page.Slug, Sequence: page.Sequence, Entries: len(entries), Checkpoint: cp}, nil
}

// checkPublicProof fetches the inclusion proof of e in cp from r's server
// and checks that it leads from e's leaf to cp's root. (The page's own
// link to it is not followed: the verifier knows what to ask for.)
func (r *Remote) checkPublicProof(ctx context.Context, slug string, cp proof.Checkpoint, e proof.PublicEntry) error {
	body, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetPublicProof(ctx, slug, e.Seq, &client.GetPublicProofParams{Checkpoint: cp.Size})
	})
	if err != nil {
		return err
	}
	var inc struct {
		Seq        int64    `json:"seq"`
		Checkpoint int64    `json:"checkpoint"`
		LeafHash   string   `json:"leaf_hash"`
		Proof      []string `json:"proof"`
	}
	if err := json.Unmarshal(body, &inc); err != nil {
		return fmt.Errorf("%w: the proof is not JSON: %v", ErrPublicPage, err)
	}
	if inc.Seq != e.Seq || inc.Checkpoint != cp.Size || inc.LeafHash != e.Leaf.String() {
		return fmt.Errorf("%w: the proof is of event %d, leaf %s, in the checkpoint of size %d; the page names event %d, leaf %s, size %d",
			ErrPublicPage, inc.Seq, inc.LeafHash, inc.Checkpoint, e.Seq, e.Leaf, cp.Size)
	}
	p := make(tlog.RecordProof, len(inc.Proof))
	for i, h := range inc.Proof {
		if p[i], err = tlog.ParseHash(h); err != nil {
			return fmt.Errorf("%w: proof hash %d: %v", ErrPublicPage, i+1, err)
		}
	}
	return proof.VerifyLeafInclusion(cp, e.Seq, e.Leaf, p)
}
