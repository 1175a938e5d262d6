package faq

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// TestBrands runs the evaluation of every fictional brand in testdata/brands
// (thirteen: five shops and services, then a gym, a bus and train company and
// a repair shop, then a bistro chain, an airline and a mobile and fibre
// operator, then a veterinary clinic and a car-rental company, each group with
// held-out sets committed before their first run):
// FAQs written as a CM would (a handful of entries, two or three examples
// each), and messages nobody wrote the FAQ for. It fails when the sets tuned on
// fall under the goals and prints the held-out figures, the honest ones, then
// those of testdata/unseen: trades nobody taught the lexicon, no tuned set;
// then those of testdata/read, whose held-out misses were read.
// go test -v -run TestBrands prints the tuned sets' misses.
func TestBrands(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "brands", "*", "faq.yaml"))
	if err != nil || len(dirs) < 13 {
		t.Fatalf("brands: %v, %v", dirs, err)
	}
	var tuned, held Eval
	for _, faqFile := range dirs {
		dir := filepath.Dir(faqFile)
		brand := filepath.Base(dir)
		m := loadMatcher(t, faqFile)
		for _, set := range []string{"tuned", "heldout"} {
			e := evalFile(t, m, filepath.Join(dir, set+".tsv"))
			t.Logf("%-8s %-7s %s", brand, set, e)
			if set == "heldout" {
				held = held.Add(e)
				continue
			}
			tuned = tuned.Add(e)
			if testing.Verbose() {
				for _, x := range e.Misses {
					t.Logf("    line %d want %s: %q → %s %s %v %v", x.Line, x.Expect, x.Text, x.Decision.Kind, x.Decision.Entry, x.Decision.Candidates, x.Decision.Terms)
				}
			}
			checkGoals(t, brand+" tuned", e)
		}
	}
	t.Logf("all      tuned   %s", tuned)
	t.Logf("all      heldout %s", held)
	checkGoals(t, "all tuned", tuned)

	// The trades the lexicon was never taught, held out whole: their
	// figures say what a CM of a new trade gets on the first day.
	unseen, err := filepath.Glob(filepath.Join("testdata", "unseen", "*", "faq.yaml"))
	if err != nil || len(unseen) == 0 {
		t.Fatalf("unseen brands: %v, %v", unseen, err)
	}
	var first Eval
	for _, faqFile := range unseen {
		e := evalFile(t, loadMatcher(t, faqFile), filepath.Join(filepath.Dir(faqFile), "heldout.tsv"))
		t.Logf("%-8s unseen  %s", filepath.Base(filepath.Dir(faqFile)), e)
		first = first.Add(e)
	}
	t.Logf("all      unseen  %s", first)

	// The trades written and committed before a round, each batch run on
	// the matcher as it was and once at the round's end: totals only, their
	// misses unread (each folder's README says what they are and when they
	// were run).
	for _, batch := range sealedBatches {
		files, err := filepath.Glob(filepath.Join("testdata", batch, "*", "faq.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s trades: %v, %v", batch, files, err)
		}
		var blind Eval
		for _, faqFile := range files {
			e := evalFile(t, loadMatcher(t, faqFile), filepath.Join(filepath.Dir(faqFile), "heldout.tsv"))
			t.Logf("%-8s %s %s", filepath.Base(filepath.Dir(faqFile)), batch, e)
			blind = blind.Add(e)
		}
		t.Logf("all      %s %s", batch, blind)
	}

	// The trades whose held-out misses were read while the lexicon grew,
	// with no tuned set: neither never taught nor held to the goals.
	read, err := filepath.Glob(filepath.Join("testdata", "read", "*", "faq.yaml"))
	if err != nil || len(read) == 0 {
		t.Fatalf("read brands: %v, %v", read, err)
	}
	var seen Eval
	for _, faqFile := range read {
		e := evalFile(t, loadMatcher(t, faqFile), filepath.Join(filepath.Dir(faqFile), "heldout.tsv"))
		t.Logf("%-8s read    %s", filepath.Base(filepath.Dir(faqFile)), e)
		seen = seen.Add(e)
	}
	t.Logf("all      read    %s", seen)
}

// sealedBatches are the folders of trades written before a round and run on
// the matcher as it was, totals only: sealed7 five trades that are no shops
// (written before the round that read the twenty's neighbours), sealed8 five
// that take bookings, sealed9 five more (a ferry company, an insurance broker,
// a bike-share, a swimming pool, a boarding kennel), sealed10 a zoo, an
// electricity supplier and a streaming service (written before the round
// that read testdata/read2, run at its end), sealed11 an intercity coach
// operator, a video-game publisher's player support and a car-park operator,
// sealed12 a ceramics studio, a canal boat hire base and an animal shelter,
// sealed13 a trampoline park, a photographer's studio and a chimney sweep,
// sealed14 a riding school, a tandem paragliding company and a locksmith,
// sealed15 a tailor, a bowling alley and a beekeeper, sealed16 a cooking
// school, a blood donation centre and a recycling centre, sealed17 a medical
// testing laboratory, a pick-your-own farm and a karting track
// (all run at their round's start and once at its end).
var sealedBatches = []string{"sealed7", "sealed8", "sealed9", "sealed10", "sealed11", "sealed12", "sealed13", "sealed14", "sealed15", "sealed16", "sealed17"}

