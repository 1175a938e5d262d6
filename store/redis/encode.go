package redis

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/jsonstr"
	"github.com/vigie-bot/vigie/store"
)

// The journal entry, the audit entry, the case and the history's entry each
// carry an event and most a verdict: on a stream where most events match,
// encoding/json spent about a tenth of vigie's CPU on them, walking the same
// types by reflection every time. These write the same bytes as json.Marshal
// (TestEncodeMatchesMarshal fills every field of the types by reflection, so
// a field added to them and not here fails it), straight into one buffer.

// encodeJournal is json.Marshal(e).
func encodeJournal(e *store.JournalEntry) ([]byte, error) {
	return appendJournal(make([]byte, 0, 1024+len(e.Event.Text)), e)
}

// appendJournal appends json.Marshal(e) to b.
func appendJournal(b []byte, e *store.JournalEntry) ([]byte, error) {
	if !timesFit(e.At, e.Begun, e.Event.At, e.Event.Author.CreatedAt, e.Event.Author.JoinedAt, e.Verdict.At) {
		data, err := json.Marshal(e)
		return append(b, data...), err
	}
	b = jsonstr.AppendHTML(append(b, `{"key":`...), e.Key)
	b = appendEvent(append(b, `,"event":`...), &e.Event)
	b = appendVerdict(append(b, `,"verdict":`...), &e.Verdict)
	b = appendTime(append(b, `,"at":`...), e.At)
	b = appendTime(append(b, `,"begun":`...), e.Begun)
	if e.Tries != 0 {
		b = strconv.AppendInt(append(b, `,"tries":`...), int64(e.Tries), 10)
	}
	b = appendOmitString(b, `,"case":`, e.Case)
	b = appendOmitString(b, `,"case_origin":`, e.CaseOrigin)
	b = appendActions(b, `,"done":[`, e.Done)
	b = appendActions(b, `,"trying":[`, e.Trying)
	return append(b, '}'), nil
}

// encodeAudit is json.Marshal(e).
func encodeAudit(e *store.AuditEntry) ([]byte, error) {
	return appendAudit(make([]byte, 0, 1024+len(e.Event.Text)), e)
}

// appendAudit appends json.Marshal(e) to b.
func appendAudit(b []byte, e *store.AuditEntry) ([]byte, error) {
	if !timesFit(e.At, e.Event.At, e.Event.Author.CreatedAt, e.Event.Author.JoinedAt, e.Verdict.At) {
		data, err := json.Marshal(e)
		return append(b, data...), err
	}
	b = appendTime(append(b, `{"at":`...), e.At)
	b = appendEvent(append(b, `,"event":`...), &e.Event)
	b = appendVerdict(append(b, `,"verdict":`...), &e.Verdict)
	b = appendOmitString(b, `,"mode":`, e.Mode)
	b = appendOmitString(b, `,"by":`, e.By)
	b = appendOmitString(b, `,"failed":`, e.Failed)
	return append(b, '}'), nil
}

// encodeEvent is json.Marshal(ev).
func encodeEvent(ev *bot.Event) ([]byte, error) {
	if !timesFit(ev.At, ev.Author.CreatedAt, ev.Author.JoinedAt) {
		return json.Marshal(ev)
	}
	return appendEvent(make([]byte, 0, 256+len(ev.Text)), ev), nil
}

// timesFit says whether every time is one json.Marshal writes as
// RFC 3339: it refuses years outside 0-9999 and zone offsets of a day or
// more, and so does the caller then.
func timesFit(ts ...time.Time) bool {
	for _, t := range ts {
		if !bot.PlainTime(t) {
			return false
		}
	}
	return true
}

