package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
)

var errNoDesk = errors.New("discord: no desk channel configured (DISCORD_DESK_CHANNEL)")

type commandsBox struct{ c bot.DeskCommands }

// Desk posts cases and alerts to the desk channel.
type Desk struct{ c *Client }

// Desk connects the desk to cmds, which decides cases and answers commands, and
// returns what posts cards and alerts. Call it before Run; until then, buttons
// and commands are answered "not ready".
func (c *Client) Desk(cmds bot.DeskCommands) *Desk {
	c.commands.Store(&commandsBox{c: cmds})
	return &Desk{c: c}
}

func (c *Client) cmds() bot.DeskCommands {
	if b := c.commands.Load(); b != nil {
		return b.c
	}
	return nil
}

// PostCard posts a case to the desk channel, with its buttons.
func (d *Desk) PostCard(ctx context.Context, card bot.Card) error {
	ch := cmp.Or(card.Desk, d.c.desk.Load().channel)
	if ch == "" {
		return errNoDesk
	}
	cctx, cancel := callContext(ctx)
	defer cancel()
	sent, err := d.c.sess.ChannelMessageSendComplex(ch, &discordgo.MessageSend{
		Content:         renderCard(card, cardNames{posesAs: d.c.posesAs(ctx, ch, card)}, ""),
		Components:      buttons(card),
		AllowedMentions: noMentions,
		// a member's link on the card shows no preview: its title and
		// picture are whatever its site chose, under vigie's words
		Flags: discordgo.MessageFlagsSuppressEmbeds,
	}, opts(cctx)...)
	if err != nil {
		return d.c.classify(cctx, bot.ActForward, err)
	}
	// Where the card is goes to the store, for whichever process decides
	// the case to edit it. Not an error: the card is posted, and posting it
	// again would make two.
	if book, ok := d.c.cmds().(bot.CardBook); ok && sent != nil && sent.ID != "" && card.ID != "" {
		if err := book.AddCard(ctx, card.ID, bot.CardRef{Platform: Platform, Chat: ch, Message: sent.ID}); err != nil {
			d.c.log.Warn("card posted, but where it is was not recorded: a decision taken elsewhere will not show on it",
				"case", card.ID, "channel", ch, "message", sent.ID, "err", err)
		}
	}
	return nil
}

// EditCard shows a case as it now stands on a card posted by this process or
// another, without its buttons once decided. A card Discord refuses to edit
// (deleted, no access) is a permanent error; one it cannot edit now (rate
// limited, down) is worth another try, as for every action.
func (d *Desk) EditCard(ctx context.Context, ref bot.CardRef, card bot.Card, note string) error {
	if ref.Platform != Platform {
		return &bot.ActionError{Op: "edit", Err: fmt.Errorf("discord: a %s card is not ours", ref.Platform)}
	}
	n := cardNames{decider: cmp.Or(bot.DeciderName(ctx), card.DeciderName), posesAs: d.c.posesAs(ctx, ref.Chat, card)}
	return d.c.editCard(ctx, ref.Chat, ref.Message, renderCard(card, n, note), buttons(card))
}

var _ bot.CardEditor = (*Desk)(nil)

// editCard replaces a card's text and buttons.
func (c *Client) editCard(ctx context.Context, channel, message, text string, components []discordgo.MessageComponent) error {
	ctx, cancel := callContext(ctx)
	defer cancel()
	// Written as the API describes it: discordgo's MessageEdit also sends its
	// ID and Channel fields in the body.
	endpoint := discordgo.EndpointChannelMessage(channel, message)
	_, err := c.sess.RequestWithBucketID("PATCH", endpoint, map[string]any{
		"content": text, "components": components, "allowed_mentions": noMentions, "flags": discordgo.MessageFlagsSuppressEmbeds,
	}, discordgo.EndpointChannelMessage(channel, ""), opts(ctx)...)
	return c.classify(ctx, "edit", err)
}

// Alert posts an urgent message to the desk channel.
func (d *Desk) Alert(ctx context.Context, text string) error {
	return d.AlertIn(ctx, d.c.desk.Load().channel, text)
}

// AlertIn posts an urgent message to a desk channel: the desk's, or a
// community's.
func (d *Desk) AlertIn(ctx context.Context, ch, text string) error {
	if ch == "" {
		return errNoDesk
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := d.c.sess.ChannelMessageSendComplex(ch, &discordgo.MessageSend{
		Content: truncate("🚨 "+md(text), 2000), AllowedMentions: noMentions, Flags: discordgo.MessageFlagsSuppressEmbeds,
	}, opts(ctx)...)
	return d.c.classify(ctx, bot.ActAlert, err)
}

// A button's custom_id is "vigie:v1:<case id>:<button>", within Discord's 100 characters.
const (
	customPrefix = "vigie:v1:"
	maxCustomID  = 100
)

func customID(caseID, button string) string { return customPrefix + caseID + ":" + button }

func parseCustomID(id string) (caseID, button string, ok bool) {
	rest, ok := strings.CutPrefix(id, customPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// buttons are the card's: keep, delete (hide, for a page's comment), timeout
// 1h, ban, and below them unhide, remove timeout and unban when the rule hid,
// timed out or banned and it was carried out; none once decided; of those,
// only what the case's platform can do to its message (card.Offers).
// "delete" and "unmute" are the longest button names.
func buttons(card bot.Card) []discordgo.MessageComponent {
	if card.Decided() || card.ID == "" || len(customID(card.ID, "delete")) > maxCustomID {
		return []discordgo.MessageComponent{}
	}
	button := func(outcome, label, emoji string, style discordgo.ButtonStyle, name string) []discordgo.MessageComponent {
		if !card.Offered(outcome) {
			return nil
		}
		return []discordgo.MessageComponent{discordgo.Button{Label: label, Emoji: &discordgo.ComponentEmoji{Name: emoji}, Style: style, CustomID: customID(card.ID, name)}}
	}
	keep := button(bot.OutcomeKeep, "Keep", "✅", discordgo.SuccessButton, "keep")
	if card.Unverified {
		// its message may be forged: keep only (Decide refuses the rest)
		return []discordgo.MessageComponent{discordgo.ActionsRow{Components: keep}}
	}
	// Each button is offered only where the case's platform can carry it
	// out on its message (card.Offers); the others keep their places.
	// A page's comment is hidden rather than deleted, as the rules do;
	// deleted where it cannot be hidden.
	remove := button(bot.OutcomeDelete, "Delete", "🗑", discordgo.SecondaryButton, "delete")
	if hide := button(bot.OutcomeHide, "Hide", "🙈", discordgo.SecondaryButton, "hide"); hide != nil && (card.Event.Kind == bot.KindComment || remove == nil) {
		remove = hide
	}
	var rows []discordgo.MessageComponent
	if first := slices.Concat(keep, remove,
		button(bot.OutcomeTimeout, "Timeout 1h", "🔇", discordgo.SecondaryButton, "mute"),
		button(bot.OutcomeBan, "Ban", "⛔", discordgo.DangerButton, "ban")); len(first) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: first})
	}
	// What the rule did to the author, the moderator can undo from the card,
	// each button once (Discord refuses a message whose custom_ids repeat);
	// not what failed or was held: the row above offers to do that.
	var undo []discordgo.MessageComponent
	if card.CarriedOut(bot.ActHide) {
		undo = append(undo, button(bot.OutcomeUnhide, "Unhide", "👁", discordgo.SecondaryButton, "unhide")...)
	}
	if card.CarriedOut(bot.ActTimeout) {
		undo = append(undo, button(bot.OutcomeUntimeout, "Remove timeout", "🔊", discordgo.SecondaryButton, "unmute")...)
	}
	if card.CarriedOut(bot.ActBan) {
		undo = append(undo, button(bot.OutcomeUnban, "Unban", "↩️", discordgo.SecondaryButton, "unban")...)
	}
	if len(undo) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: undo})
	}
	// An FAQ case suggests the answer it was not sure of: sending it from
	// the card also teaches the FAQ the question's wording.
	if bot.SuggestsFAQAnswer(card) {
		if answer := button(bot.OutcomeAnswer, "Send the FAQ answer", "📖", discordgo.PrimaryButton, "answer"); answer != nil {
			rows = append(rows, discordgo.ActionsRow{Components: answer})
		}
	}
	return rows
}

