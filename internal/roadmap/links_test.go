package roadmap_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestDecideShareView(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	hmac := strings.Repeat("ab", 32)
	internal := roadmap.View{ID: "v1", ViewSpec: roadmap.ViewSpec{Slug: "sales", Audience: roadmap.AudienceInternal}}
	public := roadmap.View{ID: "v2", ViewSpec: roadmap.ViewSpec{Slug: "customers", Audience: roadmap.AudiencePublic}}
	deleted := roadmap.View{ID: "v3", ViewSpec: roadmap.ViewSpec{Slug: "old", Audience: roadmap.AudienceInternal}, Deleted: true}
	expires := now.Add(time.Hour)
	decide := func(v roadmap.View, cmd roadmap.ShareView) (*roadmap.TokenCreated, error) {
		return roadmap.DecideShareView(v, cmd, now)
	}
	checkDecisions(t, decide, []decisionCase[roadmap.View, roadmap.ShareView, roadmap.TokenCreated]{
		{name: "a viewer token bound to the view, expiring", on: internal, cmd: roadmap.ShareView{ExpiresIn: ptr(int64(3600)), SecretHMAC: hmac},
			want: &roadmap.TokenCreated{Name: "link to sales", Role: roadmap.RoleViewer, SecretHMAC: hmac, ExpiresAt: &expires, ViewID: "v1"}},
		{name: "a link must expire", on: internal, cmd: roadmap.ShareView{SecretHMAC: hmac}, wantErr: invalid("expires_in")},
		{name: "not after more than a year", on: internal, cmd: roadmap.ShareView{ExpiresIn: ptr(int64(400 * 24 * 3600)), SecretHMAC: hmac}, wantErr: invalid("expires_in")},
		{name: "a public view needs no link", on: public, cmd: roadmap.ShareView{ExpiresIn: ptr(int64(60)), SecretHMAC: hmac}, wantErr: conflict("public")},
		{name: "a deleted view has none", on: deleted, cmd: roadmap.ShareView{ExpiresIn: ptr(int64(60)), SecretHMAC: hmac}, wantErr: conflict("deleted")},
	})
}
