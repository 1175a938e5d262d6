package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Pending is a new member asked to press the verify: button, who has not yet.
type Pending struct {
	Platform string `json:"platform"`
	Space    string `json:"space"`
	User     string `json:"user"`
	Name     string `json:"name,omitempty"`
	// Prompt is where the prompt was posted, as the platform finds it again
	// to delete it: a Telegram message id, a Discord channel:message.
	Prompt   string    `json:"prompt,omitempty"`
	Deadline time.Time `json:"deadline"`
	// Hold is how the member is held, for letting them go whatever the
	// rule file says by then: on Discord a role's id, or "timeout"; empty
	// on Telegram (a restriction) and in records written before it was kept.
	Hold string `json:"hold,omitempty"`
}

// Verifications keeps the pending verifications where every instance sees
// them: the press may reach any instance, and the deadline is kept by
// whichever runs the periodic jobs.
type Verifications interface {
	// PutPending records p, replacing what was pending for the same member.
	PutPending(ctx context.Context, p Pending) error
	// IsPending reports whether the member was asked and has not answered.
	IsPending(ctx context.Context, platform, space, user string) (bool, error)
	// TakePending removes the member's pending verification and returns
	// it; ok is false when there was none. Of a press and a deadline that
	// race, only one takes it, and only that one acts.
	TakePending(ctx context.Context, platform, space, user string) (p Pending, ok bool, err error)
	// DuePending returns up to max pending verifications on platform whose
	// deadline is at or before now, earliest first; they stay pending until
	// taken.
	DuePending(ctx context.Context, platform string, now time.Time, max int) ([]Pending, error)
}

// TakeDue takes up to max of the pending verifications on platform whose
// deadline is at or before now, for the caller to settle: those a press or
// another instance took meanwhile are left out, so each is settled once. The
// errors of the takes that failed are joined; the others are still returned.
func TakeDue(ctx context.Context, v Verifications, platform string, now time.Time, max int) ([]Pending, error) {
	due, err := v.DuePending(ctx, platform, now, max)
	if err != nil {
		return nil, err
	}
	var errs []error
	taken := due[:0]
	for _, d := range due {
		p, ok, err := v.TakePending(ctx, platform, d.Space, d.User)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			taken = append(taken, p)
		}
	}
	return taken, errors.Join(errs...)
}

// The outcomes of verifications, in vigie_verifications_total{result}.
const (
	VerifyAsked  = "asked"
	VerifyPassed = "passed"
	VerifyKicked = "kicked"
	// VerifyKept: did not press in time, left held for the CMs (on_fail: keep).
	VerifyKept = "kept"
	// VerifyReleased: verification was turned off before they pressed.
	VerifyReleased = "released"
	// VerifyLeft: left before their time ran out.
	VerifyLeft = "left"
	// VerifyRefused: someone else pressed the member's button.
	VerifyRefused = "refused"
	// VerifyFailed: the platform refused to hold, post, lift or kick.
	VerifyFailed = "failed"
	// VerifyNotAsked: let in without being asked: too many new members were
	// waiting to be asked (a raid), or vigie stopped before it could ask.
	VerifyNotAsked = "not_asked"
)

// VerifyWaveBegins is what the desk is told when more than max new members
// wait to be asked, as in a raid, in where ("chat 42", "server 7"): the next
// ones are let in unasked (VerifyNotAsked).
func VerifyWaveBegins(max int, where string) string {
	return fmt.Sprintf("Verification: over %d new members are waiting to be asked, as in a raid (%s). "+
		"The next ones are let in without being asked; their joins still go to the rules. "+
		"You will be told how many once the wave is over.", max, where)
}

// VerifyWaveOver is what the desk is told once the wave is over: n members
// were let in unasked, as places says.
func VerifyWaveOver(n int, places string) string {
	return fmt.Sprintf("Verification: the wave is over. %d new members were let in without being asked (%s); "+
		"each is in the audit log (verify: new member not asked).", n, places)
}
