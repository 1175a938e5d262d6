package text

import (
	"fmt"
	"strings"
	"testing"
)

// benchMessages are real messages from the labelled corpora (../../shared/data),
// plus a few shaped like Discord chat.
var benchMessages = []string{
	"l’expulsion des migrants africains en question @url",
	"@user bon comme je le dis souvent quand parle de terrorisme et d'islam...ne condamnais pas toute la re… @url",
	"@user j’avoue souffre trop nous étudiants renois. force à toi est ensemble !!! @url",
	"@user @user perd pas ton temps à parler avec cet attardé il ne sait pas lire de toute façon",
	"RT @HoskinsTy96: @Vontey_isa_boss &#128514;&#128514;&#128514; ghetto ass mofos",
	"Really wanna go biking downtown. The current lack of sunglasses... Not cool. Not happy. Prepare the bitch face.",
	"*after BO1 RT @TheGodWriter_: @iDocLyfe Bruh lol I retired after mw2 because everything was trash afterwards.",
	"hey again if you guys wouldnt mind chacking out my rap give it like and il  giver 3 of your vids a like\ufeff",
	"https://binbox.io/DNCkM#qT4Q1JB1\ufeff",
	"PSY - GANGNAM STYLE (강남스타일) M/V: http://youtu.be/9bZkp7q19f0\ufeff",
	"Hey guys check out my new channel and our first vid THIS IS US THE  MONKEYS!!! I'm the monkey in the white shirt,please leave a like comment  and please subscribe!!!!",
	"we all love you Katy Perry &lt;3\ufeff",
	"gg wp <@123456789012345678> 🎉🎉 <:pepega:987654321>",
	"FREE NITRO 👉 discord.gg/fr33n1tr0 @everyone",
	"t'es vraiment un c0nnaaard, i.d.i.o.t",
	"ok",
}

func BenchmarkAnalyze(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range benchMessages {
			Analyze(m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchMessages)), "ns/msg")
}

func BenchmarkMatch(b *testing.B) {
	l, err := NewList([]string{"con", "connard", "idiot", "attardé", "bitch", "ass", "free nitro", "check out my channel", "subscribe", "merde", "nul", "putain"})
	if err != nil {
		b.Fatal(err)
	}
	as := make([]*Analysis, len(benchMessages))
	for i, m := range benchMessages {
		as[i] = Analyze(m)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range as {
			l.Match(a)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchMessages)), "ns/msg")
}

func BenchmarkContains(b *testing.B) {
	l, err := NewList([]string{"youtube.com", "twitch.tv", "discord.gg", "connard", "free nitro"})
	if err != nil {
		b.Fatal(err)
	}
	probes := []string{"youtube.com", "m.youtube.com", "evil.example", "Connard", "free nitro", "bit.ly"}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range probes {
			l.Contains(p)
		}
	}
}

// BenchmarkAnalyzeOpenLinks is a 4 KB message of Markdown links left open,
// "[a.co](https://b.co/" again and again then ")": each link's target reads
// on to the end of the text when its groups are read a byte at a time.
func BenchmarkAnalyzeOpenLinks(b *testing.B) {
	m := strings.Repeat("[a.co](https://b.co/", 200) + ")"
	b.ReportAllocs()
	for b.Loop() {
		Analyze(m)
	}
}

// BenchmarkAnalyzeCodeSpans is Markdown links in backticks, 4 KB and 8 KB:
// links in inline code, and runs of backticks of growing length that a
// shorter run closes, each of which would be looked for to the end of the
// text if runs were paired by a search from each. Twice the text should
// take twice the time.
func BenchmarkAnalyzeCodeSpans(b *testing.B) {
	var runs strings.Builder
	for n := 1; runs.Len() < 4000; n++ {
		runs.WriteString(strings.Repeat("`", n%40+2) + "[a.co](https://b.co/x) ")
	}
	for _, m := range []struct{ name, text string }{
		{"code/4KB", strings.Repeat("`[a.co](https://b.co/x)` ", 160)},
		{"code/8KB", strings.Repeat("`[a.co](https://b.co/x)` ", 320)},
		{"runs/4KB", runs.String() + "`"},
		{"runs/8KB", runs.String() + runs.String() + "`"},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(m.text)
			}
		})
	}
}

// BenchmarkAnalyzeManyDomains is a message of distinct links, 2,000 and
// 16,000 of them: each domain was looked for among those found before it
// (1.2 s for 16,000). Eight times the links should take eight times the
// time.
func BenchmarkAnalyzeManyDomains(b *testing.B) {
	for _, n := range []int{2000, 16000} {
		var m strings.Builder
		for i := range n {
			fmt.Fprintf(&m, "https://s%d.example%d.com/ ", i, i)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(m.String())
			}
		})
	}
}
