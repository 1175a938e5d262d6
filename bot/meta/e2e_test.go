package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The page's rules, as a CM would write them: hide insults (the desk can undo it)
// and tell the author privately; answer the opening-hours question.
const pageRules = `
timezone: Europe/Paris
lists:
  insults: [connard, connards, escroc, escrocs, nuls]
rules:
  - name: insult
    category: abuse
    when: not author.staff and has_any(text, lists.insults)
    do: [hide, 'warn("Merci de rester courtois.")']
  - name: opening-hours
    category: faq
    when: kind == "comment" and lower(text) contains "horaires"
    do: ['reply("Du lundi au samedi, 9h-19h.")']
`

// When the fixtures' deliveries were sent (their entries' time).
var (
	fbCommentAddSent = time.Unix(1795731000, 0).UTC() // fb_comment_add.json
	igCommentSent    = time.Unix(1795731700, 0).UTC() // ig_comment.json
)

// pipeline is the daemon's loop in small: every event from the connector goes
// through the rules engine, then the handlers carry the verdict out.
type pipeline struct {
	h     *harness
	eng   *rules.Engine
	mod   *handlers.Moderator
	store store.Store
}

// newPipeline builds the pipeline with one clock for the connector and the
// handlers, set to now: a minute after the delivery a test posts, so that the
// warnings and replies are not withheld as late, whatever the day of the run.
func newPipeline(t *testing.T, now time.Time, tweaks ...func(*meta.Config)) *pipeline {
	t.Helper()
	return newPipelineWith(t, now, pageRules, tweaks...)
}

// newPipelineWith is newPipeline with the rule file text.
func newPipelineWith(t *testing.T, now time.Time, text string, tweaks ...func(*meta.Config)) *pipeline {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	return newPipelineOn(t, now, text, st, tweaks...)
}

// newPipelineOn is newPipelineWith on the store st, which keeps the
// connector's answers given too, as the daemon's does.
func newPipelineOn(t *testing.T, now time.Time, text string, st store.Store, tweaks ...func(*meta.Config)) *pipeline {
	t.Helper()
	clock := func() time.Time { return now }
	rs, err := rules.Parse("page.yaml", []byte(text), rules.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	h := newHarness(t, func(c *meta.Config) {
		c.Now = clock
		c.Answers, _ = st.(store.CallKeeper)
		for _, tw := range tweaks {
			tw(c)
		}
	})
	mod, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{
			h.c.Facebook().Name():  h.c.Facebook(),
			h.c.Instagram().Name(): h.c.Instagram(),
		},
		Store: st,
		Retry: handlers.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond},
		Now:   clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.c.OpenCasesWith(mod.OpenCase) // as the daemon wires it
	return &pipeline{h: h, eng: rules.NewEngine(rs, st, rules.Options{Clock: clock}), mod: mod, store: st}
}

// deliver posts a signed delivery, then evaluates and handles every event it
// produced; it returns the verdicts.
func (p *pipeline) deliver(t *testing.T, body []byte) []bot.Verdict {
	t.Helper()
	p.h.mustPost(body)
	return p.judge(t)
}

// callsTo returns the Graph calls on path, without the sentinel's noise.
func (p *pipeline) callsTo(method, path string) []graphCall {
	var out []graphCall
	for _, c := range p.h.graph.Calls() {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func TestInsultingCommentHiddenThroughGraphAPI(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(time.Minute))
	body := fixture(t, "fb_comment_add.json")
	verdicts := p.deliver(t, body)
	if len(verdicts) != 1 || !verdicts[0].Flagged() || verdicts[0].Matches[0].Rule != "insult" {
		t.Fatalf("verdicts = %+v, want the insult rule", verdicts)
	}
	const cid = "987654321098765_1122334455667788"
	hides := p.callsTo("POST", "/"+cid)
	if len(hides) != 1 || hides[0].Params.Get("is_hidden") != "true" {
		t.Fatalf("hide calls = %+v, want one POST /%s is_hidden=true", hides, cid)
	}
	warns := p.callsTo("POST", "/"+pageID+"/messages")
	if len(warns) != 1 || jsonField(warns[0].JSON, "recipient.comment_id") != cid ||
		jsonField(warns[0].JSON, "message.text") != "Merci de rester courtois." {
		t.Fatalf("private replies = %+v", warns)
	}

	// Meta retries the delivery: nothing is done twice.
	p.deliver(t, body)
	if n := len(p.callsTo("POST", "/"+cid)); n != 1 {
		t.Fatalf("%d hides after a retried delivery, want 1", n)
	}
	if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
		t.Fatalf("cases opened for a successful hide: %+v", cs)
	}
}

