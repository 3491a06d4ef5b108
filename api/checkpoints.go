package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/attest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Limits of the raw log.
const (
	// rawMaxLimit is the most events one read of GET /v1/events may ask for.
	rawMaxLimit = 1_000_000
	// rawFlushEvery is how many lines of the raw log are written between
	// flushes to the client.
	rawFlushEvery = 1000
)

// ProofTree is the Merkle tree of the log the API is given: the tree the
// proofs it serves are read from (attest.Tree) and the compact ranges an
// export's manifest holds (audit.Subtrees). *proof.Tree implements it.
type ProofTree interface {
	attest.Tree
	SubtreeHashes(size int64) ([]tlog.Hash, error)
}

var _ ProofTree = (*proof.Tree)(nil)

type (
	// checkpointJSON is a signed checkpoint as the API answers it.
	checkpointJSON struct {
		ID       string    `json:"id"`
		ReviewID *string   `json:"review_id"`
		Size     int64     `json:"size"`
		Root     string    `json:"root"`
		Time     time.Time `json:"time"`
		Note     string    `json:"note"`
		Sequence uint64    `json:"sequence"`
		Version  uint64    `json:"version"`
	}
	// inclusionJSON is the answer of GET /v1/events/{seq}/proof.
	inclusionJSON struct {
		Seq        int64    `json:"seq"`
		Checkpoint int64    `json:"checkpoint"`
		LeafHash   string   `json:"leaf_hash"`
		Proof      []string `json:"proof"`
	}
	// consistencyJSON is the answer of GET /v1/checkpoints/consistency.
	consistencyJSON struct {
		From  int64    `json:"from"`
		To    int64    `json:"to"`
		Proof []string `json:"proof"`
	}
)

func checkpointAnswer(v projections.CheckpointView) checkpointJSON {
	out := checkpointJSON{
		ID: v.ID, Size: v.Size, Root: v.Root, Time: v.Time, Note: v.Note, Sequence: v.Sequence, Version: v.Sequence,
	}
	if v.ReviewID != "" {
		id := v.ReviewID
		out.ReviewID = &id
	}
	return out
}

func hashStrings(hashes []tlog.Hash) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = h.String()
	}
	return out
}

// noQuery refuses any query parameter on a route that takes none.
func noQuery(c echo.Context, what string) error {
	if q, err := query(c); err != nil || len(q) > 0 {
		return problem(ErrBadQuery, what+" takes no query parameters")
	}
	return nil
}

// publicKey answers the verifier key of the key that signs checkpoints, as
// text, for auditors to pin.
func (s *Server) publicKey(c echo.Context) error {
	if err := noQuery(c, "the public key"); err != nil {
		return err
	}
	if s.cfg.VerifierKey == "" {
		return ledger.ErrNoSigningKey
	}
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, []byte(s.cfg.VerifierKey+"\n"))
}

// signCheckpoint signs a checkpoint of the ledger as it stands. The request
// has no body, or an empty JSON object.
func (s *Server) signCheckpoint(c echo.Context) error {
	r := c.Request()
	if err := emptyBodyIsObject(c); err != nil {
		return err
	}
	var none struct{}
	req, err := readRequest(c, &none)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.SignCheckpoint(r.Context(), req)
	if err != nil {
		return err
	}
	v := res.Answer
	h := c.Response().Header()
	h.Set("ETag", etag(v.Sequence))
	h.Set("Location", "/v1/checkpoints/"+v.ID)
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusCreated, checkpointAnswer(v))
}

// listCheckpoints answers every signed checkpoint, the largest first.
func (s *Server) listCheckpoints(c echo.Context) error {
	if err := noQuery(c, "the list of checkpoints"); err != nil {
		return err
	}
	var list []checkpointJSON
	s.cfg.Views.Read(func(st *projections.State) { list = wireList(st.Checkpoints(), checkpointAnswer) })
	return answerList(c, "checkpoints", list)
}

// latestCheckpoint answers the largest checkpoint.
func (s *Server) latestCheckpoint(c echo.Context) error {
	if err := noQuery(c, "the latest checkpoint"); err != nil {
		return err
	}
	v, err := s.attest.Latest()
	if err != nil {
		return err
	}
	return answerAt(c, v.Sequence, checkpointAnswer(v))
}

// getCheckpoint answers one checkpoint by id: a checkpoint's, or a closed
// review's for the checkpoint of its close.
func (s *Server) getCheckpoint(c echo.Context) error {
	if err := noQuery(c, "a checkpoint"); err != nil {
		return err
	}
	id := c.Param("id")
	var v projections.CheckpointView
	var ok bool
	s.cfg.Views.Read(func(st *projections.State) { v, ok = st.CheckpointView(id) })
	if !ok {
		return problem(roadmap.ErrNotFound, fmt.Sprintf("no checkpoint %q", clip(id)))
	}
	return answerAt(c, v.Sequence, checkpointAnswer(v))
}

// sizeParam reads a query parameter that must be given once, as a whole
// number from 0 to 2^63-1.
func sizeParam(q url.Values, name, what string) (int64, error) {
	values, ok := q[name]
	if !ok || len(values) != 1 {
		return 0, problem(ErrBadQuery, fmt.Sprintf("give %s once: %s", name, what))
	}
	n, err := strconv.ParseUint(values[0], 10, 63)
	if err != nil {
		return 0, problem(ErrBadQuery, fmt.Sprintf("%s must be a whole number from 0 to %d: %s", name, int64(math.MaxInt64), what))
	}
	return int64(n), nil
}

