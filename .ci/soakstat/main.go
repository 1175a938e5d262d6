// Command soakstat prints the keys of a Redis by kind (the key layout of
// docs/store.md, ids folded), how many of each have no TTL, and the length of
// the kinds held in one to three keys, and the longest TTL left of each kind.
// .ci/soak-redis runs it every minute.
package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

var idRe = regexp.MustCompile(`[0-9a-f]{16,}|\d{3,}`)

// kind folds a key's ids: {discord:S:A}:seen is {P:S:K}:seen, a case's hash
// {cases}:c-ID, a counter {P:S:K}:c:NAME.
func kind(k string) string {
	if i := strings.Index(k, ":{"); i >= 0 {
		k = k[i+1:]
	}
	j := strings.Index(k, "}")
	if !strings.HasPrefix(k, "{") || j < 0 {
		return idRe.ReplaceAllString(k, "N")
	}
	tag, rest := k[1:j], k[j+1:]
	for _, p := range []string{"discord:", "telegram:", "facebook:", "instagram:"} {
		if strings.HasPrefix(tag, p) {
			tag = "P:S:K"
		} else if strings.HasPrefix(tag, "vigie:"+p) {
			tag = "vigie:P:S:K" // an alert's dedupe
		}
	}
	if word, _, ok := strings.Cut(tag, " "); ok {
		tag = word + " …"
	}
	if strings.HasPrefix(tag, "cause:") {
		tag = "cause:SUM"
	}
	segs := strings.Split(strings.TrimPrefix(rest, ":"), ":")
	switch {
	case strings.HasPrefix(segs[0], "c-"):
		segs = []string{"c-ID"}
	case (segs[0] == "c" || segs[0] == "login") && len(segs) > 1:
		segs = segs[:2]
	default:
		segs = segs[:1]
	}
	return "{" + tag + "}:" + idRe.ReplaceAllString(strings.Join(segs, ":"), "N")
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: soakstat REDIS_URL")
		os.Exit(2)
	}
	ctx := context.Background()
	opt, err := redis.ParseURL(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	count, noTTL, one := map[string]int{}, map[string]int{}, map[string]string{}
	longest := map[string]time.Duration{}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, "*", 2000).Result()
		if err != nil {
			fmt.Fprintln(os.Stderr, "scan:", err)
			os.Exit(1)
		}
		p := c.Pipeline()
		ttls := make([]*redis.DurationCmd, len(keys))
		for i, k := range keys {
			ttls[i] = p.PTTL(ctx, k)
		}
		_, _ = p.Exec(ctx)
		for i, k := range keys {
			kd := kind(k)
			count[kd]++
			one[kd] = k
			// -1: no TTL; -2: gone since the scan.
			if d, err := ttls[i].Result(); err == nil && d == -1 {
				noTTL[kd]++
			} else if err == nil && d > longest[kd] {
				longest[kd] = d
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	kinds := make([]string, 0, len(count))
	for k := range count {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		extra := ""
		if count[k] <= 3 {
			key := one[k]
			var n int64
			switch t, _ := c.Type(ctx, key).Result(); t {
			case "zset":
				n, _ = c.ZCard(ctx, key).Result()
			case "hash":
				n, _ = c.HLen(ctx, key).Result()
			case "stream":
				n, _ = c.XLen(ctx, key).Result()
			case "set":
				n, _ = c.SCard(ctx, key).Result()
			case "list":
				n, _ = c.LLen(ctx, key).Result()
			default:
				n = -1
			}
			if n >= 0 {
				extra = fmt.Sprintf(" len=%d", n)
			}
		}
		fmt.Printf("%-44s %8d no_ttl=%d ttl_max=%s%s\n", k, count[k], noTTL[k], longest[k].Round(time.Second), extra)
	}
}