func TestQuestionAnsweredOnInstagram(t *testing.T) {
	p := newPipeline(t, igCommentSent.Add(time.Minute))
	p.deliver(t, fixture(t, "ig_comment.json"))
	replies := p.callsTo("POST", "/17865799348089039/replies")
	if len(replies) != 1 || replies[0].Params.Get("message") != "Du lundi au samedi, 9h-19h." {
		t.Fatalf("replies = %+v, want the opening hours under the comment", replies)
	}
}

func TestFailedHideBecomesACase(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(time.Minute))
	const cid = "987654321098765_1122334455667788"
	p.h.graph.failNext("POST", "/"+cid, 403, graphErrorJSON(200, 0, "OAuthException",
		"(#200) Requires pages_manage_engagement permission to manage the object"), nil)
	p.deliver(t, fixture(t, "fb_comment_add.json"))

	// A permission error is not retried: one call, then a case with the reason.
	if n := len(p.callsTo("POST", "/"+cid)); n != 1 {
		t.Fatalf("%d hide attempts, want 1 (permissions are not retried)", n)
	}
	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("open cases = %+v, want 1", cs)
	}
	c := cs[0]
	if c.Rule != "insult" || c.Event.ID != cid || !strings.Contains(c.Reason, "lacks the permission to hide comments") ||
		len(c.Suggested) != 1 || c.Suggested[0].Kind != bot.ActHide {
		t.Fatalf("case = %+v", c)
	}

	// Once the permission is granted, a CM hides it from the desk.
	if _, err := p.mod.Decide(context.Background(), c.ID, "hide", "telegram:123"); err != nil {
		t.Fatalf("decide: %v", err)
	}
	hides := p.callsTo("POST", "/"+cid)
	if len(hides) != 2 || hides[1].Params.Get("is_hidden") != "true" {
		t.Fatalf("hide calls = %+v, want the CM's hide to reach the Graph API", hides)
	}
	if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
		t.Fatalf("cases still open after the decision: %+v", cs)
	}
}

func TestTransientGraphFailureRetried(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(time.Minute))
	const cid = "987654321098765_1122334455667788"
	p.h.graph.failNext("POST", "/"+cid, 500, graphErrorJSON(2, 0, "OAuthException",
		"An unexpected error has occurred. Please retry your request later."), nil)
	p.deliver(t, fixture(t, "fb_comment_add.json"))
	if n := len(p.callsTo("POST", "/"+cid)); n != 2 {
		t.Fatalf("%d hide attempts, want 2 (a transient failure, then success)", n)
	}
	if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
		t.Fatalf("a hide that succeeded on retry opened cases: %+v", cs)
	}
}

// A comment whose author Meta does not name (no from) is still judged and acted
// on: it gets an author of its own, so the daemon's checks take it and no two
// such comments count as one author's flood.
func TestCommentWithoutAuthorIsJudged(t *testing.T) {
	p := newPipeline(t, igCommentSent.Add(time.Minute))
	body := []byte(`{"object":"instagram","entry":[{"id":"` + igID + `","time":1795731700,"changes":[{"field":"comments","value":` +
		`{"media":{"id":"18012345678901234","media_product_type":"FEED"},"id":"17865799348089040","text":"quels sont vos horaires ?"}}]}]}`)
	p.h.mustPost(body)
	evs := p.h.collect()
	if len(evs) != 1 || evs[0].Author.ID != "unnamed:17865799348089040" {
		t.Fatalf("events = %+v, want one with an author of its own", evs)
	}
	if err := evs[0].Validate(); err != nil {
		t.Errorf("the daemon would drop it: %v", err)
	}
}

