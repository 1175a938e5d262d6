// Package bot is vigie's shared vocabulary: the platform-neutral Event that every
// source produces, the Verdict the rules return, the Actions they ask for, and the
// small capability interfaces that platforms implement to carry them out.
package bot

import (
	"strings"
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
	// KindProfile is a member's names as a space shows them, when they join
	// and when they change them: rules judge names as they judge text.
	KindProfile Kind = "profile"
)

// Author is who wrote or did the event.
type Author struct {
	ID string `json:"id"`
	// Name is the name the space shows: a nickname, or the display name.
	Name string `json:"name,omitempty"`
	// Username is the account's handle (Discord's username, Telegram's
	// @username), when the platform has one.
	Username string   `json:"username,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	// Staff marks the community's own moderators and the brand's accounts.
	Staff bool `json:"staff,omitempty"`
	// RolesUnknown says the platform could not tell whether the author holds a
	// staff role (a lookup failed, nothing known to fall back on), so a false
	// Staff may be wrong. The event is still judged, but no platform action is
	// taken on such an author: it becomes a case for the CMs instead.
	RolesUnknown bool `json:"roles_unknown,omitempty"`
	// Bot marks automated accounts as the platform reports them.
	Bot bool `json:"bot,omitempty"`
	// Unverified marks a new member who has not yet pressed the verify:
	// button. Everyone else counts as verified, members who joined before
	// vigie or while verification was off among them: the zero value is
	// the usual case, and an event from elsewhere need not say.
	Unverified bool      `json:"unverified,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	JoinedAt   time.Time `json:"joined_at,omitzero"`
}

// Event is one thing that happened on a platform, in vigie's neutral shape. Its JSON
// form is the contract of POST /v1/events and of the files vigie replay reads.
type Event struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Kind     Kind   `json:"kind"`
	Space    string `json:"space,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Thread   string `json:"thread,omitempty"`
	Author   Author `json:"author"`
	// Text is what the author wrote: a message, a caption, a comment. What
	// else the message shows (a forward, embeds, a poll, file names, hidden
	// link targets) is in the fields below, and Content joins it all.
	Text        string `json:"text"`
	ReplyTo     string `json:"reply_to,omitempty"`
	Attachments int    `json:"attachments,omitempty"`
	// Forward is the message this one forwards, when it is a forward.
	Forward *Forward `json:"forward,omitempty"`
	// Embeds are the cards shown with the message (link previews, a
	// forwarded bot message's embeds).
	Embeds []Embed `json:"embeds,omitempty"`
	// Files are the names of the attached files, as the sender gave them.
	Files []string `json:"files,omitempty"`
	// HiddenLinks are link targets the text does not show: a Telegram
	// text_link behind its words.
	HiddenLinks []string `json:"hidden_links,omitempty"`
	// Poll is the poll the message asks.
	Poll *Poll     `json:"poll,omitempty"`
	At   time.Time `json:"at"`
	// Label is the known category of a historical event (ok, spam, abuse, ...);
	// only vigie replay reads it.
	Label string `json:"label,omitempty"`
	// Link points at the message on its platform, when the platform has links.
	Link string `json:"link,omitempty"`
}

// Key identifies the event across platforms; the store dedupes on it.
func (e Event) Key() string { return e.Platform + ":" + e.ID }

// MemberKey names e's author in e's space: "PLATFORM|SPACE|AUTHOR", the key
// of their ban in the store's ban book and of their lock.
func MemberKey(e Event) string { return e.Platform + "|" + e.Space + "|" + e.Author.ID }

// Forward is a forwarded message: where it came from (a chat, a channel, a
// user, a server, as the platform names it) and its text.
type Forward struct {
	From string `json:"from,omitempty"`
	Text string `json:"text,omitempty"`
}

// Embed is a card shown with a message.
type Embed struct {
	// Author is the name shown above the title (a link preview's site or
	// account, as the page names itself).
	Author string `json:"author,omitempty"`
	// AuthorURL is where the author's name leads, when it is a link.
	AuthorURL   string       `json:"author_url,omitempty"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Fields      []EmbedField `json:"fields,omitempty"`
	// Footer is the text shown at the bottom of the card.
	Footer string `json:"footer,omitempty"`
}

// EmbedField is one name and value of an embed.
type EmbedField struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// Poll is a poll's question, its description and options, and a quiz's
// explanation, shown to whoever answers it wrong.
type Poll struct {
	Question    string   `json:"question,omitempty"`
	Description string   `json:"description,omitempty"`
	Options     []string `json:"options,omitempty"`
	Explanation string   `json:"explanation,omitempty"`
}

// Content is everything the event gives to read, one piece a line: the text,
// the forward (where from, its text), the poll, the embeds, the file names and the hidden link
// targets; for a profile event, the member's name and username. Rules read it
// so that a scam is caught wherever in the message it hides. A message with
// nothing but text has its text as content, without a copy.
func (e *Event) Content() string {
	if e.Kind == KindProfile {
		if e.Author.Username == "" || e.Author.Username == e.Author.Name {
			return e.Author.Name
		}
		if e.Author.Name == "" {
			return e.Author.Username
		}
		return e.Author.Name + "\n" + e.Author.Username
	}
	if e.Forward == nil && len(e.Embeds) == 0 && len(e.Files) == 0 && len(e.HiddenLinks) == 0 && e.Poll == nil {
		return e.Text
	}
	var b strings.Builder
	line := func(s string) {
		if s == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	line(e.Text)
	if f := e.Forward; f != nil {
		line(f.From)
		line(f.Text)
	}
	if p := e.Poll; p != nil {
		line(p.Question)
		line(p.Description)
		for _, o := range p.Options {
			line(o)
		}
		line(p.Explanation)
	}
	for _, em := range e.Embeds {
		line(em.Author)
		line(em.Title)
		line(em.Description)
		for _, f := range em.Fields {
			line(f.Name)
			line(f.Value)
		}
		line(em.Footer)
		line(em.URL)
		line(em.AuthorURL)
	}
	for _, f := range e.Files {
		line(f)
	}
	for _, l := range e.HiddenLinks {
		line(l)
	}
	return b.String()
}