// markdown are the characters of Discord's markdown that text from members
// (and names, reasons written with them) must not use on vigie's messages:
// a name like [Verify](https://…) would be a link in vigie's voice, "# …" a
// headline, and a fence or spoiler bars would pair with those of another
// quoted message, or with vigie's own bold.
var markdown = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	"[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`)

// md shows s as written.
func md(s string) string { return markdown.Replace(s) }

// maxNameShown is how many characters of a name a card and the queue show:
// a Discord name is shorter, another platform's may not be.
const maxNameShown = 64

// shownName is s, a name someone else chose (a member's, a CM's on another
// desk), as a card shows it: on one line (bot.OneLine), so that it writes
// no line of its own on the card; cut, so that a long one does not push the
// message and the decision off a card Discord bounds to 2,000 characters;
// set apart once cut (bot.IsolateBidi); and as written (md).
func shownName(s string) string {
	return md(bot.Shown(s, maxNameShown))
}

// deciderShown names who decided, for a CM told their press came too late:
// by name (inert) when it is known, else by id as desk.cms writes it.
func deciderShown(by, name string) string {
	if name != "" {
		return shownName(name)
	}
	return md(by)
}

// cardNames is what a card shows of people besides its author.
type cardNames struct {
	// decider is the display name of who decided the case; "" when not
	// known.
	decider string
	// posesAs is the CM the author is named like without being them, as
	// the card names that CM (plain text); "" for none.
	posesAs string
}

// cmNamesWait bounds the lookups of the CMs' names a card makes.
const cmNamesWait = 2 * time.Second

// posesAs is how a card in the channel ch names, as plain text, the CM
// whom the author of card is named like without being them: a CM of the
// case's own platform, as that platform told it (Card.PosesAs), else a
// Discord CM of the desk (cmPosedAs); "" for none.
func (c *Client) posesAs(ctx context.Context, ch string, card bot.Card) string {
	if card.PosesAs != "" {
		return card.PosesAs
	}
	var guilds []string
	if where, ok := c.stateChannel(ch); ok && where.guildID != "" {
		guilds = append(guilds, where.guildID)
	}
	return c.cmPosedAs(ctx, guilds, card.Event, Platform)
}

var _ bot.CMPoseTeller = (*Client)(nil)

// PosesAsCM names the Discord CM whom the author of ev, a Discord member,
// is named like without being them, for a card on the desk of the
// platform desk; "" for none, and for another platform's member.
func (c *Client) PosesAsCM(ctx context.Context, ev bot.Event, desk string) string {
	if ev.Platform != Platform {
		return ""
	}
	return c.cmPosedAs(ctx, nil, ev, desk)
}

// cmPosedAs names, as plain text, the Discord CM of the desk or moderator
// whom the author of ev is named like without being them (bot.PosesAsCM),
// for a card on the desk of the platform desk; "" for none. A CM goes by
// each name Discord shows of them, in the guilds and in that of a Discord
// event: their nickname there, their display name and their username; the
// state knows them from the gateway, else Discord is asked (as for an
// author's roles). So does a member who holds a moderator role
// (DISCORD_MODERATOR_ROLES) in those guilds, as the gateway told them
// (moderators): no guild's member list is asked for a card.
func (c *Client) cmPosedAs(ctx context.Context, guilds []string, ev bot.Event, desk string) string {
	if bot.LookalikeOf(ev.Author.Name + ev.Author.Username).Empty() {
		return ""
	}
	if ev.Platform == Platform && ev.Space != "" && !slices.Contains(guilds, ev.Space) {
		guilds = append(guilds, ev.Space)
	}
	var cms []bot.CMName
	add := func(id, nick, global, username string) {
		shown := bot.Shown(cmp.Or(nick, global, username), maxNameShown) + " (@" + username + ")"
		for _, name := range []string{nick, global, username} {
			if name != "" {
				cms = append(cms, bot.CMName{ID: Platform + ":" + id, Name: name, Username: username, Shown: shown})
			}
		}
	}
	if d := c.desk.Load(); len(d.cms) > 0 {
		ctx, cancel := context.WithTimeout(ctx, cmNamesWait)
		defer cancel()
		for id := range d.cms {
			if ev.Platform == Platform && ev.Author.ID == id {
				continue
			}
			for _, g := range guilds {
				m, err := c.readMember(ctx, g, id)
				if err != nil {
					c.log.Debug("a CM's names not read for a card", "guild", g, "user", id, "err", err)
				}
				if m != nil && m.User != nil {
					add(id, m.Nick, m.User.GlobalName, m.User.Username)
				}
			}
		}
	}
	for _, g := range guilds {
		for id, n := range c.mods.of(g) {
			add(id, n.nick, n.global, n.username)
		}
	}
	return bot.PosesAsCM(ev, desk, cms)
}

