package bot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeEvent parses one event JSON and checks the fields every event needs: id,
// text and at. Unknown fields are ignored. Errors name the field at fault.
func DecodeEvent(data []byte) (Event, error) {
	// The outer Text shadows Event.Text so that a missing "text" can be told from "".
	var in struct {
		Event
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return Event{}, describeJSONError(data, err)
	}
	ev := in.Event
	if in.Text != nil {
		ev.Text = *in.Text
	} else if ev.Kind != KindJoin {
		if err := ev.Validate(); err != nil {
			return Event{}, fmt.Errorf("%w, \"text\"", err)
		}
		return Event{}, errors.New(`missing field "text"`)
	}
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Validate checks the fields every event needs, and fills defaults for the others.
func (e *Event) Validate() error {
	var missing []string
	if strings.TrimSpace(e.ID) == "" {
		missing = append(missing, `"id"`)
	}
	if e.At.IsZero() {
		missing = append(missing, `"at"`)
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing field %s", strings.Join(missing, ", "))
	}
	if e.Kind == "" {
		e.Kind = KindMessage
	}
	return nil
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
		return fmt.Errorf("field \"at\" or a date of \"author\": %s (want RFC 3339, like 2026-11-20T22:10:00Z)", err.Error())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty event")
	}
	return fmt.Errorf("invalid event: %w", err)
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
