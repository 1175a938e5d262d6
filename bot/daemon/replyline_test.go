package daemon_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// A CM on a phone writes /reply and the case's id, then the answer on the
// lines below: the answer goes to the member, lines and all, and the CM is
// told so. (The answer's first line was once read as part of the case's id:
// "Could not decide case c-…\nMerci: … not found", nothing sent.)
func TestTelegramReplyOnTheNextLine(t *testing.T) {
	api := tgfake.New(t)
	start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	const group, desk = -100200, -100500
	for i, sep := range []string{"\n", "\n\n", " \n", "\t"} {
		user := int64(100 + i)
		api.Push(groupMessage(group, user, "Eve", "FREE NITRO here"))
		var id string
		testsync.Eventually(t, "the case card", func() bool {
			for _, c := range find(api, "sendMessage", "chat_id", strconv.Itoa(desk)) {
				if text := c.Get("text"); strings.Contains(text, "(id "+strconv.FormatInt(user, 10)+")") {
					id, _, _ = strings.Cut(strings.TrimPrefix(text, "<b>Case "), "<")
					return true
				}
			}
			return false
		})
		answer := "Merci, on regarde ça.\nL'équipe " + strconv.Itoa(i)
		api.Push(groupMessage(desk, 42, "Ann", "/reply "+id+sep+answer))
		testsync.Eventually(t, "the CM told", func() bool {
			return len(find(api, "sendMessage", "text", "Reply sent for case "+id+".")) == 1 ||
				len(find(api, "sendMessage", "text", "Could not decide case")) > 0
		})
		if got := find(api, "sendMessage", "text", "Could not decide case"); len(got) > 0 {
			t.Fatalf("%q between the case and the answer: the CM was told %q", sep, got[0].Get("text"))
		}
		testsync.Eventually(t, "the answer in the group", func() bool {
			return len(find(api, "sendMessage", "chat_id", strconv.Itoa(group))) == i+1
		})
		if got := find(api, "sendMessage", "chat_id", strconv.Itoa(group))[i].Get("text"); got != answer {
			t.Errorf("%q between the case and the answer: the member got %q, want %q", sep, got, answer)
		}
	}
}