// renderCard writes a case in Discord markdown; what members and others
// wrote shows as written.
//
// Discord bounds a message to 2,000 characters, and the card's end (the
// link to the message and the decision) must stay: the CMs' notes and the
// reasons (the case's, its edit's, what is suggested), counted once
// escaped, share the room the card's own lines leave (shareRoom), and the
// quotes of what the member wrote take what is left after them.
func renderCard(card bot.Card, n cardNames, note string) string {
	var head strings.Builder
	fmt.Fprintf(&head, "**Case %s**", card.ID)
	if card.Rule != "" {
		fmt.Fprintf(&head, " · rule **%s**", card.Rule)
	}
	if card.Category != "" {
		fmt.Fprintf(&head, " (%s)", card.Category)
	}
	head.WriteString("\n")
	// The records written by people, in the card's order: each is cut to
	// its own bound, then to its share of the room.
	var records []record
	if card.Reason != "" {
		records = append(records, record{"*", card.Reason, "*\n", maxReason})
	}
	for _, n := range card.Notes[max(len(card.Notes)-maxCardNotes, 0):] {
		records = append(records, record{"📝 ", n, "\n", maxNoteShown})
	}
	notes := len(records)
	ev := card.Event
	var body strings.Builder
	if card.Unverified {
		fmt.Fprintf(&body, "**%s**\n", md(bot.UnverifiedText(ev.Platform)))
	}
	who := shownName(ev.Author.Name)
	if u := ev.Author.Username; ev.Platform != Platform && u != "" && u != ev.Author.Name {
		// another platform's member, as its own desk shows them: a
		// Telegram @username is how a CM finds them there
		who = strings.TrimSpace(who + " (@" + shownName(u) + ")")
	}
	if who == "" {
		who = md(ev.Author.ID)
	}
	place := ev.Platform
	switch {
	case ev.Platform == Platform && ev.Channel != "":
		place = "<#" + channelOf(ev) + ">"
	case card.Place != "":
		// named by its platform: a Telegram group's title and topic
		place = md(place + " · " + card.Place)
	case ev.Channel != "":
		place = md(place + " #" + ev.Channel)
	}
	fmt.Fprintf(&body, "%s · %s (id %s)", place, who, md(ev.Author.ID))
	if !ev.At.IsZero() {
		fmt.Fprintf(&body, " · %s", ev.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	body.WriteString("\n")
	if n.posesAs != "" {
		fmt.Fprintf(&body, "**⚠️ Not the CM %s: named like them**\n", md(n.posesAs))
	}
	if ev.Kind != "" && ev.Kind != bot.KindMessage {
		// on a line of its own: Discord quotes only a line that starts
		// with "> ", and the content's first line is quoted as the others
		fmt.Fprintf(&body, "[%s]\n", md(string(ev.Kind)))
	}
	// what the member showed, forward, embeds and names included: the CM
	// judges what the rules judged. The quotes take the room the rest of
	// the card leaves within Discord's 2,000 characters, counted once
	// escaped: a text of asterisks or of empty lines, twice or three times
	// as long once quoted, cannot push the decision and who took it off
	// the card.
	var mid, deleted, end strings.Builder
	edited := ""
	if ed := card.Edited; ed != nil && ed.Edits > 0 {
		// edited while the case is open: what it says now, under what it
		// said, and what the rules found in it
		fmt.Fprintf(&mid, "**%s**\n", md(bot.EditedText(ed)))
		edited = ed.Text
		records = append(records, record{"*", bot.EditedReason(ed), "*\n", maxReason})
	}
	if ed := card.Edited; ed != nil && !ed.Deleted.IsZero() {
		fmt.Fprintf(&deleted, "**%s**\n", md(bot.DeletedText(ed)))
	} else if ed != nil && !ed.Unhidden.IsZero() {
		fmt.Fprintf(&deleted, "**%s**\n", md(bot.UnhiddenText(ed)))
	}
	if len(card.Suggested) > 0 {
		records = append(records, record{"Suggested: ", bot.SuggestedText(card), "\n", maxSuggestedShown})
	}
	if strings.HasPrefix(ev.Link, "https://") {
		fmt.Fprintf(&end, "%s\n", ev.Link)
	}
	if card.Decided() {
		by := md(card.DecidedBy)
		if n.decider != "" {
			by = fmt.Sprintf("%s (%s)", shownName(n.decider), md(card.DecidedBy))
		}
		fmt.Fprintf(&end, "\n**%s** — decided by %s", outcomeLabel(card.Outcome), by)
		if !card.DecidedAt.IsZero() {
			fmt.Fprintf(&end, " at %s", card.DecidedAt.UTC().Format("15:04 UTC"))
		}
		if note != "" {
			fmt.Fprintf(&end, "\n%s", mdCut(note, maxDecisionNote))
		}
	}
	room := maxContent - runes(head.String()) - runes(body.String()) - runes(mid.String()) - runes(deleted.String()) - runes(end.String())
	// what the member wrote, and their edit, keep a few lines whatever the
	// records
	editKept := runes(quote(edited, quotedAtLeast))
	room -= runes(quote(ev.Content(), quotedAtLeast)) + editKept
	shown := shareRoom(records, room)
	var b strings.Builder
	b.WriteString(head.String())
	for _, r := range shown[:notes] {
		b.WriteString(r)
	}
	b.WriteString(body.String())
	// the edit's reason, the deletion, what is suggested, the link, the
	// decision
	var tail strings.Builder
	rest := shown[notes:]
	if ed := card.Edited; ed != nil && ed.Edits > 0 {
		tail.WriteString(rest[0])
		rest = rest[1:]
	}
	tail.WriteString(deleted.String())
	for _, r := range rest {
		tail.WriteString(r)
	}
	tail.WriteString(end.String())
	room = maxContent - runes(b.String()) - runes(mid.String()) - runes(tail.String())
	quoted := 1000
	if edited != "" {
		// the edit's text under it
		quoted = 600
	}
	said := quote(ev.Content(), min(quoted, room-editKept))
	now := quote(edited, min(600, room-runes(said)))
	return truncate(b.String()+said+mid.String()+now+tail.String(), maxContent)
}

// The bounds of a card's parts, counted escaped as Discord counts them.
const (
	// maxNoteShown bounds each of the CMs' notes on a card.
	maxNoteShown = 300
	// maxSuggestedShown bounds what a card suggests.
	maxSuggestedShown = 300
	// maxDecisionNote bounds what a decision carried out adds to it.
	maxDecisionNote = 300
	// quotedAtLeast is the room a member's words keep on a card, whatever
	// the notes and reasons take.
	quotedAtLeast = 200
)

// record is a line of a card written by people (a note, a reason): before
// and after frame its text, shown escaped in at most max characters.
type record struct {
	before, text, after string
	max                 int
}

// shareRoom writes records in room characters at most, all told: each
// line whole when they fit, else each line a fair share, cut (mdCut), the
// room a short one leaves going to the longer ones. A line with no room for
// a word of its text is left out.
func shareRoom(records []record, room int) []string {
	want := make([]int, len(records))
	order := make([]int, len(records))
	for i, r := range records {
		frame := runes(r.before) + runes(r.after)
		want[i] = frame + min(runes(md(r.text)), r.max)
		order[i] = i
	}
	// smallest first: what each leaves goes to the longer ones
	slices.SortStableFunc(order, func(a, b int) int { return want[a] - want[b] })
	give := make([]int, len(records))
	left := max(room, 0)
	for k, i := range order {
		give[i] = min(want[i], left/(len(order)-k))
		left -= give[i]
	}
	out := make([]string, len(records))
	for i, r := range records {
		frame := runes(r.before) + runes(r.after)
		if n := min(give[i], want[i]) - frame; n >= minRecordShown || (n > 0 && n >= runes(md(r.text))) {
			out[i] = r.before + mdCut(r.text, n) + r.after
		}
	}
	return out
}

// minRecordShown is the fewest characters of a note or a reason worth a
// line of their own.
const minRecordShown = 8

// mdCut is s shown as written (md) in n characters at most, counted
// escaped: cut with "…" where its escaped form would pass n, never inside
// an escape.
func mdCut(s string, n int) string {
	e := md(s)
	if runes(e) <= n {
		return e
	}
	if n < 1 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := md(string(r))
		k := runes(piece)
		if used+k > n-1 {
			break
		}
		b.WriteString(piece)
		used += k
	}
	return b.String() + "…"
}

// quote is s, what a member wrote, as a card quotes it in n characters at
// most, its last line break included: escaped (md), each line starting
// with "> " so that none reads as a line of the card's own, a carriage
// return taken for the line break Discord reads it as; cut with "…" where
// its escaped form would pass n, never inside an escape. "" when s is, or
// when n leaves no room.
func quote(s string, n int) string {
	if s == "" || n < runes("> …\n") {
		return ""
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	b.WriteString("> ")
	used, cut := 2, -1
	for _, r := range s {
		piece := md(string(r))
		if r == '\n' {
			piece = "\n> "
		}
		k := runes(piece)
		if cut < 0 && used+k > n-2 {
			// where "…\n" still fits, should the rest not
			cut = b.Len()
		}
		if used+k > n-1 {
			return b.String()[:cut] + "…\n"
		}
		b.WriteString(piece)
		used += k
	}
	return b.String() + "\n"
}

// runes is how many characters s is, as Discord counts a message's.
func runes(s string) int { return utf8.RuneCountInString(s) }

// outcomeLabel names an outcome for the moderators; outcomes may carry their
// argument as the rule file writes it, like timeout(1h).
func outcomeLabel(o string) string {
	name, arg, _ := strings.Cut(o, "(")
	arg = strings.TrimSuffix(arg, ")")
	labels := map[string]string{
		bot.OutcomeKeep: "✅ Kept", bot.OutcomeDelete: "🗑 Deleted", "hide": "🙈 Hidden", "unhide": "👁 Shown again",
		bot.OutcomeTimeout: "🔇 Timed out", bot.OutcomeBan: "⛔ Banned", bot.OutcomeUnban: "↩️ Unbanned",
		bot.OutcomeUntimeout: "🔊 Timeout removed", "kick": "👢 Kicked", "reply": "✍️ Answered",
	}
	label, ok := labels[name]
	if !ok {
		return o
	}
	if arg != "" && name != "reply" {
		label += " " + arg
	}
	return label
}

// interaction takes a button press or a /vigie command, off the gateway's
// loop. Who may not press or command is refused there and then, from what
// vigie knows (desk.cms, the moderator roles, the member a verification
// button was posted for): a stranger's press never takes a place in a line.
func (c *Client) interaction(i *discordgo.Interaction) {
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		return
	}
	u, roles := presser(i)
	if i.Type == discordgo.InteractionMessageComponent {
		// A new member's button: pressed in a moderated guild, or privately.
		if guild, user, ok := parseVerify(i.MessageComponentData().CustomID); ok {
			switch {
			case u == nil || u.ID != user:
				c.met.verify.WithLabelValues(bot.VerifyRefused).Inc()
				var by string
				if u != nil {
					by = u.ID
				}
				c.log.With("guild", guild, "user", user).Warn("verify: someone else pressed a new member's button", "audit", true, "by", by)
				c.respondNow(i, "This button is not for you.")
			case c.verify.Load() == nil:
				c.respondNow(i, "Verification is off.")
			default:
				c.take(s.ctx, c.asks, i, func(ctx context.Context) {
					c.handleVerifyPress(ctx, i, guild, user)
					c.notAsked.Over(ctx)
				})
			}
			return
		}
	}
	if (i.Type == discordgo.InteractionMessageComponent || i.Type == discordgo.InteractionApplicationCommand) && !c.commandsFrom(i.GuildID) {
		// Whatever roles the presser holds there, that guild does not steer vigie.
		kind := interactionType(i)
		c.foreign(i.GuildID, kind)
		c.refuseNow(i, u, kind+" from a guild vigie does not take commands from")
		return
	}
	switch i.Type {
	case discordgo.InteractionMessageComponent:
		if !c.allowed(u, i.GuildID, roles) {
			c.refuseNow(i, u, "button "+i.MessageComponentData().CustomID)
			return
		}
		c.take(s.ctx, c.interactions, i, func(ctx context.Context) { c.handleButton(ctx, i) })
	case discordgo.InteractionApplicationCommand:
		if data := i.ApplicationCommandData(); data.Name == "vigie" && !c.allowed(u, i.GuildID, roles) {
			sub := ""
			if len(data.Options) > 0 {
				sub = data.Options[0].Name
			}
			c.refuseNow(i, u, "/vigie "+sub)
			return
		}
		c.take(s.ctx, c.interactions, i, func(ctx context.Context) { c.handleCommand(ctx, i) })
	}
}

// The interactions taken wait for one of the desk's few workers, which may
// all be busy for long (bans Discord is slow to carry out, a raid's
// verifications), in a line of their own apart from the gateway's loop
// (deskwork.Line). The line is bounded, so that a flood of presses and
// commands cannot grow the goroutines waiting without limit: each piece of
// desk work gets deskTimeout, so the last of maxInteractionsWaiting waits
// maxInteractionsWaiting/maxDeskWork rounds of it at worst (a minute). One
// beyond the bound is not done: it is logged (audit) and answered at once
// "too busy", so that Discord does not show "This interaction failed".
//
// What needs no worker (a stranger's refusal, "too busy") is answered by
// tells, up to maxTells at a time, each within tellTimeout; one beyond those
// is logged only (it was audited already): Discord then shows its author
// "This interaction failed".
const (
	maxInteractionsWaiting = 4 * maxDeskWork
	maxTells               = 4
	tellTimeout            = 5 * time.Second
)

// take acknowledges an interaction at once, then hands its work to the desk's
// workers through line. Discord shows "This interaction failed" when no
// answer comes within three seconds; the workers may all be busy (a purge, a
// slow ban) for longer, so the acknowledgement goes first, from the
// interaction's place in line, neither on the gateway's loop nor behind the
// work. What the work has to say follows it (answer): the card edited, or a
// message only the presser sees, which also says so when the work could not
// be done at all.
//
// An interaction that reached vigie after Discord's three seconds (a slow
// gateway, a resumed session's events) cannot be answered at all: its
// author saw "This interaction failed", or "The application did not
// respond". A moderator's press or command is done all the same, and what
// it has to say is said in the desk channel, once, naming them (lost).
func (c *Client) take(ctx context.Context, line *deskwork.Line, i *discordgo.Interaction, work func(context.Context)) {
	desk := line == c.interactions
	taken := line.Go(ctx, deskwork.Job{
		First: func() bool {
			if err := c.ack(ctx, i); err != nil {
				if apiCode(err) == codeUnknownInteraction && desk {
					c.lost.Store(i.ID, &lostInteraction{})
					c.log.Warn("desk: an interaction came too late for Discord to take an answer: done all the same, and its author told in the desk channel",
						"interaction", interactionName(i), "guild", i.GuildID, "channel", i.ChannelID)
					return true
				}
				if apiCode(err) == codeAlreadyAcknowledged {
					// Another vigie on this token answered it first (two
					// processes receiving one shard's events): the work is
					// that one's, whose store and cases it was pressed for.
					c.log.Warn("desk: an interaction acknowledged by another process, left to it", "interaction", interactionName(i),
						"guild", i.GuildID, "channel", i.ChannelID)
					return false
				}
				if i.Type == discordgo.InteractionApplicationCommand {
					// Without it the answer has nowhere to go: do nothing the moderator cannot see.
					c.log.Warn("cannot acknowledge a command, not run", "err", err)
					return false
				}
				// A button's work shows on its card even so.
				c.log.Warn("cannot acknowledge a button press", "err", err)
			}
			return true
		},
		Work: func(ctx context.Context) {
			work(ctx)
			c.lostOver(ctx, i, "The card shows how it stands.")
		},
		Broke: func(ctx context.Context) {
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.answer(rctx, i, "Something went wrong and this was not finished: look at the case or the member before trying again.")
			c.lost.Delete(i.ID)
		},
		Dropped: func() {
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.answer(rctx, i, "vigie is stopping: nothing was done. Try again in a moment.")
			c.lost.Delete(i.ID)
		},
	})
	if taken {
		return
	}
	u, _ := presser(i)
	var id string
	if u != nil {
		id = cmID(u)
	}
	c.met.interactions.WithLabelValues(interactionType(i), "busy").Inc()
	c.log.Warn("desk: "+interactionType(i)+" not done, too many waiting for a worker", "audit", true, "user", id,
		"guild", i.GuildID, "channel", i.ChannelID, "interaction", interactionName(i))
	c.respondNow(i, "vigie is too busy: nothing was done. Try again in a moment.")
}

// lostInteraction is a moderator's interaction Discord took no answer for
// (codeUnknownInteraction): what its work has to say goes to the desk
// channel, the first thing only.
type lostInteraction struct{ told atomic.Bool }

// tellLost says text to the author of i in the desk channel, naming them,
// when Discord took no answer for i, and reports whether i is such an
// interaction: the first thing its work has to say is said, and the rest
// only logged, so that one press writes one message in the channel.
func (c *Client) tellLost(ctx context.Context, i *discordgo.Interaction, text string) bool {
	v, ok := c.lost.Load(i.ID)
	if !ok {
		return false
	}
	if v.(*lostInteraction).told.Swap(true) {
		c.log.Info("desk: more to tell the author of an interaction Discord took no answer for, not said in the channel again",
			"interaction", interactionName(i), "text", text)
		return true
	}
	ch := i.ChannelID
	if i.Type == discordgo.InteractionApplicationCommand {
		// A command's answer is for the moderators alone, wherever it
		// was sent from.
		if ch = c.desk.Load().channel; ch == "" {
			c.log.Warn("desk: no desk channel to tell the author of a command Discord took no answer for", "interaction", interactionName(i), "text", text)
			return true
		}
	}
	u, _ := presser(i)
	var who string
	if u != nil {
		who = shownName(displayName(u, i.Member)) + ": "
	}
	text = who + lostText(i) + "\n" + text
	_, err := c.sess.ChannelMessageSendComplex(ch, &discordgo.MessageSend{Content: truncate(text, 2000), AllowedMentions: noMentions}, opts(ctx)...)
	if err != nil {
		c.log.Warn("cannot tell the author of an interaction Discord took no answer for", "interaction", interactionName(i),
			"channel", ch, "err", c.classify(ctx, "", err))
	}
	return true
}

// lostText says why vigie answers in the channel: what the moderator saw.
func lostText(i *discordgo.Interaction) string {
	if i.Type == discordgo.InteractionApplicationCommand {
		what := "/" + i.ApplicationCommandData().Name
		if o := i.ApplicationCommandData().Options; len(o) > 0 && o[0].Type == discordgo.ApplicationCommandOptionSubCommand {
			what += " " + o[0].Name
		}
		return "Discord handed vigie your " + what + " too late to take an answer (it showed \"The application did not respond\"): it was done all the same."
	}
	what := "press"
	if caseID, button, ok := parseCustomID(i.MessageComponentData().CustomID); ok {
		what = "press of " + button + " on case " + caseID
	}
	return "Discord handed vigie your " + what + " too late to take an answer (it showed \"This interaction failed\"): it was taken all the same."
}

// lostOver ends the work of i: when Discord took no answer for it and the
// work said nothing, its author hears done, in the channel.
func (c *Client) lostOver(ctx context.Context, i *discordgo.Interaction, done string) {
	if _, ok := c.lost.Load(i.ID); !ok {
		return
	}
	rctx, cancel := reportContext(ctx)
	defer cancel()
	if v, _ := c.lost.Load(i.ID); !v.(*lostInteraction).told.Load() {
		c.tellLost(rctx, i, done)
	}
	c.lost.Delete(i.ID)
}

// interactionName says what was pressed or sent, for the audit.
func interactionName(i *discordgo.Interaction) string {
	if i.Type == discordgo.InteractionApplicationCommand {
		return "/" + i.ApplicationCommandData().Name
	}
	return i.MessageComponentData().CustomID
}

// respondNow answers an interaction with text only its author sees, at
// once, by tells: the answer to an interaction that needs no worker.
func (c *Client) respondNow(i *discordgo.Interaction, text string) {
	c.sinkMu.RLock()
	ctx := context.Background()
	if c.sink != nil {
		ctx = c.sink.ctx
	}
	c.sinkMu.RUnlock()
	sent := c.tells.TryGo(ctx, func(ctx context.Context) {
		r := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: truncate(text, 2000), Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions}}
		if err := c.sess.InteractionRespond(i, r, opts(ctx)...); err != nil {
			c.log.Warn("cannot answer an interaction", "err", c.classify(ctx, "", err))
		}
	})
	if !sent {
		c.log.Info("an answer was not sent: too many under way", "interaction", i.ID)
	}
}

