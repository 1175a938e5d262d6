package telegram

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
)

// TestHostileNamesOnCards: the names a card shows are chosen by others (a
// member's name, a group's title, a forum topic's name), and none of them
// may change what the CM reads of the card: each stays on the author's
// line, cut for a phone, and a right-to-left override in it turns nothing
// after it, the author's id included, also once cut.
func TestHostileNamesOnCards(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	forum := func(title string) map[string]any {
		ch := group.json()
		ch["is_forum"] = true
		if title != "" {
			ch["title"] = title
		}
		return ch
	}
	// a message from Eve (id 7), in a group titled title ("": Fans), in a
	// forum topic created as topic ("": none)
	var id int
	msg := func(name, title, topic string) map[string]any {
		id++
		m := message(group, 100+id, tgUser{id: 7, first: name}, t0, "hello")
		m["chat"] = forum(title)
		if topic != "" {
			created := map[string]any{"message_id": id, "from": bob.json(), "chat": forum(""), "date": t0, "message_thread_id": id,
				"forum_topic_created": map[string]any{"name": topic, "icon_color": 7322096}}
			with(m, "message_thread_id", id, "is_topic_message", true, "reply_to_message", created)
		}
		return m
	}
	turn := "\u202e" + strings.Repeat("x", 70) // longer than any name is shown
	for i, tt := range []struct {
		name string
		msg  map[string]any
		want string // what the author's line shows, when said
	}{
		{"long name turning the line", msg("Eve"+turn, "", ""), ""},
		{"long title turning the line", msg("Eve", turn, ""), ""},
		{"long topic turning the line", msg("Eve", "", turn), ""},
		{"name of three lines", msg("Eve\n\n✅ Kept — decided by Ann", "", ""), ""},
		{"name with other line breaks", msg("Eve\r✅ Kept\u2028— decided\u0085by Ann", "", ""), ""},
		{"title of two lines", msg("Eve", "Fans\n✅ Kept — by Ann", ""), ""},
		{"topic of two lines", msg("Eve", "", "Chat\n✅ Kept — by Ann"), ""},
		{"name of 4,096 characters", msg(strings.Repeat("E", 4096), "", ""), ""},
		{"name stacking marks over the lines around", msg("E"+strings.Repeat("\u0301", 30), "", ""), ""},
		{"name of nothing to see", msg("\u3164\u200b\u2060", "", ""), "telegram · Fans · 7 (id 7)"},
	} {
		f.push(map[string]any{"message": tt.msg})
		shown := cardShown(t, f, desk, out, i+1, tt.name)
		line, before := desktest.AuthorLine(shown, "7")
		switch {
		case !strings.HasPrefix(line, "telegram · "):
			t.Errorf("%s: the author's line does not start the place: %q\ncard:\n%s", tt.name, line, shown)
		case strings.Contains(shown, "\n✅") || strings.ContainsAny(shown, "\r\u2028\u0085"):
			t.Errorf("%s: a name broke the card's lines:\n%s", tt.name, shown)
		case turnsOn(before):
			t.Errorf("%s: the author's id is turned by what comes before it: %q", tt.name, before)
		case utf16Len(line) > 160:
			t.Errorf("%s: the author's line is %d long, not cut for a phone: %q", tt.name, utf16Len(line), line)
		case tt.want != "" && !strings.HasPrefix(line, tt.want):
			t.Errorf("%s: the author's line is %q, want %q", tt.name, line, tt.want)
		case desktest.MarksInARow(shown) > bot.MaxMarks:
			t.Errorf("%s: %d combining marks stacked on one letter: %q", tt.name, desktest.MarksInARow(shown), line)
		}
	}
}

// turnsOn reports whether s leaves a bidirectional embedding, override or
// isolate open for the text after it.
func turnsOn(s string) bool {
	isolates, embeds := 0, 0
	for _, r := range s {
		switch {
		case r >= '\u2066' && r <= '\u2068':
			isolates++
		case r == '\u2069' && isolates > 0:
			isolates--
		case r >= '\u202a' && r <= '\u202b', r >= '\u202d' && r <= '\u202e':
			if isolates == 0 {
				embeds++
			}
		case r == '\u202c' && isolates == 0 && embeds > 0:
			embeds--
		}
	}
	return isolates > 0 || embeds > 0
}

