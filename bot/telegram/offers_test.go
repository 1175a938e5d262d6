package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestCardsOfferWhatThePlatformCan: a card in the Telegram desk chat, as
// the fake Bot API receives it, offers only the buttons the case's platform
// can carry out on that message, the others in their usual places: no
// Delete on a Messenger message, no Ban on Instagram, no Hide or Delete on
// an @mention on another account's media, no Mute on a Page or on a chat
// writing as itself in a Telegram group, Keep only for a platform that is off.
// A press of a button the card does not show (an older card's) is refused,
// nothing done.
func TestCardsOfferWhatThePlatformCan(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	dc, err := discord.New(discord.Config{Token: "offers-test"})
	if err != nil {
		t.Fatal(err)
	}
	// The platforms are built as vigie builds them; none is called: the
	// cards only ask what each can do.
	m := meta.New(meta.Config{PageToken: "page-token", AppSecret: "secret", PageID: "500"})
	platforms := map[string]bot.Platform{"telegram": c, "discord": dc}
	for _, p := range m.Platforms() {
		platforms[p.Name()] = p
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: platforms, Store: st,
		Desk: desktest.Desk{Poster: c.Desk(cmds), Cmds: &cmds.Commands}, Retry: handlers.Retry{Base: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	ctx := context.Background()

	channelPost := groupEvent(11, "-1001111111111")
	fbComment := bot.Event{ID: "500_1_2", Platform: "facebook", Kind: bot.KindComment, Space: "500", Channel: "500_1", Author: bot.Author{ID: "7001"}, Text: "spam", At: at(t0)}
	fbUnnamed := fbComment
	fbUnnamed.ID, fbUnnamed.Author.ID = "500_1_3", "unnamed:500_1_3"
	messenger := bot.Event{ID: "m_1", Platform: "facebook", Kind: bot.KindDM, Space: "500", Channel: "7002", Author: bot.Author{ID: "7002"}, Text: "spam", At: at(t0)}
	igComment := bot.Event{ID: "1790", Platform: "instagram", Kind: bot.KindComment, Space: "178", Channel: "media1", Author: bot.Author{ID: "ig7"}, Text: "spam", At: at(t0)}
	igMention := igComment
	igMention.ID = "1791:mention"
	igDM := bot.Event{ID: "ig_m_1", Platform: "instagram", Kind: bot.KindDM, Space: "178", Channel: "ig8", Author: bot.Author{ID: "ig8"}, Text: "spam", At: at(t0)}
	discordMsg := bot.Event{ID: "900", Platform: "discord", Kind: bot.KindMessage, Space: "1", Channel: "2", Author: bot.Author{ID: "3"}, Text: "spam", At: at(t0)}
	off := bot.Event{ID: "x1", Platform: "mastodon", Kind: bot.KindMessage, Author: bot.Author{ID: "9"}, Text: "spam", At: at(t0)}

	hide := []bot.Action{{Kind: bot.ActHide}}
	tests := []struct {
		name      string
		ev        bot.Event
		suggested []bot.Action
		want      string // rows of buttons, by name, "|" between rows
		refused   string // a button the card does not show, refused when pressed
	}{
		{"telegram", groupEvent(10, "7"), nil, "keep delete|mute ban reply", ""},
		{"telegram, a chat writing as itself", channelPost, nil, "keep delete|ban reply", "mute"},
		{"discord", discordMsg, nil, "keep delete|mute ban reply", ""},
		{"facebook comment", fbComment, nil, "keep hide|ban reply", "mute"},
		{"facebook comment hidden by the rule", fbComment, hide, "keep hide|ban reply|unhide", ""},
		{"facebook comment of an author Meta did not name", fbUnnamed, nil, "keep hide|reply", "ban"},
		{"messenger", messenger, nil, "keep|ban reply", "delete"},
		{"instagram comment", igComment, nil, "keep hide|reply", "ban"},
		{"instagram @mention", igMention, nil, "keep|reply", "hide"},
		{"instagram direct message", igDM, nil, "keep|reply", "delete"},
		{"a platform that is off", off, nil, "keep", "delete"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := st.OpenCase(ctx, store.Case{Event: tt.ev, Rule: fmt.Sprint("r", i), Category: "spam", Reason: "spam",
				Suggested: tt.suggested})
			if err != nil {
				t.Fatal(err)
			}
			mod.FlushCases(ctx)
			card := f.waitFor("sendMessage", 1, func(c apiCall) bool {
				return strings.Contains(c.Params.Get("reply_markup"), "v1:"+cs.ID+":")
			})
			if got := buttonNames(t, card.Params.Get("reply_markup")); got != tt.want {
				t.Errorf("buttons = %q, want %q", got, tt.want)
			}
			if tt.refused == "" {
				return
			}
			d, ok := bot.ButtonDecision(tt.refused)
			if !ok {
				t.Fatalf("no button %q", tt.refused)
			}
			d.CaseID, d.By = cs.ID, "telegram:42"
			if _, err := cmds.Decide(ctx, d); !errors.Is(err, handlers.ErrCannot) {
				t.Errorf("a press of %s = %v, want refused: %v", tt.refused, err, handlers.ErrCannot)
			}
			if got, err := st.Case(ctx, cs.ID); err != nil || got.Status != store.CaseOpen {
				t.Errorf("case after the refused press = %+v, %v; want it open", got, err)
			}
		})
	}
}

// buttonNames writes an inline keyboard as the names of its buttons (the
// end of their callback data), a row after another.
func buttonNames(t *testing.T, markup string) string {
	t.Helper()
	var kb struct {
		InlineKeyboard [][]struct {
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(markup), &kb); err != nil {
		t.Fatalf("reply_markup %q: %v", markup, err)
	}
	var rows []string
	for _, row := range kb.InlineKeyboard {
		var names []string
		for _, b := range row {
			names = append(names, b.CallbackData[strings.LastIndexByte(b.CallbackData, ':')+1:])
		}
		rows = append(rows, strings.Join(names, " "))
	}
	return strings.Join(slices.Clip(rows), "|")
}
