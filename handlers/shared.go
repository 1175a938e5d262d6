package handlers

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// What a CM sets from a desk for all of vigie, /pause and /mode, reaches the
// one process that reads the command (the Telegram poller's, a Discord
// shard's, the one a balancer chose). With a store the processes share
// (store.Settings), it is kept there too, and every process follows it
// (FollowSettings): the others within a look, a process started later at
// its start.

// Setting names.
const (
	settingPause = "pause"
	settingMode  = "mode"
)

// sharedSettings orders the changes a CM makes here and the settings read
// from the store, without holding up either on the store: a read during
// which a change was made here, or written, is not applied (the next look
// reads the change), so a read from before a change never undoes it.
type sharedSettings struct {
	// write lets one change at a time be written, in the order made.
	write sync.Mutex

	mu      sync.Mutex
	version int64
	known   bool
	// changes counts the changes made here, and their writes.
	changes int64
	// unwritten names the settings changed here that the store did not
	// take: written at the next look, before the store's are read.
	unwritten map[string]bool
}

// settings is the store's shared settings, nil when the store is this
// process's alone.
func (m *Moderator) settings() store.Settings {
	s, _ := m.store.(store.Settings)
	return s
}

// share makes a change (set) here at once, and writes setting's new value
// (value, read after the change) for the other processes.
func (m *Moderator) share(ctx context.Context, setting string, set func(), value func() string) {
	st := m.settings()
	if st == nil {
		set()
		return
	}
	m.shared.write.Lock()
	defer m.shared.write.Unlock()
	m.shared.mu.Lock()
	set()
	v := value()
	m.shared.changes++
	m.shared.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	version, err := st.PutSetting(sctx, setting, v)
	m.shared.mu.Lock()
	defer m.shared.mu.Unlock()
	m.shared.changes++
	if err != nil {
		m.log.Warn("the other instances were not told: they are told once the store answers", "setting", setting, "err", err)
		if m.shared.unwritten == nil {
			m.shared.unwritten = map[string]bool{}
		}
		m.shared.unwritten[setting] = true
		return
	}
	delete(m.shared.unwritten, setting)
	m.shared.version, m.shared.known = version, true
}

// writeUnwritten writes the settings changed here that the store did not
// take, as they stand here now, and reports whether it wrote them all.
func (m *Moderator) writeUnwritten(ctx context.Context, st store.Settings) bool {
	m.shared.write.Lock()
	defer m.shared.write.Unlock()
	m.shared.mu.Lock()
	names := make([]string, 0, len(m.shared.unwritten))
	for name := range m.shared.unwritten {
		names = append(names, name)
	}
	m.shared.mu.Unlock()
	for _, name := range names {
		m.shared.mu.Lock()
		v := m.pauseValue()
		if name == settingMode && m.shift != nil {
			v = m.shift.value()
		}
		m.shared.changes++
		m.shared.mu.Unlock()
		sctx, cancel := m.storeContext(ctx)
		version, err := st.PutSetting(sctx, name, v)
		cancel()
		m.shared.mu.Lock()
		m.shared.changes++
		if err == nil {
			delete(m.shared.unwritten, name)
			m.shared.version, m.shared.known = version, true
		}
		m.shared.mu.Unlock()
		if err != nil {
			return false
		}
		m.log.Info("the other instances told of a change made while the store did not answer", "setting", name)
	}
	return true
}

// pauseValue is the pause as shared: "" none, "forever" until /resume, or
// its end.
func (m *Moderator) pauseValue() string {
	paused, until := m.Paused()
	switch {
	case !paused:
		return ""
	case until.IsZero():
		return "forever"
	}
	return until.UTC().Format(time.RFC3339Nano)
}

// sharedMode is the mode as shared: nothing when the schedule decides.
type sharedMode struct {
	Mode  string    `json:"mode"`
	Until time.Time `json:"until,omitzero"`
	By    string    `json:"by,omitempty"`
}

func (s *Shift) value() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.override == "" {
		return ""
	}
	b, _ := json.Marshal(sharedMode{Mode: s.override, Until: s.until, By: s.by})
	return string(b)
}

// FollowSettings reads the settings the processes sharing the store follow
// and, when another changed them since the last look, takes them up here:
// its pause or resume, its mode. It does nothing when the store is this
// process's alone, or does not answer (the next look tries again).
func (m *Moderator) FollowSettings(ctx context.Context) {
	st := m.settings()
	if st == nil {
		return
	}
	// What was changed here while the store did not answer is written
	// first: the store's older settings must not undo it here.
	if !m.writeUnwritten(ctx, st) {
		return
	}
	m.shared.mu.Lock()
	before := m.shared.changes
	m.shared.mu.Unlock()
	sctx, cancel := m.storeContext(ctx)
	values, version, err := st.Settings(sctx)
	cancel()
	m.shared.mu.Lock()
	defer m.shared.mu.Unlock()
	if err != nil || m.shared.changes != before || (m.shared.known && version == m.shared.version) {
		return
	}
	m.shared.version, m.shared.known = version, true
	if version == 0 {
		return // nothing set, or lost with the store's data: as it is here
	}
	if v, ok := values[settingPause]; ok && v != m.pauseValue() {
		switch v {
		case "":
			m.Resume()
			m.log.Info("resumed, as another instance was told")
		case "forever":
			m.Pause(time.Time{})
			m.log.Info("paused until /resume, as another instance was told")
		default:
			until, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				m.log.Warn("a pause shared by another instance does not read", "value", v, "err", err)
				break
			}
			if !until.After(m.now()) {
				break // over already
			}
			m.Pause(until)
			m.log.Info("paused, as another instance was told", "until", until)
		}
	}
	if v, ok := values[settingMode]; ok && m.shift != nil && v != m.shift.value() {
		if v == "" {
			m.shift.Auto()
			m.log.Info("shift mode", "mode", "auto", "by", "another instance")
			return
		}
		var sm sharedMode
		if err := json.Unmarshal([]byte(v), &sm); err != nil || (sm.Mode != ShiftOffice && sm.Mode != ShiftAfter) {
			m.log.Warn("a mode shared by another instance does not read", "value", v, "err", err)
			return
		}
		m.shift.force(sm.Mode, sm.Until, sm.By)
		m.log.Info("shift mode", "mode", sm.Mode, "until", sm.Until, "by", sm.By+", on another instance")
	}
}
