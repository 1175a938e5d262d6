package handlers

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// How long a ban lasts, as the moderators and the log read it: a ban with
// no end is "for good" whichever way it says so (a zero time for a ban given
// or found, store.ForGoodUntil for one kept), and one with an end says it,
// with the year only when it is not now's.
func TestBanLeft(t *testing.T) {
	now := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		until time.Time
		want  string
	}{
		{"no end given", time.Time{}, "for good"},
		{"no end kept", store.ForGoodUntil, "for good"},
		{"this year", now.Add(9*24*time.Hour + 7*time.Hour), "until 13 Dec 03:00 UTC"},
		{"next year", now.Add(60 * 24 * time.Hour), "until 1 Feb 2027 20:00 UTC"},
		{"another zone", now.Add(time.Hour).In(time.FixedZone("Paris", 3600)), "until 3 Dec 21:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := banLeft(tc.until, now); got != tc.want {
				t.Errorf("banLeft(%v) = %q, want %q", tc.until, got, tc.want)
			}
		})
	}
}
