package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/memory"
)

// fill sets every field of v, however deep, to a value of its own (strings
// and numbers differ from field to field, times in a zone of their own, lists
// of two): a field added to bot.Event that the history's records forget makes
// the round trip below fail.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-é", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1000003)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zone := time.FixedZone("", 3600*(*n%5+1))
			v.Set(reflect.ValueOf(time.Date(2024, 3, 1+*n%20, 10, *n%60, 7, 123456789, zone)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	default:
		t.Fatalf("bot.Event has a field of kind %s the test cannot fill: teach the history's records and this test", v.Kind())
	}
}

func fullEvent(t *testing.T) bot.Event {
	var ev bot.Event
	n := 0
	fill(t, reflect.ValueOf(&ev).Elem(), &n)
	return ev
}

// sameEvent compares two events, their times by instant and offset (the
// records keep no zone names).
func sameEvent(t *testing.T, got, want bot.Event) {
	t.Helper()
	norm := func(e bot.Event) string {
		return fmt.Sprintf("%#v", e)
	}
	for _, p := range []struct{ g, w *time.Time }{{&got.At, &want.At}, {&got.Author.CreatedAt, &want.Author.CreatedAt}, {&got.Author.JoinedAt, &want.Author.JoinedAt}} {
		_, go_ := p.g.Zone()
		_, wo := p.w.Zone()
		if !p.g.Equal(*p.w) || go_ != wo {
			t.Errorf("time %v read back as %v", *p.w, *p.g)
		}
		*p.g, *p.w = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back:\n%s\nwant:\n%s", norm(got), norm(want))
	}
}

func TestHistoryRecordRoundTrip(t *testing.T) {
	full := fullEvent(t)
	for name, ev := range map[string]bot.Event{
		"every field": full,
		"empty":       {},
		"utc": {ID: "1", Platform: "discord", Kind: bot.KindMessage, Text: "hello",
			At: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), Author: bot.Author{ID: "u1", Roles: []string{"a"}}},
		"a forward without text": {ID: "2", Forward: &bot.Forward{}, Poll: &bot.Poll{Question: "q"}},
		"west of Greenwich, before 1970": {ID: "3", Attachments: 1 << 40,
			At: time.Date(1969, 7, 20, 20, 17, 40, 5, time.FixedZone("", -5*3600))},
	} {
		t.Run(name, func(t *testing.T) {
			rec := appendEventRecord(nil, &ev)
			got, err := decodeEventRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			sameEvent(t, got, ev)
		})
	}
}

// A record cut short or with bytes after it is refused, never read as
// another event and never a panic.
func TestHistoryRecordDamaged(t *testing.T) {
	ev := fullEvent(t)
	rec := appendEventRecord(nil, &ev)
	for n := range len(rec) {
		if _, err := decodeEventRecord(rec[:n]); err == nil {
			t.Fatalf("a record cut at %d of %d bytes was read", n, len(rec))
		}
	}
	if _, err := decodeEventRecord(append(rec, 0)); err == nil {
		t.Fatal("a record with a byte after it was read")
	}
	// a length larger than what is left
	bad := appendEventRecord(nil, &bot.Event{ID: "x"})
	bad[0] = 0x7f
	if _, err := decodeEventRecord(bad); err == nil {
		t.Fatal("a string longer than its record was read")
	}
}

func TestHistoryRing(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := newHistory(3, time.Hour, memory.New(), log)
	now := time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("long ", 1000)
	for i := range 5 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "telegram", Text: fmt.Sprintf("event %d", i), At: now.Add(time.Duration(i-4) * 40 * time.Minute)}
		if i == 1 || i == 2 {
			ev.Text = long
		}
		h.add(&ev)
	}
	got, err := h.events(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.ID+":"+ev.Text[:min(len(ev.Text), 9)])
	}
	// 0 and 1 were written over; 2 is older than an hour at now
	if want := "3:event 3 4:event 4"; strings.Join(ids, " ") != want {
		t.Fatalf("history %q, want %q", strings.Join(ids, " "), want)
	}
	got, _ = h.events(context.Background(), now.Add(-30*time.Minute))
	if len(got) != 3 || got[0].ID != "2" || got[0].Text != long {
		t.Fatalf("history half an hour before: %d events, first %q", len(got), got[0].ID)
	}
	// the room of a long event is not kept by the slot once written over
	for range 3 {
		h.add(&bot.Event{ID: "short", At: now})
	}
	for i, rec := range h.ring {
		if cap(rec) > maxKeptRecord {
			t.Errorf("slot %d keeps %d bytes for a short event", i, cap(rec))
		}
	}
	if cap(h.scratch) > maxKeptRecord {
		t.Errorf("the scratch keeps %d bytes of a long event", cap(h.scratch))
	}
}
