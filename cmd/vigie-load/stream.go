package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// builtinTexts are what a busy gaming server or brand page sees, weighted so
// that most events match a rule of the starter pack (rules.example.yaml):
// insults, scams, phishing, mass mentions, shouting, emoji spam, profanity,
// promotion. The engine's work, the verdicts, the strikes, the audit and the
// cases are then those of a bad night, not of an idle chat.
var builtinTexts = []string{
	// ok
	"salut tout le monde",
	"quelqu'un a vu le stream hier soir ?",
	"gg à tous, bien joué",
	"what time does the tournament start?",
	"je joue ce soir si vous êtes chauds",
	"thanks for the help earlier, it works now",
	// insult, profanity
	"t'es vraiment un connard",
	"ferme ta gueule espèce d'abruti",
	"you are a fucking idiot",
	"shut up you stupid moron",
	"putain ce jeu est nul",
	"this patch is shit honestly",
	// scams, phishing, links
	"FREE NITRO https://dlscord.gift/claim",
	"free nitro for everyone, claim here: https://discord-nitro.gift/free",
	"send 0.1 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh and get 1 BTC back",
	"check out my channel https://youtube.com/@mychannel subscribe please!!",
	// mass mentions, shouting, emoji spam
	"@alice @bob @carol @dave @erin @frank look at this",
	"WHY IS NOBODY ANSWERING MY QUESTION ???",
	"🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥 let's gooo",
	"JE VEUX MON REMBOURSEMENT MAINTENANT",
}

// stream makes the events the load generator posts: texts from the data files
// or the built-in ones, spread over many authors, spaces and channels.
// Not safe for concurrent use: each sender has its own.
type stream struct {
	texts    []string
	rng      *rand.Rand
	run      string // tells this run's ids from those of earlier runs
	seq      uint64
	worker   int
	platform string
	authors  int
	spaces   int
	channels int
	now      time.Time // of the stream's start: accounts are aged from it
	buf      []byte
}

// regulars are a few authors who post far more than the crowd, so that the
// counters' rules (flood, repeats) fire as they do in a real chat.
const (
	regulars     = 100
	regularShare = 0.05
)

// event is the JSON of one event; a struct, not a map, so that making it costs
// the load generator little.
type event struct {
	ID       string    `json:"id"`
	Platform string    `json:"platform"`
	Kind     string    `json:"kind"`
	Space    string    `json:"space"`
	Channel  string    `json:"channel"`
	Author   author    `json:"author"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
}

type author struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	JoinedAt  time.Time `json:"joined_at"`
}

// next returns the body of the next event, sent at at; the slice is reused by
// the following call.
func (s *stream) next(at time.Time) []byte {
	s.seq++
	var a int
	if s.rng.Float64() < regularShare {
		a = s.rng.IntN(min(regulars, s.authors))
	} else {
		a = s.rng.IntN(s.authors)
	}
	space := a % s.spaces
	// One account in ten is a day old, as in a raid; the others are years old.
	age := 24 * time.Hour
	if a%10 != 0 {
		age = time.Duration(400+a%800) * 24 * time.Hour
	}
	created := s.now.Add(-age).Truncate(time.Second)
	ev := event{
		ID:       s.run + "-" + strconv.Itoa(s.worker) + "-" + strconv.FormatUint(s.seq, 10),
		Platform: s.platform,
		Kind:     "message",
		Space:    "s" + strconv.Itoa(space),
		Channel:  "s" + strconv.Itoa(space) + "c" + strconv.Itoa(s.rng.IntN(s.channels)),
		Author: author{
			ID:        "u" + strconv.Itoa(a),
			Name:      "user" + strconv.Itoa(a),
			CreatedAt: created,
			JoinedAt:  created.Add(age / 2),
		},
		Text: s.texts[s.rng.IntN(len(s.texts))],
		At:   at.UTC().Truncate(time.Millisecond),
	}
	s.buf = s.buf[:0]
	raw, err := json.Marshal(ev)
	if err != nil {
		panic(err) // strings and times only: cannot fail
	}
	s.buf = append(s.buf, raw...)
	return s.buf
}

// loadTexts reads the text of every event in the JSON Lines files that match
// pattern (vigie replay's format); lines that are not events are skipped.
func loadTexts(pattern string) ([]string, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("-data %q: %w", pattern, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("-data %q: no such file", pattern)
	}
	var texts []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // the largest body /v1/events takes
		for sc.Scan() {
			var ev struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Text != "" {
				texts = append(texts, ev.Text)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("-data %q: no event with a text", pattern)
	}
	return texts, nil
}
