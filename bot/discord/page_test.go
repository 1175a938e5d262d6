package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

func TestPageMentionsOnlyTheCMs(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + ownerID, "telegram:42"}})
	d := c.Desk(nil)
	if err := d.Page(context.Background(), "wave: 25 angry comments, like @everyone you are idiots"); err != nil {
		t.Fatal(err)
	}
	call := f.waitFor("POST", "/channels/"+deskID+"/messages", 1, nil)
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
			if n := f.count("POST", "/channels/"+deskID+"/messages"); n != c.messages {
				t.Fatalf("%d messages, want %d", n, c.messages)
			}
			last := f.waitFor("POST", "/channels/"+deskID+"/messages", c.messages, nil)
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