// TestRead2 prints the figures of testdata/read2, four trades written to
// tune the customer-service knowledge on, and with -v their misses.
func TestRead2(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "read2", "*", "faq.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("read2 trades: %v, %v", files, err)
	}
	var all Eval
	for _, faqFile := range files {
		e := evalFile(t, loadMatcher(t, faqFile), filepath.Join(filepath.Dir(faqFile), "heldout.tsv"))
		t.Logf("%-8s read2   %s", filepath.Base(filepath.Dir(faqFile)), e)
		all = all.Add(e)
		if testing.Verbose() {
			for _, x := range e.Misses {
				t.Logf("    line %d want %s: %q → %s %s %v %v", x.Line, x.Expect, x.Text, x.Decision.Kind, x.Decision.Entry, x.Decision.Candidates, x.Decision.Terms)
			}
		}
	}
	t.Logf("all      read2   %s", all)
}

// The goals: most real questions answered with the right entry, few messages
// answered beside the point, and nothing said to chit-chat, praise or insults.
const (
	goalRight = 0.80
	goalWrong = 0.03
)

func checkGoals(t *testing.T, name string, e Eval) {
	t.Helper()
	if e.RightShare() < goalRight {
		t.Errorf("%s: right %.3f of the questions, goal %.2f", name, e.RightShare(), goalRight)
	}
	if e.WrongShare() > goalWrong {
		t.Errorf("%s: wrong %.3f of the messages, goal at most %.2f", name, e.WrongShare(), goalWrong)
	}
	if e.WrongOthers > 0 {
		t.Errorf("%s: %d messages that ask nothing of the brand were answered", name, e.WrongOthers)
	}
}

func loadMatcher(t testing.TB, file string) *Matcher {
	t.Helper()
	rs, err := rules.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func evalFile(t testing.TB, m *Matcher, file string) Eval {
	t.Helper()
	lines := readEvalFile(t, file)
	e, err := m.Evaluate(lines)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return e
}

// leftAloneBound is how many of testdata/leavealone.tsv's messages the
// brands' and read trades' FAQs answered in all when that file was last
// taught (5 December 2026: 46 of 1,273 pairs, 127 before; with three more
// read trades, 45 of 1,474, 64 before the round that read them; with three
// more, 53 of 1,675, 55 before the round that read them; with three more,
// 36 of 1,876, 64 before the round that read them; then 18, once a place the
// FAQ does not know and "on se retrouve" were read; with three more read
// trades, 21 of 2,077; with three more, 25 of 2,278; with three more
// (storage, hearing aids, cleaning), 27 of 2,479): answering more is a
// step back.
const leftAloneBound = 27

// TestLeaveAlone holds every FAQ of testdata/brands and testdata/read to what
// the matcher learnt of members' chat and angry customers
// (testdata/leavealone.tsv): no more of those messages answered than when it
// was taught.
func TestLeaveAlone(t *testing.T) {
	var files []string
	for _, dir := range []string{"brands", "read"} {
		fs, err := filepath.Glob(filepath.Join("testdata", dir, "*", "faq.yaml"))
		if err != nil || len(fs) == 0 {
			t.Fatalf("%s: %v, %v", dir, fs, err)
		}
		files = append(files, fs...)
	}
	answered, pairs := 0, 0
	for _, f := range files {
		e := evalFile(t, loadMatcher(t, f), filepath.Join("testdata", "leavealone.tsv"))
		answered += e.WrongOthers
		pairs += e.Others
		for _, miss := range e.Misses {
			t.Logf("%s: %q: %s %s", filepath.Base(filepath.Dir(f)), miss.Text, miss.Decision.Kind, miss.Decision.Entry)
		}
	}
	t.Logf("%d of %d answered (at most %d)", answered, pairs, leftAloneBound)
	if answered > leftAloneBound {
		t.Errorf("%d of the %d messages to leave alone answered, more than the %d when they were taught", answered, pairs, leftAloneBound)
	}
}

// TestTeachingFromTheDesk teaches, for every read and unseen trade, the
// questions of one half of its set that the FAQ did not answer right (as a CM
// does by sending the right entry from the desk), and scores the other half:
// teaching must not cost right answers or add wrong ones. (Appended to an
// entry's examples, the taught wordings used to choose its intents and pull its
// centroid towards their products: 7 and 26 fewer right.)
func TestTeachingFromTheDesk(t *testing.T) {
	for _, dir := range []string{"unseen", "read"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*", "faq.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v, %v", dir, files, err)
		}
		var before, after Eval
		for _, f := range files {
			m := loadMatcher(t, f)
			fh, err := os.Open(filepath.Join(filepath.Dir(f), "heldout.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			lines, err := ReadEval(fh)
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
			at := evalTime(m)
			for half := range 2 {
				var taught []store.FAQWording
				var scored []EvalLine
				for i, l := range lines {
					if i%2 == half {
						scored = append(scored, l)
						continue
					}
					if l.Expect == None {
						continue
					}
					if d := m.DecideText(l.Text, at); (d.Kind == Answer || d.Kind == Suggest) && d.Entry == l.Expect {
						continue
					}
					taught = append(taught, store.FAQWording{Entry: l.Expect, Text: l.Text})
				}
				l, err := m.WithLearned(taught)
				if err != nil {
					t.Fatal(err)
				}
				e0, err := m.Evaluate(scored)
				if err != nil {
					t.Fatal(err)
				}
				e1, err := l.Evaluate(scored)
				if err != nil {
					t.Fatal(err)
				}
				before, after = before.Add(e0), after.Add(e1)
			}
		}
		t.Logf("%-6s untaught %s", dir, before)
		t.Logf("%-6s taught   %s", dir, after)
		if after.Right < before.Right-5 || after.Wrong() > before.Wrong()+3 {
			t.Errorf("%s: teaching the desk's answers cost %d right answers and added %d wrong ones", dir, before.Right-after.Right, after.Wrong()-before.Wrong())
		}
	}
}

// readEvalFile reads an evaluation file's lines.
func readEvalFile(t testing.TB, file string) []EvalLine {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := ReadEval(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return lines
}
