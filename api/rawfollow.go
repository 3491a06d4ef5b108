package api

import "context"

// rawFollower is a Log that can read the stored bodies without parsing
// them, for the raw log; *eventlog.Log is one.
type rawFollower interface {
	FollowRaw(ctx context.Context, from uint64, fn func(seq uint64, body []byte) error) error
}