// queryOf is the request's query, refused when it has parameters other
// than known.
func queryOf(c echo.Context, known ...string) (url.Values, error) {
	q, err := query(c)
	if err != nil {
		return nil, err
	}
	for name := range q {
		if !slices.Contains(known, name) {
			return nil, problem(ErrBadQuery, fmt.Sprintf("unknown query parameter %q; this takes %s", clip(name), strings.Join(known, ", ")))
		}
	}
	return q, nil
}

// proofRequest reads what a request for an inclusion proof names: the
// event's sequence {seq} and the size of the signed checkpoint whose tree
// it is proved in (?checkpoint=).
func proofRequest(c echo.Context) (seq, size int64, err error) {
	q, err := queryOf(c, "checkpoint")
	if err != nil {
		return 0, 0, err
	}
	if size, err = sizeParam(q, "checkpoint", "the size of a signed checkpoint"); err != nil {
		return 0, 0, err
	}
	raw := c.Param("seq")
	n, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != raw {
		return 0, 0, problem(roadmap.ErrNotFound, fmt.Sprintf("no event %q: a ledger sequence is a whole number from 1", clip(raw)))
	}
	return int64(n), size, nil
}

// eventProof answers the inclusion proof of the event at seq in the tree of
// a signed checkpoint.
func (s *Server) eventProof(c echo.Context) error {
	seq, size, err := proofRequest(c)
	if err != nil {
		return err
	}
	inc, err := s.attest.Inclusion(seq, size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inclusionJSON{Seq: inc.Seq, Checkpoint: inc.Checkpoint.Size, LeafHash: inc.Leaf.String(), Proof: hashStrings(inc.Proof)})
}

// consistencyProof answers the proof that the tree of one signed checkpoint
// extends the tree of an older one.
func (s *Server) consistencyProof(c echo.Context) error {
	q, err := queryOf(c, "from", "to")
	if err != nil {
		return err
	}
	from, err := sizeParam(q, "from", "the size of the older signed checkpoint")
	if err != nil {
		return err
	}
	to, err := sizeParam(q, "to", "the size of the newer signed checkpoint")
	if err != nil {
		return err
	}
	if from > to {
		return problem(ErrBadQuery, fmt.Sprintf("from (%d) must not be larger than to (%d): a tree only grows", from, to))
	}
	cons, err := s.attest.Consistency(from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, consistencyJSON{From: cons.From.Size, To: cons.To.Size, Proof: hashStrings(cons.Proof)})
}

// rawEvents streams the log as JSON Lines, each line the event's sequence and
// its stored body, byte for byte: {"seq":N,"event":BODY}. It reads the log as
// it writes, and stops at the last event the projections had applied when
// the request came, or after limit events.
func (s *Server) rawEvents(c echo.Context) error {
	q, err := queryOf(c, "after", "limit")
	if err != nil {
		return err
	}
	for name, values := range q {
		if len(values) > 1 {
			return problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(values)))
		}
	}
	var after uint64
	if q.Has("after") {
		if after, err = strconv.ParseUint(q.Get("after"), 10, 63); err != nil {
			return problem(ErrBadQuery, fmt.Sprintf("after must be a ledger sequence: a whole number from 0 to %d", uint64(math.MaxInt64)))
		}
	}
	limit := 0
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > rawMaxLimit {
			return problem(ErrBadQuery, fmt.Sprintf("limit must be a whole number from 1 to %d", rawMaxLimit))
		}
		limit = n
	}
	to := s.cfg.Views.Sequence()
	if err := s.cfg.Ready(); errors.Is(err, projections.ErrPoison) {
		// The projections stopped on a message they cannot apply: the raw
		// log goes on to the log's end, so that an auditor sees it.
		if to, err = s.cfg.Log.LastSequence(c.Request().Context()); err != nil {
			return err
		}
	}

	c.Response().Header().Set(echo.HeaderContentType, mediaNDJSON)
	st, err := s.openStream(c, "raw log")
	if err != nil {
		return err
	}
	if after >= to {
		return st.end(0, nil)
	}
	ctx := c.Request().Context()
	line := make([]byte, 0, 2048)
	rows := 0
	write := func(seq uint64, body []byte) error {
		line = eventlog.AppendRawLine(line[:0], seq, body)
		if _, err := st.Write(line); err != nil {
			return err
		}
		rows++
		if rows%rawFlushEvery == 0 {
			if err := st.Flush(); err != nil {
				return err
			}
		}
		if seq >= to || rows == limit {
			return errStopRead
		}
		return nil
	}
	if raw, ok := s.cfg.Log.(rawFollower); ok {
		// The bytes are passed on as stored: nothing to parse.
		err = raw.FollowRaw(ctx, after+1, write)
	} else {
		err = s.cfg.Log.Follow(ctx, after+1, func(rec eventlog.Record) error { return write(rec.Sequence, rec.Body) })
	}
	if errors.Is(err, errStopRead) {
		err = nil
	}
	return st.end(rows, err)
}
