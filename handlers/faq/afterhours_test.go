package faq

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// After hours, a question nothing matched is a case for the CMs' morning
// only when it asks the brand something: recorded self-promotion and chit-chat
// under a video are left alone, a question to the brand the FAQ does not
// answer still goes to the desk.
func TestAfterHoursForwardsQuestionsToTheBrand(t *testing.T) {
	m := starterMatcher(t)
	m.afterHours = func(at time.Time) bool { return at.Hour() >= 19 }
	office := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	night := time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		text    string
		forward bool
	}{
		// recorded comments (../shared/data/youtube-spam.dev.jsonl)
		{"Check out this video on YouTube:\ufeff", false},
		{"Please check out my vidios guys\ufeff", false},
		{"Hey guys subscribe to my channel for no reason! Please!..\ufeff", false},
		{"Ummm... I just hit 1k subscribers. I make Minecraft videos. Help me out by checking me out?\ufeff", false},
		{"Watch Maroon 5's latest 2nd single from V (It Was Always You) www.youtube. com/watch?v=TQ046FuAu00\ufeff", false},
		{"WHY DOES THIS HAVE 2 BILLION VIEWS\ufeff", false},
		{"Katy Perry You Are Looking Soo PRETTY DAMN CUTE :-* :-*\ufeff", false},
		{"I hate it when Laura Bennett comes in\ufeff", false},
		{"Katy has a voice of an Angel\ufeff", false},
		{"I remember when everyone was obsessed with Gangnam Style 😗\ufeff", false},
		// a reply to another account (../shared/data/abuse-fr.dev.jsonl)
		{"@user @user vous avez si mal ? si il préfère les renois c'est ses goûts pourquoi direct mal parler ?", false},
		{"qui a vu le match ?", false},
		// questions to the brand no entry of the starter pack answers
		{"vous acceptez les chèques vacances ?", true},
		{"do you sell gift cards?", true},
		{"je peux venir avec mon chien ?", true},
		{"is there parking nearby", true},
		{"les inscriptions ferment quand", true},
		{"my cat is bleeding what should i do", true},
	} {
		t.Run(tt.text, func(t *testing.T) {
			if d := m.DecideText(tt.text, office); d.Kind != Silent || !d.Unanswered {
				t.Fatalf("in office hours: %s %s (%s), want an unanswered message", d.Kind, d.Entry, d.Why)
			}
			d := m.DecideText(tt.text, night)
			if got := d.Kind == Forward; got != tt.forward {
				t.Errorf("after hours: %s (%s), want forwarded %v", d.Kind, d.Why, tt.forward)
			}
			if tt.forward && d.Why != WhyAfterHours || !tt.forward && d.Why != WhyNoMatch {
				t.Errorf("after hours: why %q", d.Why)
			}
		})
	}
}

// deskNight counts what goes to the desk after hours, by kind of message.
type deskNight struct {
	// Unanswered are the real questions no entry answered (in office
	// hours: abstained), Forwarded those of them put to the desk after
	// hours; Others are the messages to leave alone, OthersForwarded those
	// put to the desk.
	Unanswered, Forwarded, Others, OthersForwarded int
}

func (n deskNight) String() string {
	return fmt.Sprintf("unanswered questions %d, forwarded after hours %d (%.1f%%); messages to leave alone %d, forwarded %d",
		n.Unanswered, n.Forwarded, 100*ratio(n.Forwarded, n.Unanswered), n.Others, n.OthersForwarded)
}

// measureNight asks m every line of file after hours.
func measureNight(t testing.TB, m *Matcher, file string) deskNight {
	t.Helper()
	lines := readEvalFile(t, file)
	m.afterHours = func(time.Time) bool { return true }
	m.cfg.AfterHoursForward = true
	night := time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)
	var n deskNight
	for _, l := range lines {
		d := m.DecideText(l.Text, night)
		switch {
		case l.Expect == None:
			n.Others++
			if d.Why == WhyAfterHours {
				n.OthersForwarded++
			}
		case d.Kind == Answer || d.Kind == Suggest || d.Why != WhyAfterHours && d.Why != WhyNoMatch:
			// answered, or sent to the desk whatever the hour
		default:
			n.Unanswered++
			if d.Why == WhyAfterHours {
				n.Forwarded++
			}
		}
	}
	return n
}

