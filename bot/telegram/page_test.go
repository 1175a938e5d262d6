package telegram

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