// Two rules forward one insulting comment while the Graph API is down: the
// hide of one and the private warning of the other fail. The CMs get one
// case for the comment, which says both rules' reasons and both failures,
// not a case per rule and per failure.
func TestOneCommentOneCase(t *testing.T) {
	const twoForwards = `
timezone: Europe/Paris
lists:
  insults: [connard, connards]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide, forward("insults the page")]
  - name: fraud
    category: reputation
    when: lower(text) contains "escroc"
    do: ['warn("Parlons-en en privé.")', forward("says we are crooks")]
`
	p := newPipelineWith(t, fbCommentAddSent.Add(time.Minute), twoForwards)
	const cid = "987654321098765_1122334455667788"
	down := graphErrorJSON(2, 0, "OAuthException", "An unexpected error has occurred. Please retry your request later.")
	for range 2 { // the pipeline's retry stage tries twice
		p.h.graph.failNext("POST", "/"+cid, 500, down, nil)
		p.h.graph.failNext("POST", "/"+pageID+"/messages", 500, down, nil)
	}
	p.deliver(t, fixture(t, "fb_comment_add.json"))
	if n, m := len(p.callsTo("POST", "/"+cid)), len(p.callsTo("POST", "/"+pageID+"/messages")); n != 2 || m != 2 {
		t.Fatalf("%d hides and %d private replies tried, want 2 and 2", n, m)
	}
	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		var got []string
		for _, c := range cs {
			got = append(got, c.Rule+": "+c.Reason)
		}
		t.Fatalf("%d cases for one comment, want 1:\n%s", len(cs), strings.Join(got, "\n"))
	}
	c := cs[0]
	for _, want := range []string{"insult: insults the page", "fraud: says we are crooks",
		"insult: action failed: hide", "fraud: action failed: warn"} {
		if !strings.Contains(c.Reason, want) {
			t.Errorf("reason %q does not say %q", c.Reason, want)
		}
	}
	if c.Rule != "insult" || c.Event.ID != cid || !c.Holds {
		t.Errorf("case = %+v, want rule insult, the comment, holding its actions", c)
	}
	var kinds []string
	for _, a := range c.Suggested {
		kinds = append(kinds, string(a.Kind))
	}
	if got := strings.Join(kinds, " "); got != "hide warn" {
		t.Errorf("suggested %q, want hide warn", got)
	}
}

// Graph's message, a refusal vigie has no plain words for, is cut at 300
// bytes for the case's reason: cut inside a letter of two bytes, the reason
// was not UTF-8, which Telegram refuses in a desk card ("strings must be
// encoded in UTF-8"). It is cut between letters.
func TestFailedHideReasonStaysUTF8(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(time.Minute))
	const cid = "987654321098765_1122334455667788"
	msg := "(#100) Autorisation manquant" + strings.Repeat(" é", 200) // 300 bytes end in é's first
	p.h.graph.failNext("POST", "/"+cid, 400, graphErrorJSON(100, 0, "OAuthException", msg), nil)
	p.deliver(t, fixture(t, "fb_comment_add.json"))

	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || !strings.Contains(cs[0].Reason, "Autorisation manquant é é") {
		t.Fatalf("open cases = %+v, want 1 with Graph's message", cs)
	}
	if r := cs[0].Reason; !utf8.ValidString(r) || !strings.HasSuffix(r, "é…") && !strings.Contains(r, "é …") {
		t.Errorf("reason %q: not UTF-8, or not cut after a whole letter", r)
	}
}

// TestRefusedHideInPlainWords: a CM's hide Meta refuses for a permission
// the app lacks is told on the case's cards in a CM's words, Graph's code
// kept in brackets, and so is the case the refusal opens for what is left
// (Graph's whole answer is in the log, "decision not carried out").
func TestRefusedHideInPlainWords(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(time.Minute))
	const cid = "987654321098765_1122334455667788"
	refuse := func() {
		p.h.graph.failNext("POST", "/"+cid, 403, graphErrorJSON(200, 0, "OAuthException",
			"(#200) Requires pages_manage_engagement permission to manage the object"), nil)
	}
	refuse()
	p.deliver(t, fixture(t, "fb_comment_add.json"))
	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil || len(cs) != 1 {
		t.Fatalf("open cases = %+v, %v; want 1", cs, err)
	}

	refuse()
	_, err = p.mod.Decide(context.Background(), cs[0].ID, "hide", "telegram:123")
	if err == nil {
		t.Fatal("a hide Meta refused decided as done")
	}
	const want = "⚠️ Not carried out: Meta refused: vigie's app lacks the permission to hide comments: grant it pages_manage_engagement (Facebook) " +
		"or instagram_manage_comments (Instagram), then renew META_PAGE_TOKEN [graph 200]"
	if got := bot.NotCarriedOut(err); got != want {
		t.Errorf("card says %q\nwant %q", got, want)
	}
	open, _ := p.store.Cases(context.Background(), store.CaseOpen)
	var told bool
	for _, c := range open {
		if strings.Contains(c.Reason, "(#200)") {
			t.Errorf("the case the refusal opened quotes Graph's answer (the log keeps it): %q", c.Reason)
		}
		told = told || strings.Contains(c.Reason, "hide by telegram:123 on case "+cs[0].ID+" not carried out: "+
			"Meta refused: vigie's app lacks the permission to hide comments")
	}
	if !told {
		t.Errorf("no case says, in a CM's words, what Meta refused and who asked it: %+v", open)
	}
}