func appendTime(b []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

func appendEvent(b []byte, e *bot.Event) []byte {
	b = jsonstr.AppendHTML(append(b, `{"id":`...), e.ID)
	b = jsonstr.AppendHTML(append(b, `,"platform":`...), e.Platform)
	b = jsonstr.AppendHTML(append(b, `,"kind":`...), string(e.Kind))
	b = appendOmitString(b, `,"space":`, e.Space)
	b = appendOmitString(b, `,"channel":`, e.Channel)
	b = appendOmitString(b, `,"thread":`, e.Thread)
	b = appendAuthor(append(b, `,"author":`...), &e.Author)
	b = jsonstr.AppendHTML(append(b, `,"text":`...), e.Text)
	b = appendOmitString(b, `,"reply_to":`, e.ReplyTo)
	if e.Attachments != 0 {
		b = strconv.AppendInt(append(b, `,"attachments":`...), int64(e.Attachments), 10)
	}
	if f := e.Forward; f != nil {
		b = append(b, `,"forward":{`...)
		n := len(b)
		b = appendOmitString(b, `,"from":`, f.From)
		b = appendOmitString(b, `,"text":`, f.Text)
		b = append(unfirst(b, n), '}')
	}
	if len(e.Embeds) > 0 {
		b = append(b, `,"embeds":[`...)
		for i := range e.Embeds {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEmbed(b, &e.Embeds[i])
		}
		b = append(b, ']')
	}
	if len(e.Files) > 0 {
		b = appendStrings(append(b, `,"files":`...), e.Files)
	}
	if len(e.HiddenLinks) > 0 {
		b = appendStrings(append(b, `,"hidden_links":`...), e.HiddenLinks)
	}
	if p := e.Poll; p != nil {
		b = append(b, `,"poll":{`...)
		n := len(b)
		b = appendOmitString(b, `,"question":`, p.Question)
		b = appendOmitString(b, `,"description":`, p.Description)
		if len(p.Options) > 0 {
			b = appendStrings(append(b, `,"options":`...), p.Options)
		}
		b = appendOmitString(b, `,"explanation":`, p.Explanation)
		b = append(unfirst(b, n), '}')
	}
	b = appendTime(append(b, `,"at":`...), e.At)
	b = appendOmitString(b, `,"label":`, e.Label)
	b = appendOmitString(b, `,"link":`, e.Link)
	return append(b, '}')
}

func appendAuthor(b []byte, a *bot.Author) []byte {
	b = jsonstr.AppendHTML(append(b, `{"id":`...), a.ID)
	b = appendOmitString(b, `,"name":`, a.Name)
	b = appendOmitString(b, `,"username":`, a.Username)
	if len(a.Roles) > 0 {
		b = appendStrings(append(b, `,"roles":`...), a.Roles)
	}
	b = appendTrue(b, `,"staff":true`, a.Staff)
	b = appendTrue(b, `,"roles_unknown":true`, a.RolesUnknown)
	b = appendTrue(b, `,"bot":true`, a.Bot)
	b = appendTrue(b, `,"unverified":true`, a.Unverified)
	if !a.CreatedAt.IsZero() {
		b = appendTime(append(b, `,"created_at":`...), a.CreatedAt)
	}
	if !a.JoinedAt.IsZero() {
		b = appendTime(append(b, `,"joined_at":`...), a.JoinedAt)
	}
	return append(b, '}')
}

func appendEmbed(b []byte, e *bot.Embed) []byte {
	b = append(b, '{')
	n := len(b)
	b = appendOmitString(b, `,"author":`, e.Author)
	b = appendOmitString(b, `,"author_url":`, e.AuthorURL)
	b = appendOmitString(b, `,"title":`, e.Title)
	b = appendOmitString(b, `,"description":`, e.Description)
	b = appendOmitString(b, `,"url":`, e.URL)
	if len(e.Fields) > 0 {
		b = append(b, `,"fields":[`...)
		for i, f := range e.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			m := len(b)
			b = appendOmitString(b, `,"name":`, f.Name)
			b = appendOmitString(b, `,"value":`, f.Value)
			b = append(unfirst(b, m), '}')
		}
		b = append(b, ']')
	}
	b = appendOmitString(b, `,"footer":`, e.Footer)
	return append(unfirst(b, n), '}')
}

