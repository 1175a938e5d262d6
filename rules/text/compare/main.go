// Command compare runs vigie's word-list matching, github.com/TwiN/go-away and
// (through obscenity.mjs) the npm package obscenity on the same obfuscated
// insults and the same innocent sentences, and prints what each caught, what
// each flagged by mistake, and how many messages a second each reads.
//
// It lives in its own module so that vigie does not depend on go-away. Run it
// with ./run.sh.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	goaway "github.com/TwiN/go-away"
	"golang.org/x/text/unicode/norm"

	"github.com/vigie-bot/vigie/rules/text"
)

// result is one filter's answers: one bool per obfuscated line and per
// innocent line, and its speed.
type result struct {
	Name      string  `json:"name"`
	Obf       []bool  `json:"obfuscated"`
	Innocent  []bool  `json:"innocent"`
	PerSecond float64 `json:"per_second"`
}

type obfLine struct{ lang, technique, text string }

func main() {
	lists := flag.String("lists", "../../../lists", "the starter pack's list folder")
	extra := flag.String("with", "", "JSON results of other filters to print alongside (from obscenity.mjs)")
	verbose := flag.Bool("v", false, "list every miss and false alarm")
	minTime := flag.Duration("time", 3*time.Second, "how long each filter reads the sets to measure its speed, in three rounds")
	flag.Parse()

	obf, err := readObfuscated("obfuscated.tsv")
	check(err)
	inn, err := readLines("innocent.txt")
	check(err)
	var words [][]string
	for _, name := range abuseLists {
		w, err := readLines(filepath.Join(*lists, name))
		check(err)
		words = append(words, w)
	}

	var vigie []*text.List
	for _, w := range words {
		l, err := text.NewList(w)
		check(err)
		vigie = append(vigie, l)
	}
	filters := []struct {
		name    string
		flagged func(string) bool
	}{
		{"vigie has_any (starter pack lists)", func(s string) bool {
			a := text.Analyze(s)
			for _, l := range vigie {
				if _, ok := l.Match(a); ok {
					return true
				}
			}
			return false
		}},
		{"go-away (its own dictionary)", goaway.NewProfanityDetector().IsProfane},
		{"go-away (starter pack lists)", goaway.NewProfanityDetector().WithCustomDictionary(
			flatWords(words), goaway.DefaultFalsePositives, goaway.DefaultFalseNegatives).IsProfane},
	}
	var results []result
	for _, f := range filters {
		results = append(results, answers(f.name, f.flagged, obf, inn))
	}
	// Speed: the filters take turns, three rounds, and each keeps its best
	// round, so that a burst of other work on the machine does not fall on one.
	for range 3 {
		for i, f := range filters {
			results[i].PerSecond = max(results[i].PerSecond, speed(f.flagged, obf, inn, *minTime/3))
		}
	}
	if *extra != "" {
		b, err := os.ReadFile(*extra)
		check(err)
		var more []result
		check(json.Unmarshal(b, &more))
		for _, r := range more {
			if len(r.Obf) != len(obf) || len(r.Innocent) != len(inn) {
				check(fmt.Errorf("%s: %d and %d answers for %d and %d lines", r.Name, len(r.Obf), len(r.Innocent), len(obf), len(inn)))
			}
		}
		results = append(results, more...)
	}
	report(results, obf, inn, *verbose)
}

// abuseLists are the starter pack's lists that the insult, slur and profanity
// rules read with has_any.
var abuseLists = []string{"insults-fr.txt", "insults-en.txt", "slurs-fr.txt", "slurs-en.txt", "profanity-fr.txt", "profanity-en.txt"}

func answers(name string, flagged func(string) bool, obf []obfLine, inn []string) result {
	r := result{Name: name, Obf: make([]bool, len(obf)), Innocent: make([]bool, len(inn))}
	for i, o := range obf {
		r.Obf[i] = flagged(o.text)
	}
	for i, s := range inn {
		r.Innocent[i] = flagged(s)
	}
	return r
}

