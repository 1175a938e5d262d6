package bot

import (
	"errors"
	"unicode/utf8"
)

// PlainRefusal is a platform's error that can say, in a line a CM reads on
// a phone at night, what the platform refused when vigie tried op, and what
// to do about it, the platform's code in brackets for whoever digs further:
// "Discord refused: vigie lacks the Ban Members permission in this server
// (or its role is below the member's) [discord 50013]". It says "" for a
// refusal it has no words for.
type PlainRefusal interface {
	PlainRefusal(op ActionKind) string
}

// Refused is a platform's refusal in a CM's words, as every platform's
// PlainRefusal says it: "Discord refused: vigie lacks … [discord 50013]".
// platform is the platform's name as a CM knows it, words what stands in
// the way and what to do, code the platform's own code for whoever digs
// further.
func Refused(platform, words, code string) string {
	return platform + " refused: " + words + " [" + code + "]"
}

// NotCarriedRaw bounds the raw error a card shows for a refusal that has
// no plain words.
const NotCarriedRaw = 300

// NotCarriedOut is what a case's card says under a decision that err left
// undone: "⚠️ Not carried out: " and the platform's refusal in plain words
// when it has them (PlainRefusal), else err's own text cut at
// NotCarriedRaw bytes. The whole error stays in the log and the audit.
func NotCarriedOut(err error) string {
	return "⚠️ Not carried out: " + RefusalWords(err)
}

// RefusalWords is err in a CM's words, as NotCarriedOut shows it.
func RefusalWords(err error) string {
	if err == nil {
		return ""
	}
	if s := PlainWords(err); s != "" {
		return s
	}
	s := err.Error()
	if len(s) <= NotCarriedRaw {
		return s
	}
	cut := NotCarriedRaw
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// PlainWords is err's refusal in a CM's words (PlainRefusal), or "" when
// the platform's error has none.
func PlainWords(err error) string {
	var op ActionKind
	var ae *ActionError
	if errors.As(err, &ae) {
		op = ae.Op
	}
	var p PlainRefusal
	if errors.As(err, &p) {
		return p.PlainRefusal(op)
	}
	return ""
}

// LoggedError is an error logged in whole where it arose, with what it was
// about (a decision not carried out: the case, the outcome, who, at warning
// level): the desks that pass it on to the CM log no second line of it.
type LoggedError struct{ Err error }

func (e *LoggedError) Error() string { return e.Err.Error() }
func (e *LoggedError) Unwrap() error { return e.Err }

// Logged reports whether err, or an error it wraps, is a *LoggedError.
func Logged(err error) bool {
	var l *LoggedError
	return errors.As(err, &l)
}
