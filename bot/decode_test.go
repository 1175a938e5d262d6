package bot

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, ev Event)
	}{
		{
			name: "full event from the contract",
			in: `{"id": "m-1042", "platform": "discord", "kind": "message",
			 "space": "guild-1", "channel": "general", "thread": "",
			 "author": {"id": "u-7", "name": "Bob", "roles": ["member"], "staff": false,
			            "created_at": "2026-11-19T10:00:00Z", "joined_at": "2026-11-20T21:58:00Z"},
			 "text": "salut", "reply_to": "", "attachments": 0,
			 "at": "2026-11-20T22:10:00Z", "label": "ok"}`,
			check: func(t *testing.T, ev Event) {
				if ev.ID != "m-1042" || ev.Platform != "discord" || ev.Kind != KindMessage || ev.Text != "salut" {
					t.Errorf("decoded %+v", ev)
				}
				if ev.Author.Name != "Bob" || len(ev.Author.Roles) != 1 || ev.Author.JoinedAt.IsZero() {
					t.Errorf("author %+v", ev.Author)
				}
				if want := time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC); !ev.At.Equal(want) {
					t.Errorf("at = %v, want %v", ev.At, want)
				}
			},
		},
		{
			name: "unknown fields are ignored and kind defaults to message",
			in:   `{"id":"1","platform":"p","author":{"id":"u"},"text":"","at":"2026-11-20T22:10:00Z","colour":"blue"}`,
			check: func(t *testing.T, ev Event) {
				if ev.Kind != KindMessage {
					t.Errorf("kind = %q", ev.Kind)
				}
			},
		},
		{
			name: "a join needs no text",
			in:   `{"id":"j1","platform":"p","kind":"join","at":"2026-11-20T22:10:00Z"}`,
		},
		{
			name: "what a message shows besides its text",
			in: `{"id":"f1","platform":"telegram","author":{"id":"u","name":"Bob","username":"bob_42"},"text":"",
			 "forward":{"from":"Crypto Signals","text":"double your BTC"},
			 "embeds":[{"title":"Free Nitro","description":"claim it","url":"https://claim-nitro.sbs/gift","fields":[{"name":"ends","value":"today"}]}],
			 "files":["nitro.exe"],"hidden_links":["https://dlscord.gift/x"],"poll":{"question":"want nitro?","options":["yes","no"]},
			 "at":"2026-11-20T22:10:00Z"}`,
			check: func(t *testing.T, ev Event) {
				want := "Crypto Signals\ndouble your BTC\nwant nitro?\nyes\nno\nFree Nitro\nclaim it\nends\ntoday\nhttps://claim-nitro.sbs/gift\nnitro.exe\nhttps://dlscord.gift/x"
				if got := ev.Content(); got != want || ev.Author.Username != "bob_42" {
					t.Errorf("content = %q, want %q (username %q)", got, want, ev.Author.Username)
				}
			},
		},
		{
			name: "a poll's description and a quiz's explanation are read with its question and options",
			in: `{"id":"q1","platform":"telegram","author":{"id":"u"},"text":"",
			 "poll":{"question":"2+2?","description":"prize draw tonight","options":["4","5"],"explanation":"winners claim at claim-nitro.sbs/gift"},
			 "at":"2026-11-20T22:10:00Z"}`,
			check: func(t *testing.T, ev Event) {
				want := "2+2?\nprize draw tonight\n4\n5\nwinners claim at claim-nitro.sbs/gift"
				if got := ev.Content(); got != want {
					t.Errorf("content = %q, want %q", got, want)
				}
			},
		},
		{
			name: "a profile needs no text; its content is the names",
			in:   `{"id":"p1","platform":"discord","kind":"profile","author":{"id":"u","name":"Free Nitro","username":"nitro_drop"},"at":"2026-11-20T22:10:00Z"}`,
			check: func(t *testing.T, ev Event) {
				if got := ev.Content(); got != "Free Nitro\nnitro_drop" {
					t.Errorf("content = %q", got)
				}
			},
		},
		{name: "a profile without an author", in: `{"id":"1","platform":"p","kind":"profile","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "author.id"`},
		{name: "too many files", in: `{"id":"1","platform":"p","author":{"id":"u"},"text":"","files":[` + strings.Repeat(`"a",`, MaxParts) + `"a"],"at":"2026-11-20T22:10:00Z"}`,
			wantErr: `field "files": 101 items, more than 100`},
		{name: "missing id", in: `{"platform":"p","author":{"id":"u"},"text":"x","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "id"`},
		{name: "missing text", in: `{"id":"1","platform":"p","author":{"id":"u"},"at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "text"`},
		{name: "missing at", in: `{"id":"1","platform":"p","author":{"id":"u"},"text":"x"}`, wantErr: `missing field "at"`},
		{name: "missing platform", in: `{"id":"1","author":{"id":"u"},"text":"x","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "platform"`},
		{name: "a message without an author", in: `{"id":"1","platform":"p","text":"x","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "author.id"`},
		{name: "a comment without an author", in: `{"id":"1","platform":"p","kind":"comment","text":"x","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "author.id"`},
		{name: "unknown kind", in: `{"id":"1","platform":"p","kind":"reaction","text":"x","at":"2026-11-20T22:10:00Z"}`,
			wantErr: `field "kind": unknown kind "reaction" (want message, edit, comment, join, dm or profile)`},
		{name: "missing everything", in: `{}`, wantErr: `missing field "id", "platform", "at", "author.id", "text"`},
		{name: "wrong type", in: `{"id":"1","text":42,"at":"2026-11-20T22:10:00Z"}`, wantErr: `field "text": expected a string, got number`},
		{name: "wrong nested type", in: `{"id":"1","text":"x","at":"2026-11-20T22:10:00Z","author":{"staff":"yes"}}`, wantErr: `field "author.staff": expected true or false, got string`},
		{name: "bad time", in: `{"id":"1","text":"x","at":"yesterday"}`, wantErr: `field "at": parsing time "yesterday"`},
		{name: "a time without its zone", in: `{"id":"1","text":"x","at":"2026-11-20T22:10:00"}`, wantErr: `field "at": parsing time "2026-11-20T22:10:00"`},
		{name: "a bad account date", in: `{"id":"1","text":"x","at":"2026-11-20T22:10:00Z","author":{"id":"u","created_at":"2026-11-19"}}`,
			wantErr: `field "author.created_at": parsing time "2026-11-19"`},
		{name: "a bad join date", in: `{"id":"1","text":"x","at":"2026-11-20T22:10:00Z","author":{"id":"u","joined_at":"last week"}}`,
			wantErr: `field "author.joined_at": parsing time "last week"`},
		{name: "a negative count of attachments", in: `{"id":"1","platform":"p","author":{"id":"u"},"text":"x","attachments":-5,"at":"2026-11-20T22:10:00Z"}`,
			wantErr: `field "attachments": -5, a count cannot be negative`},
		{name: "not an object", in: `[1,2]`, wantErr: `expected a JSON object, got array`},
		{name: "broken JSON", in: `{"id":`, wantErr: `invalid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

func TestReaderReportsLinesAndGoesOn(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z"}`,
		``,
		`not json`,
		`{"id":"2","platform":"p","author":{"id":"u"},"text":"b","at":"2026-11-20T22:10:01Z"}`,
		`{"id":"3","platform":"p","author":{"id":"u"},"at":"2026-11-20T22:10:01Z"}`,
	}, "\n")
	r := NewReader(strings.NewReader(in))
	var ids []string
	var badLines []int
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			badLines = append(badLines, le.Line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	if strings.Join(ids, ",") != "1,2" {
		t.Errorf("ids = %v", ids)
	}
	if len(badLines) != 2 || badLines[0] != 3 || badLines[1] != 5 {
		t.Errorf("bad lines = %v, want [3 5]", badLines)
	}
}