// ack is the acknowledgement of an interaction: for a button, "the message
// will be updated" (the card, or nothing); for a command, "thinking…", only
// for the moderator, replaced by the answer.
func (c *Client) ack(ctx context.Context, i *discordgo.Interaction) error {
	r := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	if i.Type == discordgo.InteractionApplicationCommand {
		r = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}
	}
	ctx, cancel := callContext(context.WithoutCancel(ctx))
	defer cancel()
	if err := c.sess.InteractionRespond(i, r, opts(ctx)...); err != nil {
		return c.classify(ctx, "", err)
	}
	return nil
}

// reportContext is for telling the presser how it went, even when doing it
// used up the desk's time or vigie is stopping.
func reportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// presser is who pressed a button or sent a command, and their roles.
func presser(i *discordgo.Interaction) (*discordgo.User, []string) {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User, i.Member.Roles
	}
	return i.User, nil
}

func cmID(u *discordgo.User) string { return Platform + ":" + u.ID }

// allowed reports whether u, with these roles in guildID, may decide cases and
// command vigie: in a guild that commands vigie, a listed CM or a holder of a
// moderator role, both by id.
func (c *Client) allowed(u *discordgo.User, guildID string, roles []string) bool {
	if u == nil || u.Bot || !c.commandsFrom(guildID) {
		return false
	}
	if c.desk.Load().cms[u.ID] {
		return true
	}
	return c.isModerator(roles)
}

