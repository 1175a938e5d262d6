package bot

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
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
	// short strings with escapes, and more of them than gathered at once
	`{"id":"a\"b","platform":"p\u00e9","kind":"message","space":"s\\","channel":"c\n","thread":"t",` +
		`"reply_to":"r","label":"ok","author":{"id":"u\/1","name":"N\u00e4me"},"text":"a","at":"2026-11-20T22:10:00Z"}`,
	// short strings too long to be gathered together
	`{"id":"` + strings.Repeat("i", 200) + `","space":"` + strings.Repeat("s", 100) + `","channel":"c",` +
		`"author":{"id":"` + strings.Repeat("u", 300) + `","name":"n"},"text":"a","at":"2026-11-20T22:10:00Z"}`,
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

// An event's short strings (ids, names, kind, places, label) are one
// allocation, and the event itself is not one: a line costs its text, that
// string, and the author's roles.
func TestDecodeEventAllocs(t *testing.T) {
	data := []byte(`{"id":"l-1-42","platform":"discord","kind":"message","space":"s12","channel":"s12c3",` +
		`"thread":"t","reply_to":"m-1","label":"ok",` +
		`"author":{"id":"a-123456","name":"Member 123456","roles":["member"],"created_at":"2026-11-19T10:00:00Z"},` +
		`"text":"Salut tout le monde","at":"2026-11-20T22:10:00.123Z"}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodeEvent(data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("DecodeEvent: %v allocations a line, want at most 4", allocs)
	}
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

// Lines with bytes that are not UTF-8, in each kind of string decodeFast
// reads: encoding/json replaces them with U+FFFD, and DecodeEvent must give
// what it gave before token checked the UTF-8 itself (whatever encoding/json
// alone gives).
var badUTF8Cases = []string{
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"bad \xff utf8\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"cut \xc3\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"surrogate \xed\xa0\x80\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"overlong \xc0\xaf\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"esc \\n \xff\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"esc \\\xc3\xa9\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\xff\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"a\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\",\"name\":\"B\xe9b\xe9\",\"roles\":[\"r\xff\"]},\"text\":\"a\",\"at\":\"2026-11-20T22:10:00Z\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"a\",\"at\":\"2026-11-20T22:10:00Z\xff\"}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"a\",\"at\":\"2026-11-20T22:10:00Z\",\"\xff\":1}",
	"{\"id\":\"e\",\"platform\":\"p\",\"author\":{\"id\":\"u\"},\"text\":\"caf\xc3\xa9 \xef\xbf\xbd ok\",\"at\":\"2026-11-20T22:10:00Z\"}",
}

func TestDecodeEventBadUTF8(t *testing.T) {
	for _, in := range append(badUTF8Cases, fastCases...) {
		checkDecodeEventAgrees(t, []byte(in))
	}
}

// checkDecodeEventAgrees: DecodeEvent, fast path and all, gives what
// encoding/json alone gives, errors included.
func checkDecodeEventAgrees(t *testing.T, data []byte) {
	t.Helper()
	fast, fastErr := decodeEvent(data, true)
	slow, slowErr := decodeEvent(data, false)
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("DecodeEvent and encoding/json differ on %q:\n%+v %v\n%+v %v", data, fast, fastErr, slow, slowErr)
	}
}

func FuzzDecodeEventAgrees(f *testing.F) {
	for _, in := range append(badUTF8Cases, fastCases...) {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeEventAgrees(t, data)
	})
}

// oldStr is str as it was before token checked UTF-8: the reference of
// FuzzStrAgreesWithOld.
func oldStr(p *fastParser, s *string) bool {
	data, start := p.data, p.i
	if start >= len(data) || data[start] != '"' {
		return false
	}
	escaped := false
	for i := start + 1; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			p.i = i + 1
			raw := data[start:p.i]
			inner := raw[1 : len(raw)-1]
			if !escaped {
				if !utf8.Valid(inner) {
					return false
				}
				*s = string(inner)
				return true
			}
			return unescape(raw, s)
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			return false
		default:
			i++
		}
	}
	return false
}

// str must read what the old one read, to the same byte, or decline a string
// that is not UTF-8 (decodeFast then declines the line, and encoding/json
// decodes it, as the old str's json.Unmarshal of an escaped string did).
func FuzzStrAgreesWithOld(f *testing.F) {
	for _, s := range []string{`"abc"`, `"café"`, "\"\xff\"", "\"a\\n\xff\"", "\"\\\xc3\xa9\"", "\"\xc3\"", `"a\"b" x`, `"\u00e9"`, "\"\xef\xbf\xbd\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want string
		p, old := fastParser{data: data}, fastParser{data: data}
		ok, oldOK := p.str(&got), oldStr(&old, &want)
		switch {
		case ok && (!oldOK || got != want || p.i != old.i):
			t.Fatalf("str(%q) = %q at %d; the old one %q at %d (ok %v)", data, got, p.i, want, old.i, oldOK)
		case !ok && oldOK && utf8.Valid(data[1:old.i-1]):
			t.Fatalf("str(%q) declined valid UTF-8 the old one read as %q", data, want)
		}
	})
}

// special8 against a byte at a time: every byte value at every place, and the
// fuzzer's words (borrows between bytes are where it could go wrong).
func TestSpecial8(t *testing.T) {
	for pos := range 8 {
		for b := range 256 {
			w := []byte("aaaaaaaa")
			w[pos] = byte(b)
			checkPlain8(t, w)
			w = []byte{0, 0x1f, 0x80, 0xff, '"', '\\', 0x20, 0x7f}
			w[pos] = byte(b)
			checkPlain8(t, w)
		}
	}
}

func checkPlain8(t *testing.T, w []byte) {
	t.Helper()
	want := 8 // the first byte to look at, 8 for none
	for i, c := range w {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			want = i
			break
		}
	}
	m := special8(binary.LittleEndian.Uint64(w))
	if got := bits.TrailingZeros64(m) / 8; got != want {
		t.Fatalf("special8(%q) = %#x: first at %d, not %d", w, m, got, want)
	}
}

func FuzzSpecial8(f *testing.F) {
	f.Add(uint64(0x6161616161616161))
	f.Add(uint64(0x2161616161616100))
	f.Fuzz(func(t *testing.T, w uint64) {
		checkPlain8(t, binary.LittleEndian.AppendUint64(nil, w))
	})
}