// Fields are bounded, each refused by name; the bounds themselves pass.
func TestValidateLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	base := func() Event {
		return Event{ID: "1", Platform: "discord", Kind: KindMessage, Author: Author{ID: "u"}, Text: "hi",
			At: time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC)}
	}
	tests := []struct {
		name string
		edit func(*Event)
		want string
	}{
		{"at the limits", func(e *Event) {
			e.ID, e.Space, e.Channel, e.Thread, e.ReplyTo = long(256), long(256), long(256), long(256), long(256)
			e.Author.ID, e.Author.Name, e.Platform = long(256), long(256), long(64)
		}, ""},
		{"id", func(e *Event) { e.ID = long(257) }, `field "id": 257 bytes, more than 256`},
		{"author.id", func(e *Event) { e.Author.ID = long(257) }, `field "author.id": 257 bytes, more than 256`},
		{"author.name", func(e *Event) { e.Author.Name = long(300) }, `field "author.name": 300 bytes, more than 256`},
		{"space", func(e *Event) { e.Space = long(257) }, `field "space": 257 bytes, more than 256`},
		{"channel", func(e *Event) { e.Channel = long(257) }, `field "channel": 257 bytes, more than 256`},
		{"thread", func(e *Event) { e.Thread = long(257) }, `field "thread": 257 bytes, more than 256`},
		{"reply_to", func(e *Event) { e.ReplyTo = long(257) }, `field "reply_to": 257 bytes, more than 256`},
		{"platform", func(e *Event) { e.Platform = long(65) }, `field "platform": 65 bytes, more than 64`},
		{"roles", func(e *Event) { e.Author.Roles = make([]string, 101) }, `field "author.roles": 101 roles, more than 100`},
		{"a role", func(e *Event) { e.Author.Roles = []string{long(257)} }, `field "author.roles": a role of 257 bytes, more than 256`},
		{"a long unknown kind", func(e *Event) { e.Kind = Kind(long(100)) }, `field "kind": unknown kind "` + long(32) + `..."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := base()
			tc.edit(&ev)
			err := ev.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A live event may be a little ahead of the clock, not more than 5 minutes.
func TestDecodeLiveEventClock(t *testing.T) {
	now := time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC)
	ev := func(at string) []byte {
		return []byte(`{"id":"1","platform":"p","author":{"id":"u"},"text":"x","at":"` + at + `"}`)
	}
	for at, want := range map[string]string{
		"2026-11-20T22:15:00Z": "",
		"2026-11-19T22:10:00Z": "",
		"2026-11-20T22:15:01Z": `field "at": 2026-11-20T22:15:01Z is more than 5m0s in the future`,
	} {
		_, err := DecodeLiveEvent(ev(at), now)
		if want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Errorf("at %s: got %v, want %q", at, err, want)
		}
		// history is not checked against the clock
		if _, err := DecodeEvent(ev(at)); err != nil {
			t.Errorf("at %s: DecodeEvent: %v", at, err)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z"}`))
	f.Add([]byte(`{"id":"j","kind":"join","at":"2026-11-20T22:10:00Z","author":{"id":"u","roles":["a"]}}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`{"author":{"created_at":"x"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if ev.ID == "" || ev.At.IsZero() || ev.Kind == "" {
			t.Fatalf("accepted an event without id, at or kind: %+v", ev)
		}
		if ev.Platform == "" || len(ev.ID) > MaxIDLen || ev.Kind != KindJoin && ev.Author.ID == "" {
			t.Fatalf("accepted an event without platform, author or with a long id: %+v", ev)
		}
	})
}