// appendVerdict writes v as json.Marshal does.
func appendVerdict(b []byte, v *bot.Verdict) []byte {
	return append(bot.AppendVerdictOpen(b, v, true), '}')
}

func appendTrue(b []byte, field string, v bool) []byte {
	if v {
		return append(b, field...)
	}
	return b
}

func appendOmitString(b []byte, field, s string) []byte {
	if s == "" {
		return b
	}
	return jsonstr.AppendHTML(append(b, field...), s)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.AppendHTML(b, s)
	}
	return append(b, ']')
}

// unfirst drops the comma that starts an object's first field, written at n.
func unfirst(b []byte, n int) []byte {
	if len(b) > n && b[n] == ',' {
		return append(b[:n], b[n+1:]...)
	}
	return b
}

// appendActions writes field (its name and the opening bracket) and as, when
// as is not empty.
func appendActions(b []byte, field string, as []bot.Action) []byte {
	if len(as) == 0 {
		return b
	}
	b = append(b, field...)
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = bot.AppendActionJSON(b, a, true)
	}
	return append(b, ']')
}

// encodeCase is json.Marshal(c).
func encodeCase(c *store.Case) ([]byte, error) {
	if !timesFit(c.Opened, c.DecidedAt, c.Event.At, c.Event.Author.CreatedAt, c.Event.Author.JoinedAt) {
		return json.Marshal(c)
	}
	b := make([]byte, 0, 1024+len(c.Event.Text))
	b = jsonstr.AppendHTML(append(b, `{"id":`...), c.ID)
	b = appendTime(append(b, `,"opened":`...), c.Opened)
	b = jsonstr.AppendHTML(append(b, `,"status":`...), string(c.Status))
	b = appendEvent(append(b, `,"event":`...), &c.Event)
	b = appendOmitString(b, `,"rule":`, c.Rule)
	b = appendOmitString(b, `,"category":`, c.Category)
	b = jsonstr.AppendHTML(append(b, `,"reason":`...), c.Reason)
	b = appendActions(b, `,"suggested":[`, c.Suggested)
	b = appendActions(b, `,"not_done":[`, c.NotDone)
	b = appendActions(b, `,"trying":[`, c.Trying)
	b = appendOmitString(b, `,"priority":`, c.Priority)
	b = appendOmitString(b, `,"outcome":`, c.Outcome)
	b = appendOmitString(b, `,"decided_by":`, c.DecidedBy)
	b = appendOmitString(b, `,"decider_name":`, c.DeciderName)
	if !c.DecidedAt.IsZero() {
		b = appendTime(append(b, `,"decided_at":`...), c.DecidedAt)
	}
	b = appendOmitString(b, `,"undeliverable":`, c.Undeliverable)
	b = appendTrue(b, `,"holds":true`, c.Holds)
	if c.Count != 0 {
		b = strconv.AppendInt(append(b, `,"count":`...), int64(c.Count), 10)
	}
	if len(c.Latest) > 0 {
		b = appendStrings(append(b, `,"latest":`...), c.Latest)
	}
	if len(c.Refs) > 0 {
		refs, err := json.Marshal(c.Refs)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"refs":`...), refs...)
	}
	b = appendOmitString(b, `,"community":`, c.Community)
	b = appendOmitString(b, `,"carried":`, c.Carried)
	b = appendTrue(b, `,"carrying":true`, c.Carrying)
	b = appendOmitString(b, `,"carryingMark":`, c.CarryingMark)
	b = appendTrue(b, `,"unverified":true`, c.Unverified)
	if len(c.Rules) > 0 {
		b = appendStrings(append(b, `,"rules":`...), c.Rules)
	}
	if c.Edited != nil {
		// rare (a message edited while its case is open): as encoding/json
		// writes it
		e, err := json.Marshal(c.Edited)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"edited":`...), e...)
	}
	b = appendOmitString(b, `,"cause":`, c.Cause)
	return append(b, '}'), nil
}
