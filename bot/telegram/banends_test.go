package telegram

import (
	"testing"
	"time"
)

// Telegram ends a member's ban by itself (until_date, up to 366 days); a
// chat writing as itself is banned until unbanned (banChatSenderChat takes
// no date), as is a member for longer: those the handlers lift.
func TestBanEnds(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{})
	member, channel := groupEvent(10, "7"), groupEvent(11, "-1001111111111")
	tests := []struct {
		name string
		ok   bool
		got  bool
	}{
		{"a member for a day", true, c.BanEnds(member, 24*time.Hour)},
		{"a member for 366 days", true, c.BanEnds(member, maxRestriction)},
		{"a member for 400 days", false, c.BanEnds(member, 400*24*time.Hour)},
		{"a member for good", false, c.BanEnds(member, 0)},
		{"a channel for a day", false, c.BanEnds(channel, 24*time.Hour)},
	}
	for _, tt := range tests {
		if tt.got != tt.ok {
			t.Errorf("%s: BanEnds = %v, want %v", tt.name, tt.got, tt.ok)
		}
	}
}
