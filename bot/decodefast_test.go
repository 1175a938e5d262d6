package bot

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fastCases are lines decodeFast must either decline or decode as
// encoding/json does; it must take the first fastTaken.
const fastTaken = 5

var fastCases = []string{
	`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z"}`,
	`  {"id": "m-1042", "platform": "discord", "kind": "message", "space": "guild-1", "channel": "general", "thread": "",
	 "author": {"id": "u-7", "name": "Bob", "roles": ["member", "vip"], "staff": false, "bot": true, "roles_unknown": true,
	 "created_at": "2026-11-19T10:00:00Z", "joined_at": "2026-11-20T21:58:00+01:00"},
	 "text": "salut \"toi\"\n\t\\ \/ \b\f\r", "reply_to": "m-1", "attachments": 3, "link": "https://x",
	 "at": "2026-11-20T22:10:00.123Z", "label": "ok"}  `,
	`{"id":"j","kind":"join","at":"2026-11-20T22:10:00Z","author":{"id":"u","roles":[]}}`,
	`{"id":"e","platform":"p","author":{"id":"u"},"text":"\u00e9t\u00E9 \ud83d\ude00 \ud800 x","at":"2026-11-20T22:10:00Z"}`,
	`{"id":"e","platform":"p","author":{"id":"u"},"text":"café ☕ 🎉","at":"2026-11-20T22:10:00Z"}`,
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"bad \xff utf8\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"bad \\\" \xff utf8\",\"at\":\"2026-11-20T22:10:00Z\"}",
	`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z","ID":"2"}`,
	`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z","id":"2"}`,
	`{"id":"1","platform":"p","author":{"id":"u"},"text":null,"at":"2026-11-20T22:10:00Z"}`,
	`{"id":"1","platform":"p","author":{"id":"u"},"text":"a","at":"2026-11-20T22:10:00Z","colour":"blue"}`,
	`{"id":"1","attachments":-0,"text":"a"}`,
	`{"id":"1","attachments":01,"text":"a"}`,
	`{"id":"1","attachments":1.5,"text":"a"}`,
	`{"id":"1","attachments":99999999999999999999,"text":"a"}`,
	`{"id":"1","text":"a"} x`,
	`{"id":"1","text":"a",}`,
	`{"id":"1","text":"a\x"}`,
	`{"id":"1","at":"2026-13-20T22:10:00Z"}`,
	`{"id":"1","at":"2026-11-20T22:10:00\u005a"}`,
	`{"id":"1","author":{"staff":truex}}`,
	`{"i\u0064":"1"}`,
	`{}`, `[]`, `null`, ``, `{`, `"x"`, `{"id":}`,
}

// For what it accepts, decodeFast must give exactly what encoding/json gives.
func TestDecodeFastAgrees(t *testing.T) {
	for i, in := range fastCases {
		if took := checkFastAgrees(t, []byte(in)); !took && i < fastTaken {
			t.Errorf("decodeFast declined %s", in)
		}
	}
}

func checkFastAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	var fast Event
	hasText, ok := decodeFast(data, &fast)
	if !ok {
		return false
	}
	slow, slowText, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("decodeFast took %q, encoding/json refused it: %v", data, err)
	}
	if hasText != slowText || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeFast and encoding/json differ on %q:\n%+v (text %v)\n%+v (text %v)", data, fast, hasText, slow, slowText)
	}
	return true
}

// The fast path is worth having only if it takes the lines real files hold.
func TestDecodeFastTakesThePublicData(t *testing.T) {
	files, _ := filepath.Glob("../../shared/data/*.jsonl")
	if len(files) == 0 {
		t.Skip("no ../shared/data")
	}
	lines, took := 0, 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines++
			if checkFastAgrees(t, sc.Bytes()) {
				took++
			}
		}
		f.Close()
	}
	if took < lines*99/100 {
		t.Errorf("decodeFast took %d of %d lines", took, lines)
	}
}

func FuzzDecodeFastAgrees(f *testing.F) {
	for _, in := range fastCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastAgrees(t, data)
	})
}