// refuse records an attempt by someone who may not command vigie, and tells them.
func (c *Client) refuse(ctx context.Context, i *discordgo.Interaction, u *discordgo.User, attempt string) {
	c.auditRefusal(i, u, attempt)
	c.answer(ctx, i, "Sorry, only the moderators of this server can do that.")
}

// refuseNow is refuse for an interaction not taken: answered at once by
// tells, without waiting for a worker.
func (c *Client) refuseNow(i *discordgo.Interaction, u *discordgo.User, attempt string) {
	c.auditRefusal(i, u, attempt)
	c.respondNow(i, "Sorry, only the moderators of this server can do that.")
}

func (c *Client) auditRefusal(i *discordgo.Interaction, u *discordgo.User, attempt string) {
	c.met.interactions.WithLabelValues(interactionType(i), "refused").Inc()
	var id, name string
	if u != nil {
		id, name = cmID(u), u.Username
	}
	c.log.Warn("desk: refused a stranger", "audit", true, "user", id, "name", name,
		"guild", i.GuildID, "channel", i.ChannelID, "attempt", attempt)
}

func interactionType(i *discordgo.Interaction) string {
	if i.Type == discordgo.InteractionApplicationCommand {
		return "command"
	}
	return "button"
}

// answer tells the author of an interaction, acknowledged by take, text that
// only they see: a command's "thinking…" becomes it, a button press gets it as
// a follow-up message.
func (c *Client) answer(ctx context.Context, i *discordgo.Interaction, text string) {
	if c.tellLost(ctx, i, text) {
		return
	}
	if i.Type != discordgo.InteractionApplicationCommand {
		c.followup(ctx, i, text)
		return
	}
	text = truncate(text, 2000)
	if _, err := c.sess.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions}, opts(ctx)...); err != nil {
		c.log.Warn("cannot answer a command", "err", c.classify(ctx, "", err))
	}
}

