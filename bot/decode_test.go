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
			in:   `{"id":"1","text":"","at":"2026-11-20T22:10:00Z","colour":"blue"}`,
			check: func(t *testing.T, ev Event) {
				if ev.Kind != KindMessage {
					t.Errorf("kind = %q", ev.Kind)
				}
			},
		},
		{
			name: "a join needs no text",
			in:   `{"id":"j1","kind":"join","at":"2026-11-20T22:10:00Z","author":{"id":"u"}}`,
		},
		{name: "missing id", in: `{"text":"x","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "id"`},
		{name: "missing text", in: `{"id":"1","at":"2026-11-20T22:10:00Z"}`, wantErr: `missing field "text"`},
		{name: "missing at", in: `{"id":"1","text":"x"}`, wantErr: `missing field "at"`},
		{name: "missing everything", in: `{}`, wantErr: `missing field "id", "at", "text"`},
		{name: "wrong type", in: `{"id":"1","text":42,"at":"2026-11-20T22:10:00Z"}`, wantErr: `field "text": expected a string, got number`},
		{name: "wrong nested type", in: `{"id":"1","text":"x","at":"2026-11-20T22:10:00Z","author":{"staff":"yes"}}`, wantErr: `field "author.staff": expected true or false, got string`},
		{name: "bad time", in: `{"id":"1","text":"x","at":"yesterday"}`, wantErr: `want RFC 3339`},
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
		`{"id":"1","text":"a","at":"2026-11-20T22:10:00Z"}`,
		``,
		`not json`,
		`{"id":"2","text":"b","at":"2026-11-20T22:10:01Z"}`,
		`{"id":"3","at":"2026-11-20T22:10:01Z"}`,
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

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"1","text":"a","at":"2026-11-20T22:10:00Z"}`))
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
	})
}
