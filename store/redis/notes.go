package redis

import (
	"context"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.NoteKeeper = (*Store)(nil)
	_ store.NoteKeeper = (*Fallback)(nil)
)

// notesKey is the list of a member's notes, as JSON, oldest first.
func (s *Store) notesKey(platform, space, author string) string {
	return s.tag(platform, space, author) + ":notes"
}

// AddNote keeps a note, the newest store.MaxNotes per member.
func (s *Store) AddNote(ctx context.Context, n store.Note) error {
	if err := s.settle(ctx); err != nil {
		return fmt.Errorf("redis note on %s: %w", n.Author, err)
	}
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("redis note on %s: %w", n.Author, err)
	}
	key := s.notesKey(n.Platform, n.Space, n.Author)
	p := s.c.Pipeline()
	p.RPush(ctx, key, b)
	p.LTrim(ctx, key, -store.MaxNotes, -1)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis note on %s: %w", n.Author, err)
	}
	return nil
}

// Notes returns the member's notes, oldest first.
func (s *Store) Notes(ctx context.Context, platform, space, author string) ([]store.Note, error) {
	if err := s.settle(ctx); err != nil {
		return nil, fmt.Errorf("redis notes on %s: %w", author, err)
	}
	p := s.c.Pipeline()
	get := p.LRange(ctx, s.notesKey(platform, space, author), 0, -1)
	if _, err := p.Exec(ctx); err != nil && err != goredis.Nil {
		return nil, fmt.Errorf("redis notes on %s: %w", author, err)
	}
	raws, err := get.Result()
	if err != nil && err != goredis.Nil {
		return nil, fmt.Errorf("redis notes on %s: %w", author, err)
	}
	out := make([]store.Note, 0, len(raws))
	for _, raw := range raws {
		var n store.Note
		if json.Unmarshal([]byte(raw), &n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// AddNote writes to Redis: a note is a moderator's deliberate act, which
// they are told failed rather than kept where other instances cannot see it.
func (f *Fallback) AddNote(ctx context.Context, n store.Note) error { return f.primary.AddNote(ctx, n) }

// Notes reads Redis.
func (f *Fallback) Notes(ctx context.Context, platform, space, author string) ([]store.Note, error) {
	return f.primary.Notes(ctx, platform, space, author)
}
