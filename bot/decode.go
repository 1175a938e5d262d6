package bot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// DecodeEvent parses one event JSON and checks it with Validate. Unknown fields
// are ignored. Errors name the field at fault. It does not look at the clock:
// replay reads history, whose events may be of any date.
func DecodeEvent(data []byte) (Event, error) {
	var ev Event
	err := decodeEventInto(&ev, data, true)
	return ev, err
}

// DecodeEventInto is DecodeEvent into *ev, which it overwrites whole: the
// zero Event when it returns an error. A reader that keeps its events in
// place (vigie replay's rounds) has each written once, where an event (some
// 400 bytes) returned was copied at each return.
func DecodeEventInto(ev *Event, data []byte) error {
	return decodeEventInto(ev, data, true)
}

// decodeEvent is DecodeEvent, with encoding/json alone when fast is false:
// the tests compare the two.
func decodeEvent(data []byte, fast bool) (Event, error) {
	var ev Event
	err := decodeEventInto(&ev, data, fast)
	return ev, err
}

func decodeEventInto(ev *Event, data []byte, fast bool) error {
	*ev = Event{}
	var hasText, ok bool
	if fast {
		hasText, ok = decodeFast(data, ev)
	}
	if !ok {
		var err error
		if *ev, hasText, err = decodeJSON(data); err != nil {
			*ev = Event{}
			return err
		}
	}
	if !hasText && ev.Kind != KindJoin && ev.Kind != KindProfile {
		err := ev.Validate()
		*ev = Event{}
		if err != nil {
			return fmt.Errorf("%w, \"text\"", err)
		}
		return errors.New(`missing field "text"`)
	}
	if err := ev.Validate(); err != nil {
		*ev = Event{}
		return err
	}
	return nil
}

// decodeJSON decodes an event with encoding/json, and says whether it has a
// text, which may be "".
func decodeJSON(data []byte) (Event, bool, error) {
	// The outer Text shadows Event.Text so that a missing "text" can be told from "".
	var in struct {
		Event
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return Event{}, false, describeJSONError(data, err)
	}
	ev := in.Event
	if in.Text != nil {
		ev.Text = *in.Text
	}
	return ev, in.Text != nil, nil
}

