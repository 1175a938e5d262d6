package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TextHandler writes what slog.TextHandler writes, for the records it writes
// itself and for those it hands over.
func TestTextHandlerMatchesSlog(t *testing.T) {
	at := time.Date(2026, 11, 20, 22, 10, 0, 123_456_789, time.FixedZone("CET", 3600))
	strs := []string{"", "plain", "two words", "a=b", `say "hi"`, `back\slash`, "tab\there", "new\nline",
		"del\x7f", `mixed "q" and \ and del` + "\x7f", "émoji 🚀", "nbsp\u00a0here", "bad \xff utf8", "zero\x00",
		`delete strike warn("Restons courtois / Please keep it civil") tag("profanity")`, "\u2028", "ok-é", `a\b c`, "~tilde~", "del\x7f and space",
		`\first`, `last\`, `"quoted" then é`, `\ then "q" then é`, `only\back\slashes`}
	type rec struct {
		name  string
		time  time.Time
		level slog.Level
		msg   string
		attrs []slog.Attr
	}
	recs := []rec{
		{"verdict", at, slog.LevelInfo, "verdict", []slog.Attr{slog.String("event", "discord:m-1"), slog.String("rules", "insult,profanity"),
			slog.String("actions", `delete warn("Trop d'emojis / Too many emojis")`)}},
		{"numbers", at, slog.LevelWarn, "case opened", []slog.Attr{slog.Int("count", -3), slog.Uint64("n", 7), slog.Float64("f", 0.25),
			slog.Float64("big", 1e21), slog.Bool("b", true), slog.Duration("d", 90*time.Minute)}},
		{"no time", time.Time{}, slog.LevelError, "stopped", nil},
		{"odd level", at, slog.LevelInfo + 2, "", []slog.Attr{slog.String("k y", "v")}},
		{"time value", at, slog.LevelInfo, "at", []slog.Attr{slog.String("a", "b"), slog.Time("t", at)}},
		{"error", at, slog.LevelDebug, "failed", []slog.Attr{slog.Any("err", errors.New("read: connection reset"))}},
		{"group", at, slog.LevelInfo, "g", []slog.Attr{slog.Group("req", slog.String("id", "r 1"))}},
		{"empty key", at, slog.LevelInfo, "e", []slog.Attr{slog.String("", "v")}},
	}
	for _, s := range strs {
		recs = append(recs, rec{"string " + s, at, slog.LevelInfo, s, []slog.Attr{slog.String(s+"k", s)}})
	}
	for _, c := range recs {
		var want, got bytes.Buffer
		for _, h := range []struct {
			h   slog.Handler
			out *bytes.Buffer
		}{{slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug}), &want}, {NewTextHandler(&got, slog.LevelDebug), &got}} {
			r := slog.NewRecord(c.time, c.level, c.msg, 0)
			r.AddAttrs(c.attrs...)
			if err := h.h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			// A logger With attributes writes as slog's does too.
			if err := h.h.WithAttrs([]slog.Attr{slog.String("scope", "a b")}).Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got.String(), want.String())
		}
		// The same line without a record (logAttrs).
		want.Reset()
		got.Reset()
		r := slog.NewRecord(c.time, c.level, c.msg, 0)
		r.AddAttrs(c.attrs...)
		if err := slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if err := NewTextHandler(&got, slog.LevelDebug).handleAttrs(context.Background(), c.time, c.level, c.msg, c.attrs); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s, without a record:\n got %q\nwant %q", c.name, got.String(), want.String())
		}
	}
}

func TestTextHandlerLevel(t *testing.T) {
	var out bytes.Buffer
	h := NewTextHandler(&out, slog.LevelWarn)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("enabled below its level, or not at it")
	}
	if NewTextHandler(&out, nil).Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug enabled by default")
	}
}

// BenchmarkTextHandler is the verdict line, through slog.TextHandler and
// through TextHandler.
func BenchmarkTextHandler(b *testing.B) {
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{{"slog", slog.NewTextHandler(discard{}, nil)}, {"vigie", NewTextHandler(discard{}, nil)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logAttrs(context.Background(), slog.New(c.h), slog.LevelInfo, "verdict", slog.String("event", "discord:dnb6ehkvmkea-2-2"),
					slog.String("rules", "insult,profanity"), slog.String("actions", `delete strike warn("Restons courtois / Please keep it civil") tag("profanity")`))
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzTextHandler compares the line of a string attribute with
// slog.TextHandler's.
func FuzzTextHandler(f *testing.F) {
	for _, s := range []string{"", "plain", "two words", `a="b\c"`, "del\x7f", "émoji 🚀", "bad \xff", "nbsp\u00a0"} {
		f.Add(s, s)
	}
	at := time.Date(2026, 11, 20, 22, 10, 0, 123_456_789, time.UTC)
	f.Fuzz(func(t *testing.T, msg, v string) {
		var want, got bytes.Buffer
		for _, h := range []slog.Handler{slog.NewTextHandler(&want, nil), NewTextHandler(&got, nil)} {
			r := slog.NewRecord(at, slog.LevelInfo, msg, 0)
			r.AddAttrs(slog.String("k", v), slog.String(v, msg))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := NewTextHandler(&got, nil).handleAttrs(context.Background(), at, slog.LevelInfo, msg, []slog.Attr{slog.String("k", v), slog.String(v, msg)}); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String()+want.String() {
			t.Errorf("got  %q\nwant %q twice (with a record and without)", got.String(), want.String())
		}
	})
}

// One TextHandler writes the time of its lines as slog.TextHandler does
// through milliseconds, seconds, zones and years that follow one another
// (it keeps the second it formatted last).
func TestTextHandlerTimes(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	base := time.Date(2026, 11, 20, 22, 10, 59, 998_999_999, time.UTC)
	times := []time.Time{
		base, base.Add(time.Nanosecond), base.Add(time.Millisecond), base.Add(2 * time.Millisecond),
		base.In(cet), base.Add(time.Second).In(cet), base.Add(time.Second), base.Add(-time.Second),
		time.Date(2026, 11, 20, 22, 11, 0, 5_000_000, time.Local), time.Date(10000, 1, 1, 0, 0, 0, 7_000_000, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 70_000_000, time.UTC), time.Date(2031, 7, 14, 9, 5, 3, 400_000_000, time.Local), time.Date(2026, 3, 29, 1, 59, 59, 999_000_000, time.Local),
	}
	var want, got bytes.Buffer
	sh, vh := slog.NewTextHandler(&want, nil), NewTextHandler(&got, nil)
	for _, at := range append(times, times...) {
		for _, h := range []slog.Handler{sh, vh} {
			r := slog.NewRecord(at, slog.LevelInfo, "verdict", 0)
			r.AddAttrs(slog.String("event", "discord:m-1"))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}
