package rules

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	// The rule file names its timezone; a bot in a scratch container has no
	// system zoneinfo, so the database is built in.
	_ "time/tzdata"

	"github.com/vigie-bot/vigie/bot"
)

// schedule is the file's office hours; outside them, and on holidays, it is
// after hours.
type schedule struct {
	loc *time.Location
	// set says office_hours was given; without it every day is office hours
	// (holidays aside).
	set      bool
	days     [7][]minuteRange // by time.Weekday
	holidays map[dateKey]bool
	// calendars are the countries whose public holidays are after hours,
	// every year: a list of dates runs out, a country's calendar does not.
	calendars []calendar
	// last is the answer of the local minute last asked about, shared by the
	// schedule's copies: the engine and the moderator ask about every event,
	// and the events of a busy minute all get the same answer.
	last *atomic.Pointer[hoursAnswer]
}

// hoursAnswer is afterHours' answer for the instants from, inclusive, to to,
// exclusive (Unix nanoseconds): one local minute, cut where the zone's offset
// changes, in which the date, the weekday and the minute of the day are the
// same.
type hoursAnswer struct {
	from, to int64
	after    bool
}

// maxMemoUnix bounds the instants whose answer is kept: their Unix
// nanoseconds fit an int64 (the year 2262), and earlier than 1970 is left to
// the reckoning each time.
const maxMemoUnix = 1 << 33

type minuteRange struct{ from, to int } // minutes since midnight, to exclusive

type dateKey struct {
	y int
	m time.Month
	d int
}

func (s *schedule) afterHours(t time.Time) bool {
	if u := t.Unix(); s.last == nil || u < 0 || u >= maxMemoUnix {
		return s.reckon(t.In(s.loc))
	}
	n := t.UnixNano()
	if a := s.last.Load(); a != nil && n >= a.from && n < a.to {
		return a.after
	}
	lt := t.In(s.loc)
	after := s.reckon(lt)
	// the local minute holding t, within the span of t's zone offset
	from := lt.Add(-time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond()))
	to := from.Add(time.Minute)
	if zoneFrom, zoneTo := lt.ZoneBounds(); !zoneFrom.IsZero() || !zoneTo.IsZero() {
		if zoneFrom.After(from) {
			from = zoneFrom
		}
		if !zoneTo.IsZero() && zoneTo.Before(to) {
			to = zoneTo
		}
	}
	s.last.Store(&hoursAnswer{from: from.UnixNano(), to: to.UnixNano(), after: after})
	return after
}

// reckon is afterHours of lt, a time in the schedule's location.
func (s *schedule) reckon(lt time.Time) bool {
	y, m, d := lt.Date()
	if s.holidays[dateKey{y, m, d}] {
		return true
	}
	for _, c := range s.calendars {
		if c.holiday(y, m, d) {
			return true
		}
	}
	if !s.set {
		return false
	}
	minute := lt.Hour()*60 + lt.Minute()
	for _, r := range s.days[lt.Weekday()] {
		if minute >= r.from && minute < r.to {
			return false
		}
	}
	return true
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func dayIndex(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if s == n {
			return i, true
		}
	}
	return 0, false
}

// parseDays reads mon-fri, sat, sun or sat,sun into weekdays.
func parseDays(spec string) ([]time.Weekday, error) {
	var out []time.Weekday
	for part := range strings.SplitSeq(spec, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok := dayIndex(from)
		if !ok {
			return nil, badDay(from)
		}
		if !isRange {
			out = append(out, time.Weekday(a))
			continue
		}
		b, ok := dayIndex(to)
		if !ok {
			return nil, badDay(to)
		}
		for i := a; ; i = (i + 1) % 7 {
			out = append(out, time.Weekday(i))
			if i == b {
				break
			}
		}
	}
	return out, nil
}

func badDay(s string) error {
	s = strings.TrimSpace(s)
	msg := fmt.Sprintf("unknown day %q", s)
	if c := bot.Closest(strings.ToLower(s), dayNames); c != "" {
		return fmt.Errorf("%s (did you mean %q?)", msg, c)
	}
	return fmt.Errorf("%s (write mon, tue, wed, thu, fri, sat, sun or a range like mon-fri)", msg)
}

// parseRanges reads "09:00-12:00, 14:00-19:00" (or "closed").
func parseRanges(spec string) ([]minuteRange, error) {
	spec = strings.TrimSpace(spec)
	if strings.EqualFold(spec, "closed") || spec == "" {
		return nil, nil
	}
	var out []minuteRange
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("bad range %q (want like \"09:00-19:00\")", part)
		}
		a, errA := parseClock(from)
		b, errB := parseClock(to)
		if errA != nil || errB != nil {
			return nil, fmt.Errorf("bad range %q (want like \"09:00-19:00\")", part)
		}
		if b <= a {
			return nil, fmt.Errorf("range %q ends before it starts (split a night range at midnight)", part)
		}
		out = append(out, minuteRange{a, b})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) < 4 || len(s) > 5 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}
