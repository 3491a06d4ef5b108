package api

import (
	"bytes"
	"testing"
)

// The cache of renderings is bounded by count and by bytes, keeps the
// newest, and never keeps a rendering larger than its whole budget.
func TestTheRoadmapCacheKeepsAtMostItsBudget(t *testing.T) {
	var rc roadmapCache
	body := bytes.Repeat([]byte("x"), 3<<20) // three of these pass the 8 MiB
	for seq := range uint64(5) {
		rc.put(roadmapKey{seq: seq}, body)
		if rc.bytes > roadmapCacheBytes {
			t.Fatalf("after %d renderings the cache holds %d bytes", seq+1, rc.bytes)
		}
	}
	for seq, want := range []bool{false, false, false, true, true} {
		if _, ok := rc.get(roadmapKey{seq: uint64(seq)}); ok != want {
			t.Errorf("rendering %d kept: %v, want %v", seq, ok, want)
		}
	}
	rc.put(roadmapKey{seq: 99}, bytes.Repeat([]byte("x"), roadmapCacheBytes+1))
	if _, ok := rc.get(roadmapKey{seq: 99}); ok {
		t.Error("a rendering larger than the budget was kept")
	}
	small := []byte("{}\n")
	for seq := range uint64(100) {
		rc.put(roadmapKey{seq: 1000 + seq}, small)
	}
	if len(rc.entries) != roadmapCacheSize || len(rc.order) != roadmapCacheSize {
		t.Errorf("%d renderings kept, want %d", len(rc.entries), roadmapCacheSize)
	}
}

// A rendering in the past is kept from its second request, if that comes
// while the first is among the last askedSize remembered.
func TestTheRoadmapCacheRemembersAtMostAskedSizeRequests(t *testing.T) {
	var rc roadmapCache
	if rc.askedBefore(roadmapKey{seq: 1}) {
		t.Fatal("a first request counts as asked before")
	}
	if !rc.askedBefore(roadmapKey{seq: 1}) {
		t.Fatal("a second request does not count as asked before")
	}
	if rc.askedBefore(roadmapKey{seq: 1, byObjective: true}) {
		t.Fatal("the other view of the same point counts as asked before")
	}
	for seq := range uint64(askedSize) {
		rc.askedBefore(roadmapKey{seq: 100 + seq})
	}
	if len(rc.asked) != askedSize || len(rc.askedAt) != askedSize {
		t.Fatalf("%d and %d requests remembered, want %d", len(rc.asked), len(rc.askedAt), askedSize)
	}
	if rc.askedBefore(roadmapKey{seq: 1}) {
		t.Error("a request pushed out by askedSize others is still remembered")
	}
}