// DecodeLiveEvent is DecodeEvent for an event happening now (POST /v1/events):
// an at more than MaxFutureSkew after now is refused too.
func DecodeLiveEvent(data []byte, now time.Time) (Event, error) {
	ev, err := DecodeEvent(data)
	if err != nil {
		return Event{}, err
	}
	if err := ev.CheckClock(now); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Limits on an event's fields, in bytes: platform ids are far shorter (Discord's
// snowflakes are 20 digits, Meta's ids about 40 characters), and the store
// makes keys of them.
const (
	MaxIDLen   = 256 // id, author.id, space, channel, thread, reply_to
	MaxNameLen = 256 // author.name, each of author.roles
	// MaxPlatformLen bounds platform, a short word (discord, telegram, facebook).
	MaxPlatformLen = 64
	MaxRoles       = 100
	MaxLabelLen    = 64
	// MaxParts bounds each list of what a message shows besides its text:
	// embeds, files, hidden links, poll options, an embed's fields.
	MaxParts = 100
	// MaxFutureSkew is how far in the future a live event's at may be: clocks
	// disagree a little, not by hours.
	MaxFutureSkew = 5 * time.Minute
)

// knownKinds are the kinds an event may have; an empty kind is a message.
var knownKinds = []Kind{KindMessage, KindEdit, KindComment, KindJoin, KindDM, KindProfile}

// Validate checks the fields every event needs and their sizes, and fills
// defaults for the others: id and at are required, platform too, kind is one
// of the known kinds (message when empty), and an event someone wrote (all but
// join) has an author id. It does not read the clock (see CheckClock).
func (e *Event) Validate() error {
	var missing []string
	if strings.TrimSpace(e.ID) == "" {
		missing = append(missing, `"id"`)
	}
	if strings.TrimSpace(e.Platform) == "" {
		missing = append(missing, `"platform"`)
	}
	if e.At.IsZero() {
		missing = append(missing, `"at"`)
	}
	if e.Kind == "" {
		e.Kind = KindMessage
	}
	if e.Kind != KindJoin && strings.TrimSpace(e.Author.ID) == "" && slices.Contains(knownKinds, e.Kind) {
		missing = append(missing, `"author.id"`)
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing field %s", strings.Join(missing, ", "))
	}
	if !slices.Contains(knownKinds, e.Kind) {
		return fmt.Errorf("field \"kind\": unknown kind %q (want message, edit, comment, join, dm or profile)", truncate(string(e.Kind), 32))
	}
	// each field in turn, the first too long said: no table of the fields
	// built for every event
	if len(e.ID) > MaxIDLen || len(e.Platform) > MaxPlatformLen || len(e.Space) > MaxIDLen ||
		len(e.Channel) > MaxIDLen || len(e.Thread) > MaxIDLen || len(e.ReplyTo) > MaxIDLen ||
		len(e.Author.ID) > MaxIDLen || len(e.Author.Name) > MaxNameLen || len(e.Author.Username) > MaxNameLen ||
		len(e.Label) > MaxLabelLen || len(e.forwardFrom()) > MaxNameLen {
		return e.tooLong()
	}
	if e.Attachments < 0 {
		return fmt.Errorf("field \"attachments\": %d, a count cannot be negative", e.Attachments)
	}
	if len(e.Author.Roles) > MaxRoles {
		return fmt.Errorf("field \"author.roles\": %d roles, more than %d", len(e.Author.Roles), MaxRoles)
	}
	for _, r := range e.Author.Roles {
		if len(r) > MaxNameLen {
			return fmt.Errorf("field \"author.roles\": a role of %d bytes, more than %d", len(r), MaxNameLen)
		}
	}
	if err := countParts("embeds", len(e.Embeds)); err != nil {
		return err
	}
	if err := countParts("files", len(e.Files)); err != nil {
		return err
	}
	if err := countParts("hidden_links", len(e.HiddenLinks)); err != nil {
		return err
	}
	if e.Poll != nil {
		if err := countParts("poll.options", len(e.Poll.Options)); err != nil {
			return err
		}
	}
	for _, em := range e.Embeds {
		if err := countParts("embeds.fields", len(em.Fields)); err != nil {
			return err
		}
	}
	return nil
}

// tooLong says the first field of e longer than it may be, as Validate
// checks them.
func (e *Event) tooLong() error {
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{
		{"id", e.ID, MaxIDLen}, {"platform", e.Platform, MaxPlatformLen},
		{"space", e.Space, MaxIDLen}, {"channel", e.Channel, MaxIDLen}, {"thread", e.Thread, MaxIDLen},
		{"reply_to", e.ReplyTo, MaxIDLen}, {"author.id", e.Author.ID, MaxIDLen},
		{"author.name", e.Author.Name, MaxNameLen}, {"author.username", e.Author.Username, MaxNameLen},
		{"label", e.Label, MaxLabelLen}, {"forward.from", e.forwardFrom(), MaxNameLen},
	} {
		if len(f.v) > f.max {
			return fmt.Errorf("field %q: %d bytes, more than %d", f.name, len(f.v), f.max)
		}
	}
	return nil
}

// countParts refuses more than MaxParts items in the field name.
func countParts(name string, n int) error {
	if n > MaxParts {
		return fmt.Errorf("field %q: %d items, more than %d", name, n, MaxParts)
	}
	return nil
}

func (e *Event) forwardFrom() string {
	if e.Forward == nil {
		return ""
	}
	return e.Forward.From
}

// CheckClock refuses an event dated more than MaxFutureSkew after now. Live
// paths call it with their clock; replay does not, its events being history.
func (e *Event) CheckClock(now time.Time) error {
	if e.At.After(now.Add(MaxFutureSkew)) {
		return fmt.Errorf("field \"at\": %s is more than %s in the future", e.At.Format(time.RFC3339), MaxFutureSkew)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// describeJSONError turns encoding/json's errors into "field X: ..." messages.
func describeJSONError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(te.Field, "Event.")
		if field == "" {
			return fmt.Errorf("expected a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("field %q: expected %s, got %s", field, jsonType(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	if strings.Contains(err.Error(), "parsing time") {
		return fmt.Errorf("field %q: %s (want RFC 3339, like 2026-11-20T22:10:00Z)", badTimeField(data), err.Error())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty event")
	}
	return fmt.Errorf("invalid event: %w", err)
}

// badTimeField names the first of the event's dates that does not read as a
// time, which encoding/json's error does not say.
func badTimeField(data []byte) string {
	var in struct {
		At     json.RawMessage `json:"at"`
		Author struct {
			CreatedAt json.RawMessage `json:"created_at"`
			JoinedAt  json.RawMessage `json:"joined_at"`
		} `json:"author"`
	}
	if json.Unmarshal(data, &in) != nil {
		return "at"
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"at", in.At}, {"author.created_at", in.Author.CreatedAt}, {"author.joined_at", in.Author.JoinedAt}} {
		var t time.Time
		if len(f.raw) > 0 && json.Unmarshal(f.raw, &t) != nil {
			return f.name
		}
	}
	return "at"
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	default:
		return goKind
	}
}

// LineError is a problem with one line of a JSON Lines file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads events from JSON Lines, one at a time, without holding the file.
// Blank lines are skipped; a bad line is returned as a *LineError and reading can go on.
type Reader struct {
	sc   *bufio.Scanner
	line int
}

// NewReader reads JSON Lines events from r. Lines may be up to 16 MiB.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	return &Reader{sc: sc}
}

// Next returns the next event. It returns io.EOF at the end, a *LineError for a line
// that is not a valid event (call Next again to go on), or the underlying read error.
func (r *Reader) Next() (Event, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev, err := DecodeEvent(b)
		if err != nil {
			return Event{}, &LineError{Line: r.line, Err: err}
		}
		return ev, nil
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, fmt.Errorf("line %d: %w", r.line+1, err)
	}
	return Event{}, io.EOF
}

// Line is the number of the last line read.
func (r *Reader) Line() int { return r.line }
