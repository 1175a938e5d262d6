package rules_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/text"
	"github.com/vigie-bot/vigie/store/memory"
)

// The replay analyses a few events' texts before it assesses them
// (Engine.Analyze, then AssessAnalyzed): each event must be assessed as
// Assess does, its analysis read where Analyze left it, though the texts of
// the events after it were analysed in between. A profile's text is its
// names, not Event.Text.
func TestAssessAnalyzedAsAssess(t *testing.T) {
	rs, err := rules.LoadWith(filepath.Join("..", "rules.example.yaml"), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs := benchCorpus(t, 600)
	profile := evs[1]
	profile.ID, profile.Kind, profile.Text = "profile-1", bot.KindProfile, ""
	profile.Author.Name, profile.Author.Username = "FREE NITRO FOR EVERYONE", ""
	evs = append(evs, profile)
	ctx := context.Background()
	one := rules.NewEngine(rs, memory.New(), rules.Options{})
	ahead := rules.NewEngine(rs, memory.New(), rules.Options{})
	const few = 4
	var an [few]text.Analysis
	matched, profileMatched := 0, false
	for lo := 0; lo < len(evs); lo += few {
		batch := evs[lo:min(lo+few, len(evs))]
		for k := range batch {
			ahead.Analyze(&an[k], &batch[k])
		}
		for k := range batch {
			want, err := one.Assess(ctx, batch[k])
			if err != nil {
				t.Fatal(err)
			}
			got, err := ahead.AssessAnalyzed(ctx, &batch[k], &an[k])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("event %s: AssessAnalyzed gave\n%+v\nAssess\n%+v", batch[k].ID, got, want)
			}
			if len(want.Verdict.Matches) > 0 {
				matched++
				profileMatched = profileMatched || batch[k].ID == profile.ID
			}
		}
	}
	if matched == 0 || !profileMatched {
		t.Fatalf("%d events matched a rule, the profile %v: the comparison would prove little", matched, profileMatched)
	}
}