// TestStrangersGroupNamedOnOneLine: the desk is told of a stranger's group
// vigie left in one line of vigie's, whatever the group's title and the
// stranger's name hold.
func TestStrangersGroupNamedOnOneLine(t *testing.T) {
	f := newFakeBotAPI(t)
	theirs := tgChat{id: -1007070707070, kind: "supergroup", title: "Free followers\n\n✅ Kept — decided by Ann " + strings.Repeat("x", 100)}
	f.setAdmins(theirs.id, mallory.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	run(t, c, make(chan bot.Event, 10))
	by := mallory
	by.first = "Mal\nlory"
	f.push(added(theirs, by))
	told := f.waitFor("sendMessage", 1, inChat(deskChat.id)).Params.Get("text")
	if strings.Contains(told, "\n") || !strings.Contains(told, "the group Free followers ✅ Kept — decided by Ann") ||
		strings.Contains(told, "xx") || !strings.Contains(told, "by Mal lory") {
		t.Errorf("the desk was told %q\nwant one line, the title cut", told)
	}
}

// TestCardSaysWhoPosesAsACM: a member who takes a CM's name, or writes the
// CM's username in theirs ("Ann (@ann_cm)" with no username of their own
// reads as the CM on the author's line), is shown on the card as not being
// that CM; the CM's own case and a member who merely shares a first name
// with nobody on the desk are not.
func TestCardSaysWhoPosesAsACM(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	ann := tgUser{id: 42, first: "Ann", user: "ann_cm"}
	// Ann speaks in the desk chat: vigie knows her name from it.
	f.push(map[string]any{"message": message(deskChat, 1, ann, t0, "morning")})
	for i, tt := range []struct {
		what  string
		from  tgUser
		poses bool
	}{
		{"her username in a name", tgUser{id: 7, first: "Ann (@ann_cm)"}, true},
		{"her username spaced out, in capitals", tgUser{id: 8, first: "Ann", last: "( @ANN_CM )", user: "eve_x"}, true},
		{"her name, with zero-width spaces", tgUser{id: 9, first: "A\u200bnn"}, true},
		{"her name with a Cyrillic А", tgUser{id: 11, first: "\u0410nn"}, true},
		{"her name with a zero-width joiner", tgUser{id: 12, first: "An\u200dn"}, true},
		{"her name with an Armenian ո", tgUser{id: 13, first: "An\u0578"}, true},
		{"her name spaced out", tgUser{id: 14, first: "A n n"}, true},
		{"her name in fullwidth letters", tgUser{id: 15, first: "\uff21\uff4e\uff4e"}, true},
		{"her name in Cherokee letters", tgUser{id: 16, first: "\u13aaNN"}, true},
		{"her name and a check mark", tgUser{id: 19, first: "Ann", last: "\u2714\ufe0f"}, true},
		{"her username with a Cyrillic с", tgUser{id: 17, first: "Eve", last: "@ann_\u0441m"}, true},
		{"her username in fullwidth letters", tgUser{id: 18, first: "\uff41\uff4e\uff4e\uff3f\uff43\uff4d"}, true},
		{"another name", tgUser{id: 10, first: "Annabel", user: "annabel"}, false},
		{"Ann herself", ann, false},
	} {
		f.push(map[string]any{"message": message(group, 10+i, tt.from, t0, "hello")})
		shown := cardShown(t, f, desk, out, i+1, tt.what)
		const warning = "⚠️ Not the CM Ann (@ann_cm): named like them"
		if got := strings.Contains(shown, warning); got != tt.poses {
			t.Errorf("%s: card says %q: %v, want %v:\n%s", tt.what, warning, got, tt.poses, shown)
		}
	}
}

// TestTopicNamedLikeAnother: a member who creates a forum topic named as
// another ("Announcements") cannot pass their topic for it on a card: when
// two topics of a group are named alike, the card says which one.
func TestTopicNamedLikeAnother(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	forum := group.json()
	forum["is_forum"] = true
	inTopic := func(id, thread int, name string) map[string]any {
		created := map[string]any{"message_id": thread, "from": bob.json(), "chat": forum, "date": t0, "message_thread_id": thread,
			"forum_topic_created": map[string]any{"name": name, "icon_color": 7322096}}
		m := message(group, id, tgUser{id: 7, first: "Eve"}, t0, "hello")
		m["chat"] = forum
		return map[string]any{"message": with(m, "message_thread_id", thread, "is_topic_message", true, "reply_to_message", created)}
	}
	card := func(n int) string { return cardShown(t, f, desk, out, n, "card "+itoa(int64(n))) }
	f.push(inTopic(10, 5, "Announcements"))
	if got := card(1); !strings.Contains(got, "telegram · Fans › Announcements · Eve") {
		t.Errorf("card = %s\nwant the topic named alone", got)
	}
	f.push(inTopic(11, 9, "announcements\u200b "))
	if got := card(2); !strings.Contains(got, "telegram · Fans › announcements (topic 9) · Eve") {
		t.Errorf("card in the look-alike topic = %s\nwant it told apart", got)
	}
	f.push(inTopic(12, 5, "Announcements"))
	if got := card(3); !strings.Contains(got, "telegram · Fans › Announcements (topic 5) · Eve") {
		t.Errorf("card in the first topic = %s\nwant it told apart", got)
	}
}

// tappable is a bot command as Telegram finds one in a message's text: a
// "/" that no letter, digit, "/", "<" or ">" comes before, then a letter,
// digit or underscore. A tap on it sends it, from whoever taps, to the chat.
var tappable = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_/<>])/[A-Za-z0-9_]`)

// TestCardsHoldNoCommandOfOthers: a member named "/pause", a group or topic
// titled so, or a message saying it, do not put on a card a command a CM
// would send the desk by tapping it (Telegram sends the command a message
// shows, with vigie's username, when it is tapped): vigie would pause at a
// stranger's word. A mention in a name is no link to the CM it names
// either; a link in the message stays whole.
func TestCardsHoldNoCommandOfOthers(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	forum := group.json()
	forum["is_forum"] = true
	forum["title"] = "/resume"
	created := map[string]any{"message_id": 5, "from": bob.json(), "chat": forum, "date": t0, "message_thread_id": 5,
		"forum_topic_created": map[string]any{"name": "/reload", "icon_color": 7322096}}
	m := message(group, 10, tgUser{id: 7, first: "/pause", last: "@ann_cm"}, t0, "/pause@vigie_bot now, see https://scam.example/pause")
	m["chat"] = forum
	f.push(map[string]any{"message": with(m, "message_thread_id", 5, "is_topic_message", true, "reply_to_message", created)})
	shown := cardShown(t, f, desk, out, 1, "the card")
	if cmds := tappable.FindAllString(shown, -1); len(cmds) > 0 {
		t.Errorf("the card holds the commands %q a tap would send:\n%s", cmds, shown)
	}
	if strings.Contains(shown, "@ann_cm") {
		t.Errorf("the card holds a name's mention of @ann_cm:\n%s", shown)
	}
	if !strings.Contains(shown, "https://scam.example/pause") {
		t.Errorf("the message's link is not whole on the card:\n%s", shown)
	}
}

// TestAlertsHoldNoCommandOfOthers: a wave's page, an alert and a mod-log
// line quote others (their messages, a group's title): a "/pause" there is
// no command a tap would send; vigie's own /queue stays one.
func TestAlertsHoldNoCommandOfOthers(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	desk := c.Desk(newCaseBook())
	const text = "wave on telegram · /resume (-100)\n– 22:00 x: /pause now\n– 22:01 y: see https://scam.example/pause\nDecide them from /queue."
	if err := desk.Page(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	if err := desk.Alert(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	// a mod-log line in the desk chat, posted then edited
	id, err := c.PostLog(context.Background(), itoa(deskChat.id), text)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditLog(context.Background(), itoa(deskChat.id), id, text+" (2)"); err != nil {
		t.Fatal(err)
	}
	edited := shownText(f.waitFor("editMessageText", 1, nil).Params.Get("text"))
	if cmds := tappable.FindAllString(edited, -1); len(cmds) != 1 {
		t.Errorf("the mod-log line edited holds the commands %q, want /queue alone:\n%s", cmds, edited)
	}
	for i := range 3 {
		shown := shownText(f.waitFor("sendMessage", i+1, inChat(deskChat.id)).Params.Get("text"))
		if cmds := tappable.FindAllString(shown, -1); len(cmds) != 1 || !strings.HasSuffix(cmds[0], "/q") ||
			!strings.Contains(shown, "https://scam.example/pause") {
			t.Errorf("message %d holds the commands %q, want /queue alone, and the link whole:\n%s", i+1, cmds, shown)
		}
	}
}

// TestCardSaysWhoPosesAsACMAfterRestart: a CM who showed vigie no update
// since its start (a restart, or a raid's many names that pushed theirs
// out of memory) is still known by the desk chat, which is asked.
func TestCardSaysWhoPosesAsACMAfterRestart(t *testing.T) {
	f := newFakeBotAPI(t)
	f.SetMember(deskChat.id, 42, "member")
	f.SetUsername(42, "ann_cm")
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	ev := bot.Event{ID: "-100:7", Platform: Platform, Kind: bot.KindMessage, Space: itoa(group.id), Channel: itoa(group.id),
		Author: bot.Author{ID: "7", Name: "Ann (@ann_cm)"}, Text: "hello"}
	text := c.card(context.Background(), bot.Card{ID: "c1", Event: ev, Rule: "r"}, "", "")
	if !strings.Contains(text, "⚠️ Not the CM Member (@ann_cm): named like them") {
		t.Errorf("card = %s\nwant it to say the author is not the CM", text)
	}
}

// TestGroupMessagesNameOnOneLine: vigie's words in a group, a warning and
// the prompt of a new member's verification, name the member on one line,
// cut: a name "Bob\n✅ Verified by the admins" writes no line in vigie's
// voice.
func TestGroupMessagesNameOnOneLine(t *testing.T) {
	const name = "Bob\n✅ Verified by the admins, no need to press "
	long := name + strings.Repeat("x", 100)
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ev := groupEvent(10, "7")
	ev.Author.Name = long
	if err := c.Warn(context.Background(), ev, "no links here, please."); err != nil {
		t.Fatal(err)
	}
	if text := f.waitFor("sendMessage", 1, inChat(group.id)).Params.Get("text"); strings.Contains(text, "\n") || strings.Contains(text, "xxx") {
		t.Errorf("warning = %q, want the name on one line, cut", text)
	}
	vf, _, _, _, out, _ := newVerifyClient(t)
	vf.push(joins(tgUser{id: 7, first: long}, t0))
	<-out
	if text := vf.waitFor("sendMessage", 1, inChat(group.id)).Params.Get("text"); strings.Contains(text, "\n") || strings.Contains(text, "xxx") {
		t.Errorf("prompt = %q, want the name on one line, cut", text)
	}
}

// TestCardsMentionNobodyAMemberNames: a member's message, and its edit while its case is
// open, that name a CM (@ann_cm) or anyone in the desk chat put no mention of them on
// the card: Telegram tells a member mentioned even in a chat they muted, and
// a member would wake the CM at night with each message the rules forward.
func TestCardsMentionNobodyAMemberNames(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	f.push(map[string]any{"message": message(group, 10, tgUser{id: 7, first: "Eve"}, t0, "@ann_cm wake up, and mail me at eve@scam.example")})
	ev := nextMessage(t, out, "the message")
	if err := desk.PostCard(context.Background(), bot.Card{ID: "c1", Rule: "r", Event: ev}); err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	ev.Text = "eve@scam.example"
	if err := desk.PostCard(context.Background(), bot.Card{ID: "c2", Rule: "r", Event: ev, Edited: &bot.Edited{Edits: 1, Text: "still up, @ann_cm?"}}); err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	shown := shownText(f.waitFor("sendMessage", 1, inChat(deskChat.id)).Params.Get("text"))
	edited := shownText(f.waitFor("sendMessage", 2, inChat(deskChat.id)).Params.Get("text"))
	for what, s := range map[string]string{"posted": shown, "edited": edited} {
		if strings.Contains(s, "@ann_cm") {
			t.Errorf("the %s card mentions @ann_cm:\n%s", what, s)
		}
		if !strings.Contains(s, "eve@scam.example") {
			t.Errorf("the %s card lost the member's e-mail address:\n%s", what, s)
		}
	}
}