func (c *Client) handleButton(ctx context.Context, i *discordgo.Interaction) {
	u, roles := presser(i)
	data := i.MessageComponentData()
	if !c.allowed(u, i.GuildID, roles) {
		c.refuse(ctx, i, u, "button "+data.CustomID)
		return
	}
	c.met.interactions.WithLabelValues("button", "allowed").Inc()
	caseID, button, ok := parseCustomID(data.CustomID)
	d, known := bot.ButtonDecision(button)
	if !ok || !known {
		c.answer(ctx, i, "This button is no longer valid.")
		return
	}
	cmds := c.cmds()
	if cmds == nil {
		c.answer(ctx, i, "The desk is not ready yet, try again in a moment.")
		return
	}
	d.CaseID, d.By, d.ByName = caseID, cmID(u), displayName(u, i.Member)
	dctx := bot.WithDeciderName(ctx, d.ByName)
	if i.Message != nil {
		// A card older than its case names an older case of the same id.
		dctx = bot.WithCardPosted(dctx, snowflakeTime(i.Message.ID))
		ref := bot.CardRef{Platform: Platform, Chat: i.ChannelID, Message: i.Message.ID}
		dctx = bot.WithCardPressed(dctx, ref)
		dctx = bot.WithCardLost(dctx, ref, c.cardLost(ctx, i, caseID))
	}
	card, err := cmds.Decide(dctx, d)
	// The moderator still hears how it went when carrying it out used up the
	// desk's time.
	ctx, cancel := reportContext(ctx)
	defer cancel()
	if !bot.Logged(err) {
		// a decision not carried out was logged, whole, where it was refused
		c.log.Info("desk: decision", "audit", true, "case", caseID, "outcome", d.String(), "by", d.By, "err", err)
	}
	if card.ID == "" {
		card.ID = caseID
	}
	n := cardNames{posesAs: c.posesAs(ctx, i.ChannelID, card)}
	n.decider = card.DeciderName
	if card.DecidedBy == d.By {
		n.decider = d.ByName
	}
	var text string
	var other *bot.CommunityError
	var wait *bot.WaitError
	switch {
	case errors.As(err, &other):
		// audited by the commands as a refusal; nothing was done
		c.followup(ctx, i, "Sorry, "+other.Error()+".")
		return
	case errors.Is(err, bot.ErrDecided) && card.Decided():
		text = renderCard(card, n, "")
		c.followup(ctx, i, fmt.Sprintf("Case %s was already decided by %s: %s.", caseID, deciderShown(card.DecidedBy, n.decider), outcomeLabel(card.Outcome)))
	case errors.As(err, &wait) && wait.Again:
		// Told already when the press was first taken: nothing new.
		return
	case wait != nil:
		c.followup(ctx, i, fmt.Sprintf("Recorded: %s is not carried out yet: %s. It will be, once; the card will say how it ends.", outcomeLabel(card.Outcome), wait.Why))
		text = renderCard(card, n, "⏳ Recorded, not carried out yet: "+wait.Why+".")
	case errors.Is(err, bot.ErrStillTrying):
		// The cards say it is being tried, and will say how it ends.
		c.followup(ctx, i, fmt.Sprintf("Recorded: %s is still being tried, the platform being slow to answer; the card will say how it ends.", outcomeLabel(card.Outcome)))
		text = renderCard(card, n, "⏳ Being carried out: the platform is slow to answer.")
	case err != nil && card.Decided():
		text = renderCard(card, n, bot.NotCarriedOut(err))
	case errors.Is(err, bot.ErrUnknownCase):
		if i.Message == nil {
			c.followup(ctx, i, bot.UnknownCaseText(caseID, "/vigie queue"))
			return
		}
		c.dropButtons(ctx, i.ChannelID, i.Message.ID, caseID)
		c.followup(ctx, i, bot.UnknownCaseText(caseID, "/vigie queue")+bot.ButtonsTakenOff)
		return
	case err != nil:
		c.followup(ctx, i, fmt.Sprintf("Could not decide case %s: %v", caseID, err))
		return
	default:
		if !card.Decided() {
			card.Outcome, card.DecidedBy = d.String(), d.By
		}
		text = renderCard(card, n, "")
	}
	// Commands that keep the cards showed the decision on every card of the
	// case, this one included. A case decided before is left to the process
	// that decided it, which shows on its cards how its carrying out goes
	// and ends: a late press writing the case again would drop what the
	// card says under the decision ("⚠️ Not carried out", how long a ban
	// lasts), and say done what is not.
	if _, shown := cmds.(bot.CardBook); i.Message == nil || shown {
		return
	}
	if err := c.editCard(ctx, i.ChannelID, i.Message.ID, text, []discordgo.MessageComponent{}); err != nil {
		c.log.Warn("cannot update the case card", "case", caseID, "err", err)
	}
}

