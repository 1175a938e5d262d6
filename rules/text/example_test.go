package text_test

import (
	"fmt"

	"github.com/vigie-bot/vigie/rules/text"
)

func Example() {
	insults, err := text.NewList([]string{"connard", "free nitro"})
	if err != nil {
		panic(err)
	}
	a := text.Analyze("T'es un c 0 n n 4 r d !! FR33 N1TR0 👉 discord.gg/xyz @everyone")
	entry, ok := insults.Match(a)
	fmt.Println(entry, ok)
	fmt.Println(a.Links, a.Domains, a.Mentions, a.Emojis)

	allowed, _ := text.NewList([]string{"youtube.com"})
	fmt.Println(allowed.Contains("www.YouTube.com"), allowed.Contains("m.youtube.com"), allowed.Contains("yout0be.com"))
	// Output:
	// connard true
	// [discord.gg/xyz] [discord.gg] 1 1
	// true true false
}
