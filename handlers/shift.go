package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// Shift modes: office hours, when a CM is at the desk, and after hours, when
// vigie is alone. Audit entries and metrics name them so.
const (
	ShiftOffice = "office"
	ShiftAfter  = "after"
)

// Shift says whether vigie works office hours or after hours: the rule file's
// office_hours and holidays, unless a CM set the mode from the desk (/mode), for
// a while or until /mode auto. It is safe for concurrent use. The override is
// shared with the processes on the same store (Moderator.FollowSettings).
type Shift struct {
	schedule func(time.Time) bool
	now      func() time.Time

	mu       sync.Mutex
	override string // "" follows the schedule
	until    time.Time
	by       string
}

// NewShift returns a shift that follows schedule (true after hours); now is the
// clock of overrides with a duration (nil: time.Now).
func NewShift(schedule func(time.Time) bool, now func() time.Time) *Shift {
	if now == nil {
		now = time.Now
	}
	return &Shift{schedule: schedule, now: now}
}

// AfterHours reports whether t is after hours, the override first.
func (s *Shift) AfterHours(t time.Time) bool {
	if s == nil {
		return false
	}
	if mode, ok := s.forced(t); ok {
		return mode == ShiftAfter
	}
	return s.schedule != nil && s.schedule(t)
}

// AfterHoursBy is AfterHours with the office hours of schedule (a rule
// file's) instead of the shift's own: the override first. An engine asks it
// with its own file's hours, and the moderator with those of the file that
// judged the event: the shift's schedule is the running file's, and a reload
// between the two had one file's rules judged by another's hours.
func (s *Shift) AfterHoursBy(schedule func(time.Time) bool, t time.Time) bool {
	if s == nil {
		return false
	}
	if mode, ok := s.forced(t); ok {
		return mode == ShiftAfter
	}
	return schedule != nil && schedule(t)
}

// Forced says whether a mode is forced at t (/mode), and whether it is after
// hours: the engine reads it for the communities with their own office hours.
func (s *Shift) Forced(t time.Time) (afterHours, forced bool) {
	if s == nil {
		return false, false
	}
	mode, ok := s.forced(t)
	return mode == ShiftAfter, ok
}

// Mode is the mode at t: office or after.
func (s *Shift) Mode(t time.Time) string {
	if s.AfterHours(t) {
		return ShiftAfter
	}
	return ShiftOffice
}

// forced returns the override in force at t, if any.
func (s *Shift) forced(t time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.override == "" {
		return "", false
	}
	if !s.until.IsZero() && !t.Before(s.until) {
		return "", false
	}
	return s.override, true
}

// Set forces the mode for d (0: until Auto).
func (s *Shift) Set(mode string, d time.Duration, by string) error {
	if mode != ShiftOffice && mode != ShiftAfter {
		return fmt.Errorf("mode %q: want office or after", mode)
	}
	if d < 0 {
		return fmt.Errorf("mode: negative duration %s", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override, s.by, s.until = mode, by, time.Time{}
	if d > 0 {
		s.until = s.now().Add(d)
	}
	return nil
}

// force forces the mode until until (zero: until Auto), as another process
// was told.
func (s *Shift) force(mode string, until time.Time, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override, s.by, s.until = mode, by, until
}

// Auto drops the override: the schedule decides again.
func (s *Shift) Auto() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override, s.by, s.until = "", "", time.Time{}
}

// Describe says the mode at t in words, for /status and /mode.
func (s *Shift) Describe(t time.Time) string {
	mode := s.Mode(t)
	words := map[string]string{ShiftOffice: "office hours", ShiftAfter: "after hours"}[mode]
	if forced, ok := s.forced(t); ok && forced == mode {
		s.mu.Lock()
		until, by := s.until, s.by
		s.mu.Unlock()
		if until.IsZero() {
			return fmt.Sprintf("%s (set by %s until /mode auto)", words, by)
		}
		return fmt.Sprintf("%s (set by %s until %s)", words, by, until.Format("Mon 15:04 MST"))
	}
	return words + " (office_hours)"
}

// Mode answers /mode: with no argument the current mode; "office" or "after",
// with an optional duration, forces it; "auto" follows office_hours again.
func (c *Commands) Mode(ctx context.Context, args, by string) (string, error) {
	fields := strings.Fields(args)
	if len(fields) > 0 {
		// Showing the mode is anyone's; changing it is for who may change it everywhere.
		if no := c.fileWide("mode", by); no != "" {
			return no, nil
		}
	}
	s := c.mod.shift
	if s == nil {
		return "", fmt.Errorf("mode: no shifts (the rule file has no office_hours)")
	}
	now := c.mod.now()
	if len(fields) == 0 {
		return "Mode: " + s.Describe(now) + ".", nil
	}
	if len(fields) > 2 {
		return "", fmt.Errorf("mode: want office|after [DURATION] or auto")
	}
	mode := strings.ToLower(fields[0])
	if mode == "auto" {
		if len(fields) > 1 {
			return "", fmt.Errorf("mode: auto takes no duration")
		}
		c.mod.share(ctx, settingMode, s.Auto, s.value)
		c.mod.log.Info("shift mode", "mode", "auto", "by", by)
		return "Mode: " + s.Describe(now) + ".", nil
	}
	var d time.Duration
	if len(fields) == 2 {
		var err error
		if d, err = parseDuration(fields[1]); err != nil {
			return "", fmt.Errorf("mode: %w", err)
		}
	}
	if mode != ShiftOffice && mode != ShiftAfter {
		return "", fmt.Errorf("mode %q: want office or after", mode)
	}
	var err error
	c.mod.share(ctx, settingMode, func() { err = s.Set(mode, d, by) }, s.value)
	if err != nil {
		return "", err
	}
	c.mod.log.Info("shift mode", "mode", mode, "for", d, "by", by)
	what := map[string]string{
		ShiftOffice: "rules with office: forward only forward to the desk",
		ShiftAfter:  "every rule acts, hours: after rules included",
	}[mode]
	if d > 0 {
		return fmt.Sprintf("Mode: %s for %s: %s.", s.Describe(now), bot.FormatDuration(d), what), nil
	}
	return fmt.Sprintf("Mode: %s: %s.", s.Describe(now), what), nil
}

// Report is the report of the last period, as text and a PNG chart (/report).
// A CM whose rights are some communities' gets theirs: one community's text
// and chart, or each of several communities' texts one after the other,
// without a chart.
func (c *Commands) Report(ctx context.Context, period time.Duration, by string) (string, []byte, error) {
	if c.o.Report == nil {
		return "", nil, fmt.Errorf("report: not available")
	}
	if period <= 0 {
		period = 24 * time.Hour
	}
	scope := c.scopeOf(by)
	switch len(scope) {
	case 0:
		return c.o.Report(ctx, period, "")
	case 1:
		return c.o.Report(ctx, period, scope[0])
	}
	texts := make([]string, 0, len(scope))
	for _, name := range scope {
		text, _, err := c.o.Report(ctx, period, name)
		if err != nil {
			return "", nil, err
		}
		texts = append(texts, text)
	}
	return strings.Join(texts, "\n\n"), nil, nil
}