// TestAfterHoursDesk measures what an FAQ with `after_hours: forward` puts
// on the desk at night: of the brands' and trades' real questions it does not
// answer, how many still reach the CMs, and how many of the recorded tweets
// and comments (../shared/data, none asking the starter pack's brand
// anything) do, by label.
func TestAfterHoursDesk(t *testing.T) {
	var all deskNight
	for _, dir := range []string{"brands", "read", "unseen"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*", "faq.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v, %v", dir, files, err)
		}
		var sum deskNight
		for _, f := range files {
			sets, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*.tsv"))
			for _, set := range sets {
				n := measureNight(t, loadMatcher(t, f), set)
				sum.Unanswered += n.Unanswered
				sum.Forwarded += n.Forwarded
				sum.Others += n.Others
				sum.OthersForwarded += n.OthersForwarded
			}
		}
		t.Logf("%-6s %s", dir, sum)
		all.Unanswered += sum.Unanswered
		all.Forwarded += sum.Forwarded
		all.Others += sum.Others
		all.OthersForwarded += sum.OthersForwarded
	}
	t.Logf("all    %s", all)
	if ratio(all.Forwarded, all.Unanswered) < nightQuestionsFloor {
		t.Errorf("%d of the %d unanswered questions forwarded after hours, under %.2f", all.Forwarded, all.Unanswered, nightQuestionsFloor)
	}

	m := starterMatcher(t)
	m.afterHours = func(time.Time) bool { return true }
	m.cfg.AfterHoursForward = true
	night := time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)
	messages, forwarded := 0, 0
	for _, name := range realData {
		f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", name))
		if err != nil {
			t.Skipf("no recorded messages: %v", err)
		}
		byLabel := map[string][2]int{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct{ Text, Label string }
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			c := byLabel[ev.Label]
			c[0]++
			if d := m.DecideText(ev.Text, night); d.Why == WhyAfterHours {
				c[1]++
				forwarded++
				if testing.Verbose() {
					t.Logf("  %s %s: %q", name, ev.Label, ev.Text)
				}
			}
			byLabel[ev.Label] = c
			messages++
		}
		f.Close()
		t.Logf("%s: forwarded after hours %v (label: [messages forwarded])", name, byLabel)
	}
	t.Logf("recorded: %d of %d forwarded after hours (%.1f%%)", forwarded, messages, 100*ratio(forwarded, messages))
	if ratio(forwarded, messages) > nightRecordedCeiling {
		t.Errorf("%d of the %d recorded messages forwarded after hours, over %.2f", forwarded, messages, nightRecordedCeiling)
	}
}

// What TestAfterHoursDesk holds: most unanswered real questions still reach
// the desk at night (384 of 413 on 5 December, all of them before the desk
// read whether a message asks the brand), few recorded messages do (1,370 of
// 15,255 on 5 December, 6,172 before).
const (
	nightQuestionsFloor  = 0.90
	nightRecordedCeiling = 0.12
)

// Self-promotion is an imperative to the viewers, not any "subscribe" or
// "check out": a customer subscribes to a newsletter and checks out of a hotel.
func TestPromotes(t *testing.T) {
	m := starterMatcher(t)
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"Check out this video on YouTube:", true},
		{"Please check out my vidios guys", true},
		{"Hey guys subscribe to my channel for no reason! Please!..", true},
		{"Check me out! I'm kyle. I rap so yeah", true},
		{"Like if you came here too see how many views this song has.", true},
		{"abonnez-vous à ma chaîne", true},
		{"can I check out at 2pm?", false},
		{"how do I subscribe to the newsletter?", false},
		{"i would like this in blue, do you have it?", false},
		{"can you check my order?", false},
		{"my video won't play on the app", false},
		{"can I share my channel here?", false},
		{"on peut mettre le lien de ma chaine ?", false},
	} {
		var buf [wordsBuf]word
		_, ws := foldedWords(tt.text, m.memo, buf[:0])
		if got := promotes(ws); got != tt.want {
			t.Errorf("%q: promotes %v, want %v", tt.text, got, tt.want)
		}
	}
}

// On Telegram, a message that opens with a bot's @username speaks to that
// bot, not to another member: only bots' usernames end in "bot". After hours,
// "@shopbot when do you open?" is a question to the brand like "when do you
// open?"; "@alice when do you open?" is still someone else's conversation.
func TestAfterHoursQuestionToTheBrandsBot(t *testing.T) {
	m := starterMatcher(t)
	m.afterHours = func(at time.Time) bool { return at.Hour() >= 19 }
	night := time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		platform, text string
		forward        bool
	}{
		{"telegram", "@shopbot do you sell gift cards?", true},
		{"telegram", "@ShopBot, do you sell gift cards?", true},
		{"telegram", "@vigie_test_bot vous acceptez les chèques vacances ?", true},
		{"telegram", "do you sell gift cards? @shopbot", true},
		{"telegram", "@alice do you sell gift cards?", false},
		{"telegram", "@shopbot @alice do you sell gift cards?", false},
		// elsewhere a name ending in "bot" is anyone's
		{"meta", "@shopbot do you sell gift cards?", false},
	} {
		t.Run(tt.platform+" "+tt.text, func(t *testing.T) {
			ev := bot.Event{Platform: tt.platform, Kind: bot.KindMessage, Text: tt.text, At: night, Author: bot.Author{ID: "7", Name: "member"}}
			d := m.Decide(&ev, bot.Verdict{})
			if got := d.Kind == Forward && d.Why == WhyAfterHours; got != tt.forward {
				t.Errorf("after hours: %s (%s), want forwarded %v", d.Kind, d.Why, tt.forward)
			}
		})
	}
}
