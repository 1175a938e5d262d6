package store

import (
	"context"
	"time"
)

// Note is a moderator's private note on a member of a place (/note): never
// shown to the member, shown to the moderators on the member's cases.
type Note struct {
	Platform string    `json:"platform"`
	Space    string    `json:"space"`
	Author   string    `json:"author"`
	Text     string    `json:"text"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// MaxNotes is how many notes are kept per member: the newest.
const MaxNotes = 50

// NoteKeeper is offered by a store that keeps the moderators' notes on
// members; the commands and the desks check for it by type assertion.
type NoteKeeper interface {
	// AddNote keeps a note; past MaxNotes for the member, the oldest goes.
	AddNote(ctx context.Context, n Note) error
	// Notes returns the member's notes, oldest first.
	Notes(ctx context.Context, platform, space, author string) ([]Note, error)
}
