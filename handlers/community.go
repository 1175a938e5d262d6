package handlers

import (
	"context"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// CommunityDesk is a Desk that shows each community's alerts on the
// community's own desk (the rule file's communities:). Its cases find their
// way by store.Case.Community.
type CommunityDesk interface {
	Desk
	// AlertCommunity sends an urgent message to the community's desk, or to
	// the file's desk when the community has none there.
	AlertCommunity(ctx context.Context, community, text string) error
}

// SetCommunities says which community each place is in, as the rule file's
// communities: now does: the cases opened from then on record it, and the
// alerts go to its desk. Nil (the default) is no communities.
func (m *Moderator) SetCommunities(rs *rules.Ruleset) { m.communities.Store(rs) }

// communityOf is the name of ev's community, "" when it is in none.
func (m *Moderator) communityOf(ev bot.Event) string {
	if c := communityOf(m.communities.Load(), ev); c != nil {
		return c.Name
	}
	return ""
}

func communityOf(rs *rules.Ruleset, ev bot.Event) *rules.Community {
	if rs == nil {
		return nil
	}
	return rs.CommunityOf(ev.Platform, ev.Space)
}

// deskAlert sends an alert about ev to the desk of its community in the
// rule file rs.
func (m *Moderator) deskAlert(ctx context.Context, rs *rules.Ruleset, ev bot.Event, text string) error {
	if cd, ok := m.desk.(CommunityDesk); ok {
		if c := communityOf(rs, ev); c != nil {
			return cd.AlertCommunity(ctx, c.Name, text)
		}
	}
	return m.desk.Alert(ctx, text)
}

// SetCommunities says which community each place is in: the actions in a
// community's places are logged to its mod-log (rules.Community.ModLog),
// the others as SetConfig says.
func (l *ModLog) SetCommunities(rs *rules.Ruleset) {
	if l != nil {
		l.communities.Store(rs)
	}
}

// confFor is the mod-log configuration ev's actions are logged by, as the
// rule file rs says (its community's, or the file's own), or, for nil, as
// SetCommunities and SetConfig said last.
func (l *ModLog) confFor(rs *rules.Ruleset, ev bot.Event) *rules.ModLog {
	if rs == nil {
		if c := communityOf(l.communities.Load(), ev); c != nil {
			return &c.ModLog
		}
		return l.conf.Load()
	}
	if c := communityOf(rs, ev); c != nil {
		return &c.ModLog
	}
	return &rs.ModLog
}

// modeFor is the mode ev is handled in, as its audit entry records it: the
// office hours of the rule file rs, or of its community when it has its own,
// unless the desk forced a mode or paused vigie.
func (m *Moderator) modeFor(rs *rules.Ruleset, ev bot.Event) string {
	mode := m.Mode()
	if mode == "paused" || m.shift == nil || rs == nil {
		return mode
	}
	now := m.now()
	c := communityOf(rs, ev)
	if c == nil {
		if m.shift.AfterHoursBy(rs.AfterHours, now) {
			return ShiftAfter
		}
		return ShiftOffice
	}
	if _, forced := m.shift.Forced(now); forced {
		return mode
	}
	if c.AfterHours(now) {
		return ShiftAfter
	}
	return ShiftOffice
}
