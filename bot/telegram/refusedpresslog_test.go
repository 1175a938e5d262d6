package telegram

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A CM's press on a card whose ban Telegram refuses is logged once, at
// warning level, with all an operator needs: the case, the outcome, who
// (their id and name) and Telegram's own error. Before, the press was
// logged twice: "desk: decision" and "decision not carried out".
func TestRefusedPressLoggedOnce(t *testing.T) {
	f := newFakeBotAPI(t)
	a := newInstances(t, f, 1)[0]
	run(t, a.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	ev := groupEvent(51, "95")
	ev.Text = "achetez sur scam.example"
	c, cardMsg := openCarded(t, a, a, ev, "scam")
	msg, _ := strconv.Atoi(cardMsg)
	f.fail("banChatMember", 400, "Bad Request: not enough rights to restrict/ban chat member", 0)
	card := map[string]any{"message_id": msg, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case " + c.ID}
	f.push(callback("cb-refused", alice, card, "v1:"+c.ID+":ban"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "cb-refused" })
	testsync.Eventually(t, "the refusal logged", func() bool { return strings.Contains(a.logs.String(), `msg="decision not carried out"`) })

	var lines []string
	for _, l := range strings.Split(a.logs.String(), "\n") {
		if strings.Contains(l, "case="+c.ID) && strings.Contains(l, "not enough rights") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("the refused press logged in %d lines, want one:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"level=WARN", `msg="decision not carried out"`, "audit=true", "outcome=ban", "by=telegram:42", "name=Alice", "banChatMember"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the refused press's log line lacks %q:\n%s", want, lines[0])
		}
	}
}
