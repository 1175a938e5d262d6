// Package bot is vigie's shared vocabulary: the platform-neutral Event that every
// source produces, the Verdict the rules return, the Actions they ask for, and the
// small capability interfaces that platforms implement to carry them out.
package bot

import (
	"time"
)

// Kind says what happened. More kinds may come; rules compare it as a string.
type Kind string

// The kinds of event vigie knows today.
const (
	KindMessage Kind = "message"
	KindEdit    Kind = "edit"
	KindComment Kind = "comment"
	KindJoin    Kind = "join"
	KindDM      Kind = "dm"
)

// Author is who wrote or did the event.
type Author struct {
	ID    string   `json:"id"`
	Name  string   `json:"name,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// Staff marks the community's own moderators and the brand's accounts.
	Staff bool `json:"staff,omitempty"`
	// RolesUnknown says the platform could not tell whether the author holds a
	// staff role (a lookup failed, nothing known to fall back on), so a false
	// Staff may be wrong. The event is still judged, but no platform action is
	// taken on such an author: it becomes a case for the CMs instead.
	RolesUnknown bool `json:"roles_unknown,omitempty"`
	// Bot marks automated accounts as the platform reports them.
	Bot       bool      `json:"bot,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	JoinedAt  time.Time `json:"joined_at,omitzero"`
}

// Event is one thing that happened on a platform, in vigie's neutral shape. Its JSON
// form is the contract of POST /v1/events and of the files vigie replay reads.
type Event struct {
	ID          string    `json:"id"`
	Platform    string    `json:"platform"`
	Kind        Kind      `json:"kind"`
	Space       string    `json:"space,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Thread      string    `json:"thread,omitempty"`
	Author      Author    `json:"author"`
	Text        string    `json:"text"`
	ReplyTo     string    `json:"reply_to,omitempty"`
	Attachments int       `json:"attachments,omitempty"`
	At          time.Time `json:"at"`
	// Label is the known category of a historical event (ok, spam, abuse, ...);
	// only vigie replay reads it.
	Label string `json:"label,omitempty"`
	// Link points at the message on its platform, when the platform has links.
	Link string `json:"link,omitempty"`
}

// Key identifies the event across platforms; the store dedupes on it.
func (e Event) Key() string { return e.Platform + ":" + e.ID }