// dropButtons takes the buttons off a card, leaving its text: one whose
// case the store does not know, whose every press would do nothing.
func (c *Client) dropButtons(ctx context.Context, channel, message, caseID string) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	endpoint := discordgo.EndpointChannelMessage(channel, message)
	_, err := c.sess.RequestWithBucketID("PATCH", endpoint, map[string]any{"components": []discordgo.MessageComponent{}},
		discordgo.EndpointChannelMessage(channel, ""), opts(ctx)...)
	if err != nil {
		c.log.Warn("cannot take the buttons off a card of a case vigie does not know", "case", caseID, "channel", channel, "message", message,
			"err", c.classify(ctx, "edit", err))
	}
}

// followup tells the presser something after the deferred answer.
func (c *Client) followup(ctx context.Context, i *discordgo.Interaction, text string) {
	if c.tellLost(ctx, i, text) {
		return
	}
	if err := c.sendFollowup(ctx, i, text); err != nil {
		c.log.Warn("cannot answer a button press", "err", err)
	}
}

func (c *Client) sendFollowup(ctx context.Context, i *discordgo.Interaction, text string) error {
	_, err := c.sess.FollowupMessageCreate(i, false, &discordgo.WebhookParams{
		Content: truncate(text, 2000), Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions,
	}, opts(ctx)...)
	if err != nil {
		return c.classify(ctx, "", err)
	}
	return nil
}

