package telegram

import (
	"encoding/json"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// What a member shows besides a text or a caption: a contact's card, a
// venue, an audio's performer and title, a checklist, a poll's description
// and a quiz's explanation. Each is written by the member (a contact's name
// and card are whatever they typed), and each is a place to put a scam's
// address or a slur where no text is.

// richFields are the fields of a message that the client library does not
// decode (later Bot APIs than its own), read from the raw update.
type richFields struct {
	checklist *checklist
	// pollDescription is a poll's description (Bot API 10.0), with its
	// entities.
	pollDescription         string
	pollDescriptionEntities []tgbotapi.MessageEntity
}

// checklist is Bot API's Checklist: a title and its tasks.
type checklist struct {
	Title         string                   `json:"title"`
	TitleEntities []tgbotapi.MessageEntity `json:"title_entities"`
	Tasks         []struct {
		Text         string                   `json:"text"`
		TextEntities []tgbotapi.MessageEntity `json:"text_entities"`
	} `json:"tasks"`
}

// readRich reads the fields of m that the library leaves out.
func readRich(u *update, m map[string]json.RawMessage) {
	if raw, ok := m["checklist"]; ok {
		var c checklist
		if json.Unmarshal(raw, &c) == nil {
			u.rich.checklist = &c
		}
	}
	if raw, ok := m["poll"]; ok {
		var p struct {
			Description         string                   `json:"description"`
			DescriptionEntities []tgbotapi.MessageEntity `json:"description_entities"`
		}
		if json.Unmarshal(raw, &p) == nil {
			u.rich.pollDescription, u.rich.pollDescriptionEntities = p.Description, p.DescriptionEntities
		}
	}
}

// memberShownText is what m shows in place of a text or caption: a contact's name,
// number and card, a venue's name and address, a checklist's title and
// tasks; "" when it shows none of them.
func memberShownText(m *tgbotapi.Message, rich richFields) string {
	var lines []string
	line := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	if c := m.Contact; c != nil {
		line(c.FirstName + " " + c.LastName)
		line(c.PhoneNumber)
		for _, v := range cardValues(c.VCard) {
			line(v)
		}
	}
	if v := m.Venue; v != nil {
		line(v.Title)
		line(v.Address)
	}
	if c := rich.checklist; c != nil {
		line(c.Title)
		for _, t := range c.Tasks {
			line(t.Text)
		}
	}
	return strings.Join(lines, "\n")
}

// cardProperties are the properties of a vCard whose values a contact shows
// beside its name and number: an organisation, a title, a note, an address
// on the web or by mail. The name (FN, N) and numbers (TEL) are the
// contact's own fields already.
var cardProperties = []string{"ORG", "TITLE", "NOTE", "URL", "EMAIL"}

// cardValues are the values of a vCard's cardProperties, in its order.
func cardValues(card string) []string {
	// a long line goes on in the next lines that begin with a space or tab
	card = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(card)
	var out []string
	for l := range strings.Lines(card) {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r\n"), ":")
		if !ok {
			continue
		}
		// "item1.URL;TYPE=home" is a URL
		name, _, _ = strings.Cut(name, ";")
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		for _, p := range cardProperties {
			if strings.EqualFold(name, p) {
				// ORG's parts are separated by ";", and "\," "\;" "\n" are escapes
				value = strings.NewReplacer(";", " ", `\,`, ",", `\;`, ";", `\n`, " ", `\N`, " ").Replace(value)
				if v := strings.TrimSpace(value); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// audioName is an audio's performer and title as the player shows them,
// "" when it has neither.
func audioName(a *tgbotapi.Audio) string {
	switch {
	case a == nil:
		return ""
	case a.Performer != "" && a.Title != "":
		return a.Performer + " - " + a.Title
	default:
		return a.Performer + a.Title
	}
}

// shownEntities are the entities of what m shows besides its text and
// caption: hidden links may be in a checklist's tasks, a poll's description
// or a quiz's explanation too.
func shownEntities(m *tgbotapi.Message, rich richFields) []tgbotapi.MessageEntity {
	var out []tgbotapi.MessageEntity
	if p := m.Poll; p != nil {
		out = append(out, p.ExplanationEntities...)
	}
	out = append(out, rich.pollDescriptionEntities...)
	if c := rich.checklist; c != nil {
		out = append(out, c.TitleEntities...)
		for _, t := range c.Tasks {
			out = append(out, t.TextEntities...)
		}
	}
	return out
}

// shownPoll is m's poll as an event carries it.
func shownPoll(p *tgbotapi.Poll, rich richFields) *bot.Poll {
	out := &bot.Poll{Question: p.Question, Description: rich.pollDescription, Explanation: p.Explanation}
	for _, o := range p.Options {
		out.Options = append(out.Options, o.Text)
	}
	return out
}
