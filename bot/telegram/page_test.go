package telegram

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vigie-bot/vigie/bot"
)

func TestPageMentionsTheCMs(t *testing.T) {
	x := newDeskFixture(t)
	if err := x.desk.Page(context.Background(), "wave: 25 <angry> comments on page-1"); err != nil {
		t.Fatal(err)
	}
	got := x.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	text := got.Params.Get("text")
	if got.Params.Get("parse_mode") != "HTML" || !strings.Contains(text, "wave: 25 &lt;angry&gt; comments") ||
		!strings.Contains(text, `<a href="tg://user?id=42">`) {
		t.Errorf("page sent as %q (%s)", text, got.Params.Get("parse_mode"))
	}
}

func TestPicture(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nfake")
	for _, c := range []struct {
		name     string
		caption  string
		messages int
	}{
		{"short caption", "Report Thu 19 Nov", 0},
		{"long text first", strings.Repeat("a line of the report\n", 80), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := newDeskFixture(t)
			if err := x.desk.Picture(context.Background(), c.caption, "report.png", png); err != nil {
				t.Fatal(err)
			}
			got := x.f.waitFor("sendPhoto", 1, inChat(deskChat.id))
			if !bytes.Equal(got.Files["photo"], png) {
				t.Errorf("photo uploaded: %q", got.Files)
			}
			wantCaption := c.caption
			if c.messages > 0 {
				wantCaption = ""
			}
			if got.Params.Get("caption") != wantCaption {
				t.Errorf("caption %q", got.Params.Get("caption"))
			}
			if n := x.f.count("sendMessage", inChat(deskChat.id)); n != c.messages {
				t.Errorf("%d messages before the photo, want %d", n, c.messages)
			}
		})
	}
}

// shiftBook is a case book that also knows shifts and reports.
type shiftBook struct {
	*caseBook
	mode string
}

func (s *shiftBook) Mode(_ context.Context, args, by string) (string, error) {
	if args != "" {
		s.mode = args + " by " + by
	}
	return "Mode: " + s.mode, nil
}

func (s *shiftBook) Report(_ context.Context, period time.Duration, _ string) (string, []byte, error) {
	return "Report of the last " + period.String(), []byte("\x89PNG chart"), nil
}

func TestModeAndReportCommands(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c.Desk(&shiftBook{caseBook: newCaseBook(), mode: "after hours"})
	run(t, c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	msgID := 100
	send := func(text string) string {
		t.Helper()
		msgID++
		id := strconv.Itoa(msgID)
		f.push(map[string]any{"message": message(deskChat, msgID, alice, t0+int64(msgID), text)})
		return f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+id+`}`)
		}).Params.Get("text")
	}
	if got := send("/mode"); got != "Mode: after hours" {
		t.Errorf("/mode = %q", got)
	}
	if got := send("/mode office 2h"); got != "Mode: office 2h by telegram:42" {
		t.Errorf("/mode office 2h = %q", got)
	}
	if got := send("/report 12h"); got != "Report of the last 12h0m0s" {
		t.Errorf("/report = %q", got)
	}
	photo := f.waitFor("sendPhoto", 1, inChat(deskChat.id))
	if string(photo.Files["photo"]) != "\x89PNG chart" {
		t.Errorf("chart %q", photo.Files)
	}
	if got := send("/report soon"); !strings.HasPrefix(got, "Usage: /report [PERIOD]") {
		t.Errorf("/report soon = %q", got)
	}
}

func TestModeWithoutShifts(t *testing.T) {
	x := newDeskFixture(t)
	x.f.push(map[string]any{"message": message(deskChat, 7, alice, t0, "/mode office")})
	got := x.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	if got.Params.Get("text") != "/mode is not available." {
		t.Errorf("answer %q", got.Params.Get("text"))
	}
}

// A desk with many CMs still pages them all: Telegram counts the text once
// parsed, where a mention is its words ("CM 7"), not its HTML.
func TestPageWithManyCMs(t *testing.T) {
	f := newFakeBotAPI(t)
	var cms []string
	for i := range 150 {
		cms = append(cms, fmt.Sprintf("telegram:%d", 1000+i))
	}
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: cms, Chats: fixtureChats})
	desk := c.Desk(newCaseBook())
	if err := desk.Page(context.Background(), strings.Repeat("a wave of angry comments ", 200)); err != nil {
		t.Fatal(err)
	}
	text := f.waitFor("sendMessage", 1, inChat(deskChat.id)).Params.Get("text")
	if !strings.Contains(text, `<a href="tg://user?id=1149">CM 150</a>`) || !strings.Contains(text, "a wave of angry comments") {
		t.Errorf("page = %q", text)
	}
	parsed := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(text, "")
	if n := len(utf16.Encode([]rune(html.UnescapeString(parsed)))); n > maxText {
		t.Errorf("the page is %d characters once parsed, over Telegram's %d", n, maxText)
	}
}
