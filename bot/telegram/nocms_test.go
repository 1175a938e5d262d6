package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A desk chat with no CM in desk.cms (the starter pack's cms: []) is a desk
// nobody may use: vigie says so when it connects, and how to find a CM's id.
// With a CM, or with the desk chat's administrators allowed, it does not.
func TestDeskWithoutCMsIsTold(t *testing.T) {
	const warning = "no CM in desk.cms: nobody may press the desk's buttons or send it commands"
	for _, tt := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"no CM", Config{DeskChat: -100555}, true},
		{"a CM of Discord only", Config{DeskChat: -100555, CMs: []string{"discord:42"}}, true},
		{"a CM", Config{DeskChat: -100555, CMs: []string{"telegram:42"}}, false},
		{"the desk chat's admins", Config{DeskChat: -100555, DeskAdmins: true}, false},
		{"no desk chat", Config{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeBotAPI(t)
			c, logs := newTestClient(t, f, tt.cfg)
			stop := run(t, c, make(chan bot.Event))
			testsync.Eventually(t, "connected", func() bool { return strings.Contains(logs.String(), "msg=connected") })
			// The warning comes before the first getUpdates, if at all.
			f.waitFor("getUpdates", 1, nil)
			stop()
			if got := strings.Contains(logs.String(), warning); got != tt.want {
				t.Errorf("warned %v, want %v\n%s", got, tt.want, logs)
			}
			if tt.want && !strings.Contains(logs.String(), "user=telegram:ID") {
				t.Errorf("the warning does not say how to find a CM's id\n%s", logs)
			}
		})
	}
}
