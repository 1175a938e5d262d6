package daemon

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sync"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/store"
)

// defaultFollowEvery is how often a process sharing its store reads there
// what another was asked for all: a reload, a pause, a mode.
const defaultFollowEvery = time.Second

// reloads is the store's count of the reloads asked, when processes share
// it (nil otherwise).
func (d *daemon) reloads() store.Reloads {
	if d.leases.alone {
		return nil
	}
	rl, _ := d.store.(store.Reloads)
	return rl
}

// askOthers tells the processes sharing the store that this one was asked
// to reload its rules, and did: each reloads its own rule file at its next
// look (followReloads). Behind a load balancer, the console's Apply, a desk's
// /reload or POST /-/reload reach one process; the others would otherwise
// judge with the old rules until each was reloaded by hand.
func (d *daemon) askOthers(confined bool, file string) {
	rl := d.reloads()
	if rl == nil {
		return
	}
	// This process runs the file reloaded last: if another's differed, it
	// is for that one to say.
	d.health.set(healthRulesDiffer, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.askedMu.Lock()
	d.asking++
	d.askedMu.Unlock()
	n, err := rl.AskReload(ctx, store.ReloadAsk{Confined: confined, Digest: fileDigest(file)})
	d.askedMu.Lock()
	defer d.askedMu.Unlock()
	d.asking++
	if err != nil {
		d.log.Warn("the other instances were not told of this reload: they keep their rules until each is reloaded", "err", err)
		return
	}
	d.asked, d.askedKnown = n, true
}

// runFollow reads every FollowEvery what was asked of another process
// sharing the store for all, and does it here, until ctx ends: a reload of
// the rules (this process's rule file is reloaded), a pause or a mode
// (handlers.Moderator.FollowSettings).
func (d *daemon) runFollow(ctx context.Context, wg *sync.WaitGroup) {
	rl := d.reloads()
	if rl == nil {
		return
	}
	every := cmp.Or(d.cfg.FollowEvery, defaultFollowEvery)
	look := func(wait time.Duration) {
		d.followReloads(ctx, rl, wait)
		d.mod.FollowSettings(ctx)
	}
	wg.Go(func() {
		d.guard.Loop(ctx, "what other instances were asked", func(ctx context.Context) {
			d.cfg.every(ctx, every, func() { look(every) })
		})
	})
}

// followFirst looks once at what was asked of the processes sharing the
// store, before this one takes events: it starts paused when the others
// are, and a reload asked of another from now on is one this process's
// rules predate.
func (d *daemon) followFirst(ctx context.Context) {
	rl := d.reloads()
	if rl == nil {
		return
	}
	wait := min(cmp.Or(d.cfg.FollowEvery, defaultFollowEvery), time.Second)
	d.followReloads(ctx, rl, wait)
	d.mod.FollowSettings(ctx)
}

// followReloads reloads the rule file when the reloads asked in the store
// are not those this process last saw: another asked one (or the store lost
// its count with its data, and a reload is then harmless). The first look
// only learns the count.
func (d *daemon) followReloads(ctx context.Context, rl store.Reloads, wait time.Duration) {
	d.askedMu.Lock()
	before := d.asking
	d.askedMu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, wait)
	a, err := rl.ReloadsAsked(rctx)
	cancel()
	if err != nil {
		return // the store's outage is logged and shown as such; next look
	}
	d.askedMu.Lock()
	if d.asking != before {
		// this process asked meanwhile: the count read may predate it
		d.askedMu.Unlock()
		return
	}
	known, seen := d.askedKnown, d.asked
	d.asked, d.askedKnown = a.N, true
	d.askedMu.Unlock()
	if !known || a.N == seen {
		return
	}
	l, err := d.reloadHere("another instance", a.Confined)
	if err != nil {
		d.log.Error("another instance reloaded its rules; this one's rule file was refused, the old rules keep running here", "err", err)
		return
	}
	if mine := fileDigest(l.file); a.Digest != "" && mine != a.Digest {
		d.log.Warn("another instance reloaded a rule file that is not this one's: the instances judge by different rules", "file", l.file, "digest", mine, "theirs", a.Digest)
		d.health.set(healthRulesDiffer, "another instance reloaded a rule file that is not this one's (digest "+a.Digest+", here "+mine+"): the instances judge by different rules")
		return
	}
	d.health.set(healthRulesDiffer, "")
}

// healthRulesDiffer is the health entry of a rule file that is not the one
// another instance reloaded.
const healthRulesDiffer = "rules"

// fileDigest names the content of a rule file: the first 16 hex digits of
// its SHA-256, "embedded" for the rules built in, "" when it cannot be read.
func fileDigest(file string) string {
	if file == vigie.EmbeddedName {
		return "embedded"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
