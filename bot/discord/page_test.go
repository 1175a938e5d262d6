package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

func TestPageMentionsOnlyTheCMs(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + ownerID, "telegram:42"}})
	d := c.Desk(nil)
	if err := d.Page(context.Background(), "wave: 25 angry comments, like @everyone you are idiots"); err != nil {
		t.Fatal(err)
	}
	call := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	content, _ := call.Body["content"].(string)
	if !strings.HasPrefix(content, "🚨 wave: 25") || !strings.HasSuffix(content, "<@"+ownerID+">") {
		t.Errorf("content %q", content)
	}
	am, _ := json.Marshal(call.Body["allowed_mentions"])
	if string(am) != `{"parse":[],"replied_user":false,"users":["`+ownerID+`"]}` {
		t.Errorf("allowed_mentions %s", am)
	}
}

func TestPictureUploadsTheFile(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nfake")
	for _, c := range []struct {
		name     string
		text     string
		messages int
	}{
		{"short text with the file", "Report Thu 19 Nov", 1},
		{"long text first", strings.Repeat("a line of the report\n", 150), 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			cl, _ := newTestClient(t, f, Config{DeskChannel: deskID})
			if err := cl.Desk(nil).Picture(context.Background(), c.text, "report.png", png); err != nil {
				t.Fatal(err)
			}
			if n := f.Count("POST", "/channels/"+deskID+"/messages"); n != c.messages {
				t.Fatalf("%d messages, want %d", n, c.messages)
			}
			last := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", c.messages, nil)
			_, params, err := mime.ParseMediaType(last.Header.Get("Content-Type"))
			if err != nil {
				t.Fatalf("content type %q: %v", last.Header.Get("Content-Type"), err)
			}
			r := multipart.NewReader(bytes.NewReader(last.Raw), params["boundary"])
			var file []byte
			var payload map[string]any
			for {
				p, err := r.NextPart()
				if err != nil {
					break
				}
				var b bytes.Buffer
				b.ReadFrom(p)
				switch {
				case p.FileName() == "report.png":
					file = b.Bytes()
				case p.FormName() == "payload_json":
					json.Unmarshal(b.Bytes(), &payload)
				}
			}
			if !bytes.Equal(file, png) {
				t.Errorf("file %q", file)
			}
			want := c.text
			if c.messages > 1 {
				want = ""
			}
			if got, _ := payload["content"].(string); got != want {
				t.Errorf("content with the file %q, want %q", got, want)
			}
		})
	}
}

// shiftCommands answers the desk with fixed texts, and knows shifts.
type shiftCommands struct{ args, by string }

func (s *shiftCommands) Decide(context.Context, bot.Decision) (bot.Card, error) {
	return bot.Card{}, nil
}
func (s *shiftCommands) Queue(context.Context, string) ([]bot.Card, error)            { return nil, nil }
func (s *shiftCommands) Status(context.Context, string) (string, error)               { return "status", nil }
func (s *shiftCommands) Pause(context.Context, time.Duration, string) (string, error) { return "", nil }
func (s *shiftCommands) Resume(context.Context, string) (string, error)               { return "", nil }
func (s *shiftCommands) Mode(_ context.Context, args, by string) (string, error) {
	s.args, s.by = args, by
	return "Mode: " + args, nil
}

func TestModeSubcommand(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}})
	cmds := &shiftCommands{}
	c.Desk(cmds)
	run(t, f, c, make(chan bot.Event, 10), allPerms)
	f.Dispatch("INTERACTION_CREATE", slash("960000000000000005", cm, "mode",
		map[string]any{"name": "to", "type": 3, "value": "office"}, map[string]any{"name": "for", "type": 3, "value": "2h"}))
	e := f.WaitFor(t, "PATCH", "/webhooks/"+appID+"/tok-960000000000000005/messages/@original", 1, nil)
	if e.Body["content"] != "Mode: office 2h" || cmds.by != "discord:"+cm.id {
		t.Errorf("answer %s, by %q", e.Raw, cmds.by)
	}
	var mode *discordgo.ApplicationCommandOption
	for _, o := range slashCommands[0].Options {
		if o.Name == "mode" {
			mode = o
		}
	}
	if mode == nil || len(mode.Options) != 2 || len(mode.Options[0].Choices) != 3 {
		t.Errorf("/vigie mode registered as %+v", mode)
	}
}