// speed reads every line of both sets, again and again, for d, and returns the
// lines read per second.
func speed(flagged func(string) bool, obf []obfLine, inn []string, d time.Duration) float64 {
	n := 0
	// On the wall clock: a speed, measured.
	start := time.Now()
	for time.Since(start) < d {
		for _, o := range obf {
			flagged(o.text)
		}
		for _, s := range inn {
			flagged(s)
		}
		n += len(obf) + len(inn)
	}
	return float64(n) / time.Since(start).Seconds()
}

func report(results []result, obf []obfLine, inn []string, verbose bool) {
	nEN, nFR := 0, 0
	for _, o := range obf {
		if o.lang == "en" {
			nEN++
		} else {
			nFR++
		}
	}
	fmt.Printf("%d obfuscated insults (%d English, %d French), %d innocent sentences\n\n", len(obf), nEN, nFR, len(inn))
	fmt.Printf("| filter | obfuscated caught | English | French | innocent flagged | messages/s |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		en, fr := 0, 0
		for i, ok := range r.Obf {
			if ok && obf[i].lang == "en" {
				en++
			} else if ok {
				fr++
			}
		}
		fmt.Printf("| %s | %d / %d (%.1f%%) | %d / %d | %d / %d | %d / %d (%.1f%%) | %s |\n", r.Name,
			en+fr, len(obf), pct(en+fr, len(obf)), en, nEN, fr, nFR,
			count(r.Innocent), len(inn), pct(count(r.Innocent), len(inn)), thousands(r.PerSecond))
	}
	// by technique
	var techs []string
	byTech := map[string][]int{}
	for i, o := range obf {
		if byTech[o.technique] == nil {
			techs = append(techs, o.technique)
		}
		byTech[o.technique] = append(byTech[o.technique], i)
	}
	sort.Strings(techs)
	fmt.Printf("\nCaught by technique:\n\n| technique | lines |")
	for _, r := range results {
		fmt.Printf(" %s |", shortName(r.Name))
	}
	fmt.Printf("\n|---|---:|%s\n", strings.Repeat("---:|", len(results)))
	for _, t := range techs {
		fmt.Printf("| %s | %d |", t, len(byTech[t]))
		for _, r := range results {
			n := 0
			for _, i := range byTech[t] {
				if r.Obf[i] {
					n++
				}
			}
			fmt.Printf(" %d |", n)
		}
		fmt.Println()
	}
	if !verbose {
		return
	}
	for _, r := range results {
		fmt.Printf("\n%s\n  missed:\n", r.Name)
		for i, ok := range r.Obf {
			if !ok {
				fmt.Printf("    %s %-18s %q\n", obf[i].lang, obf[i].technique, obf[i].text)
			}
		}
		fmt.Printf("  innocent flagged:\n")
		for i, ok := range r.Innocent {
			if ok {
				fmt.Printf("    %q\n", inn[i])
			}
		}
	}
}

func shortName(s string) string {
	s = strings.ReplaceAll(s, " (starter pack lists)", " (pack lists)")
	s = strings.ReplaceAll(s, " (its own dictionary)", " (own)")
	s = strings.ReplaceAll(s, "vigie has_any", "vigie")
	return s
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func pct(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// flatWords turns list entries into go-away dictionary words: lower case, no
// accents, no spaces (go-away removes spaces from the text before matching),
// allow entries left out.
func flatWords(lists [][]string) []string {
	var out []string
	for _, l := range lists {
		for _, w := range l {
			if strings.HasPrefix(w, "!") {
				continue
			}
			var b strings.Builder
			for _, r := range norm.NFD.String(strings.ToLower(w)) {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					b.WriteRune(r)
				}
			}
			if b.Len() > 0 {
				out = append(out, b.String())
			}
		}
	}
	return out
}

func readObfuscated(path string) ([]obfLine, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	var out []obfLine
	for _, l := range lines {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s: %q: want language, technique and text, tab-separated", path, l)
		}
		out = append(out, obfLine{f[0], f[1], f[2]})
	}
	return out, nil
}

// readLines reads one entry a line, skipping blank lines and # comments, as
// vigie reads list files.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 && !strings.Contains(path, "obfuscated") && !strings.Contains(path, "innocent") {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(path, "obfuscated") {
			line = strings.TrimSpace(line)
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
