package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// waitsLine is what vigie logs when a card's edit waits for the edit of the
// same case's cards under way.
const waitsLine = "waits for the edit of its cards under way"

// keepAside decides keep on case id over the HTTP API, off the test's
// goroutine, and sends the answer's status on the channel it returns.
func keepAside(in *instance, token, id string) <-chan int {
	answered := make(chan int, 1)
	go func() {
		req, err := http.NewRequest("POST", in.base+"/v1/cases/"+id+"/decision", strings.NewReader(`{"outcome":"keep","by":"ann"}`))
		if err != nil {
			answered <- 0
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	return answered
}

// TestRecountHeldWhileDecidedOnTelegram: a grouped case's card is being
// edited to its new count (Telegram holds the editMessageText) when a CM
// decides the case. Once Telegram lets the recount through, the card
// shows the decision, without its buttons: the recount is not the last
// edit written.
func TestRecountHeldWhileDecidedOnTelegram(t *testing.T) {
	const token, group, desk = "t0ken", -100400, int64(-100500)
	api, in, auth := telegramGrouped(t, token)
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	var recounting atomic.Bool
	isCardEdit := func(method string, p url.Values) bool {
		return method == "editMessageText" && p.Get("chat_id") == strconv.FormatInt(desk, 10)
	}
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if isCardEdit(method, p) && strings.Contains(p.Get("reply_markup"), "callback_data") && recounting.CompareAndSwap(false, true) {
			<-held // the recount's edit, answered late
		}
		return 0, "", false
	})
	api.Push(groupMessage(group, 12, "Eve", "FREE NITRO 1"))
	testsync.Eventually(t, "the card on the desk", func() bool { return caseCards(api, strconv.FormatInt(desk, 10)) == 1 })
	card := 0
	for _, c := range api.CallsOf("sendMessage") {
		if strings.Contains(c.Params.Get("reply_markup"), "callback_data") {
			card = c.MsgID
		}
	}
	api.Push(groupMessage(group, 12, "Eve", "FREE NITRO 2"))
	id := groupedCase(t, in, auth, "12", 2)
	testsync.Eventually(t, "the recount's edit held", recounting.Load)

	answered := keepAside(in, token, id)
	edits := func() int {
		return api.Count("editMessageText", func(c tgfake.Call) bool { return isCardEdit(c.Method, c.Params) })
	}
	testsync.Eventually(t, "the decision's edit sent, or waiting for the recount's", func() bool {
		return edits() >= 2 || strings.Contains(in.logs.String(), waitsLine)
	})
	release()
	if code := <-answered; code != http.StatusOK {
		t.Fatalf("the keep answered %d, want 200", code)
	}
	// Every edit sent carried out, the last one written is the decision.
	var last url.Values
	testsync.Eventually(t, "every edit of the card carried out", func() bool {
		done := api.Edits(desk, card)
		if len(done) == 0 || len(done) < edits() {
			return false
		}
		last = done[len(done)-1]
		return true
	})
	if strings.Contains(last.Get("reply_markup"), "callback_data") || !strings.Contains(last.Get("text"), "Kept") {
		t.Errorf("the card ends as %q, its buttons %s; want it kept, without buttons", last.Get("text"), last.Get("reply_markup"))
	}
}

// TestRecountHeldWhileDecidedOnDiscord is
// TestRecountHeldWhileDecidedOnTelegram on the Discord desk (discordgo on
// the fake): Discord holds the recount's PATCH of the card.
func TestRecountHeldWhileDecidedOnDiscord(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 62)
	const token = "t0ken"
	isCardEdit := func(c discordfake.Call) bool {
		return c.Method == "PATCH" && strings.HasPrefix(c.Path, "/channels/"+deskChannel+"/messages/")
	}
	buttons := func(body map[string]any) bool {
		raw, _ := json.Marshal(body["components"])
		return strings.Contains(string(raw), "custom_id")
	}
	var recounting atomic.Bool
	release := f.Hold(func(c discordfake.Call) bool {
		return isCardEdit(c) && buttons(c.Body) && recounting.CompareAndSwap(false, true)
	})
	in := startOnly(t, discordDeskRules, map[string]string{"VIGIE_ADMIN_TOKEN": token}, []daemon.Connector{daemon.DiscordOf(cl)})
	auth := map[string]string{"Authorization": "Bearer " + token}
	const eve = "600000000000000081"
	postScams(t, f, guild, channel, eve, 700000000000000910, 1, "FREE NITRO ")
	card, _, _ := discordDeskCard(t, f, "FREE NITRO")
	postScams(t, f, guild, channel, eve, 700000000000000920, 1, "FREE NITRO again ")
	id := groupedCase(t, in, auth, eve, 2)
	testsync.Eventually(t, "the recount's edit held", recounting.Load)

	answered := keepAside(in, token, id)
	edits := func() int {
		n := 0
		for _, c := range f.Calls("PATCH", "/channels/"+deskChannel+"/messages/") {
			if isCardEdit(c) {
				n++
			}
		}
		return n
	}
	testsync.Eventually(t, "the decision's edit sent, or waiting for the recount's", func() bool {
		return edits() >= 2 || strings.Contains(in.logs.String(), waitsLine)
	})
	release()
	if code := <-answered; code != http.StatusOK {
		t.Fatalf("the keep answered %d, want 200", code)
	}
	var last map[string]any
	testsync.Eventually(t, "every edit of the card carried out", func() bool {
		done := f.Edits(deskChannel, card)
		gaveUp := 0 // vigie's client gave up on them before Discord answered
		for _, c := range f.Calls("PATCH", "/channels/"+deskChannel+"/messages/") {
			if c.Abandoned {
				gaveUp++
			}
		}
		if len(done) == 0 || len(done)+gaveUp < edits() {
			return false
		}
		last = done[len(done)-1]
		return true
	})
	if content, _ := last["content"].(string); buttons(last) || !strings.Contains(content, "Kept") {
		t.Errorf("the card ends as %q, with buttons %v; want it kept, without buttons", content, buttons(last))
	}
}
