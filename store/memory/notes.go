package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/vigie-bot/vigie/store"
)

var _ store.NoteKeeper = (*Store)(nil)

// noteBook holds the moderators' notes, by member.
type noteBook struct {
	mu    sync.Mutex
	notes map[authorKey][]store.Note
}

// AddNote keeps a note, the newest store.MaxNotes per member.
func (s *Store) AddNote(_ context.Context, n store.Note) error {
	b := &s.notes
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notes == nil {
		b.notes = make(map[authorKey][]store.Note)
	}
	k := authorKey{n.Platform, n.Space, n.Author}
	list := append(b.notes[k], n)
	if len(list) > store.MaxNotes {
		list = slices.Clone(list[len(list)-store.MaxNotes:])
	}
	b.notes[k] = list
	return nil
}

// Notes returns the member's notes, oldest first.
func (s *Store) Notes(_ context.Context, platform, space, author string) ([]store.Note, error) {
	b := &s.notes
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.notes[authorKey{platform, space, author}]), nil
}
