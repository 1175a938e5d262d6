package memory

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.CauseKeeper      = (*Store)(nil)
	_ store.CallKeeper       = (*Store)(nil)
	_ store.ToldKeeper       = (*Store)(nil)
	_ store.DeskMissedKeeper = (*Store)(nil)
	_ store.MessageCases     = (*Store)(nil)
	_ store.CallsWithCases   = (*Store)(nil)
)

// JoinCause is store.CauseKeeper's, in this process's memory.
func (s *Store) JoinCause(ctx context.Context, scope string, j store.CauseJoin, now time.Time, window time.Duration) (store.CauseCard, store.CauseTurn, error) {
	return s.causes.JoinCause(ctx, scope, j, now, window)
}

// CausePosted is store.CauseKeeper's.
func (s *Store) CausePosted(ctx context.Context, scope, lead string) error {
	return s.causes.CausePosted(ctx, scope, lead)
}

// ShowCause is store.CauseKeeper's.
func (s *Store) ShowCause(ctx context.Context, scope string) (store.CauseCard, bool, error) {
	return s.causes.ShowCause(ctx, scope)
}

// CloseCause is store.CauseKeeper's.
func (s *Store) CloseCause(ctx context.Context, scope, lead string) (store.CauseCard, bool, error) {
	return s.causes.CloseCause(ctx, scope, lead)
}

// Call is store.CallKeeper's, in this process's memory.
func (s *Store) Call(ctx context.Context, key string) (store.CallRecord, bool, error) {
	return s.calls.Call(ctx, key)
}

// KeepCall is store.CallKeeper's.
func (s *Store) KeepCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) error {
	return s.calls.KeepCall(ctx, key, r, ttl)
}

// ClaimCall is store.CallKeeper's.
func (s *Store) ClaimCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) (store.CallRecord, bool, error) {
	return s.calls.ClaimCall(ctx, key, r, ttl)
}

// KeepsCallsWithCases is store.CallsWithCases's: OpenCase keeps a case's
// Calls in the calls book.
func (s *Store) KeepsCallsWithCases() bool { return true }

// caseOfMessage names, in the calls book, the case opened for message.
func caseOfMessage(message string) string { return "case of " + message }

// CaseOfMessage is store.MessageCases's, in this process's memory.
func (s *Store) CaseOfMessage(ctx context.Context, message string) (string, error) {
	r, _, err := s.calls.Call(ctx, caseOfMessage(message))
	return r.By, err
}

// KeepCaseOfMessage is store.MessageCases's; OpenCase keeps it too, for a
// case opened with its Message.
func (s *Store) KeepCaseOfMessage(ctx context.Context, message, id string, at time.Time) error {
	return s.calls.KeepCall(ctx, caseOfMessage(message), store.CallRecord{At: at, Done: true, By: id}, store.MessageCallKeep)
}

// ClaimTold is store.ToldKeeper's, in this process's memory.
func (s *Store) ClaimTold(ctx context.Context, what, state string, r store.CallRecord, ttl time.Duration) (bool, error) {
	return s.calls.ClaimTold(ctx, what, state, r, ttl)
}

// AddDeskMissed is store.DeskMissedKeeper's, in this process's memory.
func (s *Store) AddDeskMissed(ctx context.Context, desk, id string) (int, error) {
	return s.deskMissed.AddDeskMissed(ctx, desk, id)
}

// TakeDeskMissed is store.DeskMissedKeeper's.
func (s *Store) TakeDeskMissed(ctx context.Context, desk string) ([]string, error) {
	return s.deskMissed.TakeDeskMissed(ctx, desk)
}