// interactionTokenLife is how long Discord takes follow-ups on an
// interaction's token: 15 minutes, less a margin for the clocks.
const interactionTokenLife = 14 * time.Minute

// cardLost tells the presser of a card's button how the case's decision
// stands when the card cannot show it (deleted, or Discord will not edit
// it): see bot.WithCardLost. A follow-up only the presser sees while the
// press's token lasts; after it, or when the follow-up is refused, a
// message in the card's channel naming them. Each thing to say is said
// once, and nothing is tried again: the card is gone.
func (c *Client) cardLost(ctx context.Context, i *discordgo.Interaction, caseID string) func(outcome, note string, err error) {
	first := bot.FirstTime()
	u, _ := presser(i)
	return func(outcome, note string, err error) {
		text := bot.CardLostText(caseID, outcomeLabel(outcome), err, "`vigie cases show "+caseID+"`")
		if note != "" {
			text += "\n" + md(note)
		}
		if !first(text) {
			return
		}
		rctx, cancel := reportContext(ctx)
		defer cancel()
		if c.tellLost(rctx, i, text) {
			return
		}
		if c.discordNow().Sub(snowflakeTime(i.ID)) < interactionTokenLife {
			ferr := c.sendFollowup(rctx, i, text)
			if ferr == nil {
				return
			}
			c.log.Warn("cannot tell a presser their card is gone, by a follow-up: said in the channel", "case", caseID, "err", ferr)
		}
		if u != nil {
			text = shownName(displayName(u, i.Member)) + ": " + text
		}
		_, serr := c.sess.ChannelMessageSendComplex(i.ChannelID, &discordgo.MessageSend{Content: truncate(text, 2000), AllowedMentions: noMentions}, opts(rctx)...)
		if serr != nil {
			c.log.Warn("cannot tell a presser their card is gone", "case", caseID, "channel", i.ChannelID, "err", c.classify(rctx, "", serr))
		}
	}
}

// slashCommands is /vigie and its subcommands, registered in each guild that
// commands vigie (commandsFor).
var slashCommands = []*discordgo.ApplicationCommand{{
	Name:        "vigie",
	Description: "Steer vigie, the moderation bot",
	Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "status", Description: "Mode and open cases"},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "pause", Description: "Only flag and forward, take no action",
			Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "for", Description: "How long, like 30m or 2h (default: until resume)"}}},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "resume", Description: "Act on the rules again"},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "queue", Description: "The open cases"},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "mode", Description: "Office hours (a moderator is here) or after hours",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "to", Description: "office, after, or auto (follow office hours); empty shows the mode",
					Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "office", Value: "office"}, {Name: "after", Value: "after"}, {Name: "auto", Value: "auto"}}},
				{Type: discordgo.ApplicationCommandOptionString, Name: "for", Description: "How long, like 30m or 2h (default: until auto)"},
			}},
	},
}}

func (c *Client) handleCommand(ctx context.Context, i *discordgo.Interaction) {
	data := i.ApplicationCommandData()
	if isModCommand(data.Name) {
		c.handleModCommand(ctx, i)
		return
	}
	if data.Name != "vigie" {
		return
	}
	u, roles := presser(i)
	sub := ""
	var args []*discordgo.ApplicationCommandInteractionDataOption
	if len(data.Options) > 0 {
		sub, args = data.Options[0].Name, data.Options[0].Options
	}
	if !c.allowed(u, i.GuildID, roles) {
		c.refuse(ctx, i, u, "/vigie "+sub)
		return
	}
	c.met.interactions.WithLabelValues("command", "allowed").Inc()
	cmds := c.cmds()
	if cmds == nil {
		c.answer(ctx, i, "The desk is not ready yet, try again in a moment.")
		return
	}
	var pause time.Duration
	if sub == "pause" {
		for _, o := range args {
			if o.Name != "for" {
				continue
			}
			var err error
			if pause, err = parseDuration(o.StringValue()); err != nil {
				c.answer(ctx, i, "Write the pause like 30m, 2h or 1d.")
				return
			}
		}
	}
	by := cmID(u)
	c.log.Info("desk: command", "audit", true, "command", "/vigie "+sub, "by", by)
	var text string
	var err error
	switch sub {
	case "status":
		text, err = cmds.Status(ctx, by)
	case "pause":
		text, err = cmds.Pause(ctx, pause, by)
	case "resume":
		text, err = cmds.Resume(ctx, by)
	case "queue":
		var cards []bot.Card
		cards, err = cmds.Queue(ctx, by)
		text = renderQueue(cards)
	case "mode":
		mc, ok := cmds.(bot.ModeCommands)
		if !ok {
			text = "/vigie mode is not available."
			break
		}
		var to, dur string
		for _, o := range args {
			switch o.Name {
			case "to":
				to = o.StringValue()
			case "for":
				dur = o.StringValue()
			}
		}
		text, err = mc.Mode(ctx, strings.TrimSpace(to+" "+dur), by)
	default:
		text = "Unknown command: try /vigie status, pause, resume or queue."
	}
	if err != nil {
		text = "Error: " + err.Error()
	}
	ctx, cancel := reportContext(ctx)
	defer cancel()
	c.answer(ctx, i, text)
}

// renderQueue lists the open cases, one line each: a member's text is on its
// case's line (bot.OneLine), so that none writes a case of its own.
func renderQueue(cards []bot.Card) string {
	if len(cards) == 0 {
		return "No open case."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d open case(s):\n", len(cards))
	for _, card := range cards {
		who := shownName(card.Event.Author.Name)
		if who == "" {
			who = md(card.Event.Author.ID)
		}
		line := fmt.Sprintf("• **%s** %s · %s: %s", card.ID, card.Rule, who,
			md(bot.IsolateBidi(truncate(bot.OneLine(card.Event.Content()), 80))))
		if strings.HasPrefix(card.Event.Link, "https://") {
			line += " " + card.Event.Link
		}
		if b.Len()+len(line) > 1900 {
			b.WriteString("…")
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// maxReason bounds a case's reason on its card: room for a cause's card
// (handlers' causecards.go), which counts the cases of one refusal, says it
// and names the latest members.
const maxReason = 600
