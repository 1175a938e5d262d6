package rules

import (
	"encoding/json"
	"slices"
	"strings"
)

// SchemaFile is the name `vigie init` gives the schema, beside rules.yaml; the
// starter pack's first line points editors at it.
const SchemaFile = "rules.schema.json"

// Schema returns a JSON Schema (draft-07, what the YAML language server of
// editors reads best) of the rule file as the decoder reads it, so that an editor
// completes keys and flags an unknown key or a wrong type as one types. It says
// what the shape of the file is; what only loading can tell (expressions, list
// files, durations) stays with `vigie check`. The key sets are the decoder's own
// (ruleKeys, faqKeys…), and a test compares them with spec.go's.
func Schema() []byte {
	b, err := json.MarshalIndent(schemaDoc(), "", "  ")
	if err != nil {
		panic(err) // maps of strings, numbers and bools always marshal
	}
	return append(b, '\n')
}

// obj is one JSON Schema object; the js* helpers below build the shapes the
// decoder reads (yamlnode.go).
type obj = map[string]any

func jsDesc(s obj, d string) obj {
	if d != "" {
		s["description"] = d
	}
	return s
}

// jsScalar is what the decoder reads as a string: any scalar but null (a chat id
// written as a number is its text).
func jsScalar(d string) obj {
	return jsDesc(obj{"type": []string{"string", "number", "boolean"}}, d)
}

func jsBoolean(d string) obj { return obj{"type": "boolean", "description": d} }

func jsInteger(d string) obj { return obj{"type": "integer", "description": d} }

func jsOneOf(d string, words ...string) obj {
	return jsDesc(obj{"type": "string", "enum": words}, d)
}

func jsDuration(d string) obj {
	return obj{"type": "string", "description": d + " A duration: 30s, 10m, 2h, 7d, 1w, or combined (1h30m)."}
}

// jsList is a list of item, or nothing (an empty key); a lone value stands for a
// list of one when the decoder accepts it (seq with single).
func jsList(item obj, single bool, d string) obj {
	l := obj{"type": []string{"array", "null"}, "items": item} // an empty key is an empty list
	if !single {
		return jsDesc(l, d)
	}
	return jsDesc(obj{"anyOf": []any{item, l}}, d)
}

// jsStrict is a mapping whose keys are exactly those given: the decoder reports
// any other key.
func jsStrict(props obj, required ...string) obj {
	s := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}

// jsNamed is a mapping of names usable in expressions (lists.NAME, counters.NAME).
func jsNamed(value obj, d string) obj {
	return obj{"type": "object", "propertyNames": obj{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
		"additionalProperties": value, "description": d}
}

func jsActions(d string) obj {
	one := obj{"anyOf": []any{
		obj{"type": "string"},
		obj{"type": "object", "minProperties": 1, "maxProperties": 1,
			"additionalProperties": obj{"type": []string{"string", "number", "boolean", "null"}}},
	}}
	return jsList(one, true, d+" An action: delete, timeout(10m), 'warn(\"text\")', or warn: \"text\".")
}

func schemaDoc() obj {
	strs := func(d string) obj { return jsList(jsScalar(""), true, d) }
	rule := jsDesc(jsStrict(obj{
		"name":        jsScalar("Unique name of the rule."),
		"category":    jsScalar("Free text; vigie replay scores it against event labels."),
		"description": jsScalar("What the rule is for."),
		"when":        jsScalar("An expression that must be true or false."),
		"do":          jsActions("The actions to carry out."),
		"hours":       jsOneOf("When the rule applies: always (default), after (outside office hours and on holidays) or office.", string(HoursAlways), string(HoursAfter), string(HoursOffice)),
		"mode":        jsOneOf("enforce (default) or shadow: a shadow rule's match is reported but its actions are never carried out.", string(ModeEnforce), string(ModeShadow)),
		"office":      jsOneOf("In office hours: act as after hours (default), or forward: one case for the CM to decide, no action.", string(OfficeAct), string(OfficeForward)),
		"priority":    jsOneOf("The priority of the rule's cases at the desk: high cases are decided first; normal is the default.", "high", "normal", "low"),
		"enabled":     jsBoolean("false: the rule applies only in the communities that enable it (communities: NAME: rules: enable)."),
	}, "name", "when"), "A rule: every rule that matches applies.")
	props := obj{
		"timezone": jsScalar("IANA name (Europe/Paris, UTC); office hours, holidays and test times are read in it. Default UTC."),
		"office_hours": obj{"type": "object", "propertyNames": obj{"pattern": daysPattern()}, "additionalProperties": jsList(obj{"type": "string"}, true, "\"09:00-19:00\", or a list of ranges."),
			"description": "Days to time ranges: mon-fri, sat, sat,sun → \"09:00-19:00\" (or a list of ranges). Outside them after_hours is true."},
		"holidays": jsList(obj{"type": "string", "pattern": `^\s*([A-Za-z]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2})\s*$`}, false, "Days that are after hours all day: a country code (FR, BE, US…) for its public holidays every year, and/or dates (YYYY-MM-DD)."),
		"desk": jsDesc(jsStrict(obj{
			"telegram_chat":   jsScalar("The Telegram chat where cases and alerts go."),
			"discord_channel": jsScalar("The Discord channel where cases and alerts go."),
			"cms":             strs("The accounts allowed to decide, as platform:id (like telegram:123456789)."),
			"discord_guilds":  strs("The ids of the Discord servers vigie moderates (replaces DISCORD_GUILDS); an entry may be ${ENV} holding ids separated by commas."),
			"telegram_chats":  strs("The ids of the Telegram groups vigie moderates (replaces TELEGRAM_CHATS); an entry may be ${ENV} holding ids separated by commas."),
		}), "Where cases and alerts go, who decides, and the places vigie moderates."),
		"lists": jsNamed(obj{"anyOf": []any{
			jsList(jsScalar(""), false, "Inline entries; one starting with ! is an allow entry."),
			jsDesc(jsStrict(obj{"file": jsScalar("A file of one entry a line, relative to the rule file; # starts a comment.")}, "file"), "Entries read from a file."),
		}}, "Named word lists: inline ([a, b]) or {file: path}."),
		"owners": obj{"type": "object", "additionalProperties": jsList(jsScalar(""), false, "The registrable domains of one owner, two at least: mybrand.fr, mybrand-store.com."),
			"description": "Domains of one owner each (a brand's sister sites): a Markdown link whose words name one and whose target is another is not counted in masked_links. A group that holds a domain vigie knows (google.com) joins its owner; any other group closes its names: a listed brand's name under a suffix not declared (mybrand.shop) is a look-alike for lookalike()."},
		"models": jsNamed(jsDesc(jsStrict(obj{"file": jsScalar("A model file made by vigie train, relative to the rule file.")}, "file"),
			"A text classifier."), "Text classifiers made by vigie train, read in expressions as score(\"NAME\"): the probability, 0 to 1, that the text is of the model's label."),
		"counters": jsNamed(jsDesc(jsStrict(obj{
			"key":    jsScalar("An expression giving a string: what to count by, like author.id."),
			"window": jsDuration("The sliding window."),
			"when":   jsScalar("Optional expression: only events for which it is true are counted."),
		}, "key", "window"), "A sliding-window counter."), "Sliding-window counters, declared once and counted once per event."),
		"rules": jsList(rule, false, "The rules, all checked in file order; every rule that matches applies."),
		"faq":   faqSchema(strs),
		"alerts": jsList(jsDesc(jsStrict(obj{
			"name":        jsScalar("Unique name of the alert."),
			"description": jsScalar("What the alert is for."),
			"when":        jsScalar("An expression that may use hits(RULE or CATEGORY, WINDOW) and baseline(...)."),
			"do":          jsActions("One alert(\"…\"), and lockdown(D) or slowmode(D) to shut the place while it holds, like [alert(\"…\"), lockdown(10m)]."),
		}, "name", "when", "do"), "A wave that pages the CMs once."), false, "Waves that page the CMs once."),
		"comments": jsDesc(jsStrict(obj{
			"delete": jsOneOf("hide: a rule's delete hides page comments (Facebook, Instagram) so a wrong call can be undone; delete (the default) removes them.", "hide", "delete"),
		}), "What delete does to a page comment."),
		"http_events": jsDesc(jsStrict(obj{
			"act_on": jsList(jsOneOf("", "discord", "telegram", "facebook", "instagram"), true, "The platforms whose connector is on that events posted to /v1/events may act on."),
		}), "Events posted to /v1/events."),
		"tests":  jsList(testSchema(strs), false, "The file's own tests, run by vigie test."),
		"modlog": modLogSchema(),
		"vars": jsNamed(obj{"type": []string{"string", "number", "boolean"}},
			"Named values read in expressions as community.vars.NAME; a community may change them (communities: NAME: vars)."),
		"verify": verifySchema(),
	}
	props["communities"] = communitySchema(strs, props["office_hours"].(obj), props["holidays"].(obj))
	// rules, or faq alone for a file that only answers questions.
	s := jsStrict(props)
	s["anyOf"] = []any{obj{"required": []string{"rules"}}, obj{"required": []string{"faq"}}}
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["$id"] = "https://github.com/vigie-bot/vigie/" + SchemaFile
	s["title"] = "vigie rule file"
	return s
}

// daysPattern matches what parseDays reads: days (any case) and ranges of days
// separated by commas, like mon-fri or sat,sun. The pattern spells each letter
// in both cases: editors read ECMAScript patterns, which have no (?i).
func daysPattern() string {
	var alts []string
	for _, name := range dayNames {
		var b strings.Builder
		for _, r := range name {
			b.WriteString("[" + strings.ToUpper(string(r)) + string(r) + "]")
		}
		alts = append(alts, b.String())
	}
	day := `\s*(` + strings.Join(alts, "|") + `)\s*`
	one := day + "(-" + day + ")?"
	return "^" + one + "(," + one + ")*$"
}

func faqSchema(strs func(string) obj) obj {
	ratio := func(d string) obj { return obj{"type": "number", "minimum": 0, "maximum": 1, "description": d} }
	modes := make([]string, len(faqModes))
	copy(modes, faqModes)
	entry := jsDesc(jsStrict(obj{
		"id":        jsScalar("Unique id of the entry."),
		"questions": strs("The questions the entry answers."),
		"answer": obj{"anyOf": []any{jsScalar(""), obj{"type": "object", "additionalProperties": jsScalar("")}},
			"description": "The answer per language ({fr: …, en: …}), or one text."},
		"keywords": strs("Optional: at least one must be in the message."),
		"intent":   strs("Optional: the customer-service intents the entry answers (hours, delivery, returns…), when its examples do not say it."),
		"mode":     jsOneOf("answer (default), suggest or forward.", modes...),
		"private":  jsBoolean("true: answered by private message where the platform allows."),
	}, "id", "questions", "answer"), "A FAQ entry.")
	test := jsDesc(jsStrict(obj{
		"question": jsScalar("The question asked."),
		"expect":   jsScalar("The entry id expected, or none."),
		"decision": jsOneOf("The decision expected.", faqDecisions...),
	}, "question", "expect"), "A FAQ test.")
	cooldown := func(d string) obj { return jsScalar(d + " A duration, or off.") }
	return jsDesc(jsStrict(obj{
		"threshold":         ratio("How close a question must be to answer (0 to 1)."),
		"suggest_threshold": ratio("How close a question must be to suggest an answer (0 to 1, at most threshold)."),
		"language":          jsScalar("The default language of answers."),
		"synonyms":          jsList(obj{"type": "array", "items": jsScalar(""), "minItems": 2}, false, "Groups of words taken as the same."),
		"questions_only":    jsBoolean("Only answer messages that are questions."),
		"after_hours":       jsOneOf("What to do after hours.", "forward", "silent"),
		"cooldown": jsDesc(jsStrict(obj{
			"channel": cooldown("Time between two answers in a channel."),
			"user":    cooldown("Time between two answers to a user."),
		}), "How often vigie answers."),
		"tests":   jsList(test, false, "The FAQ's own tests."),
		"entries": jsList(entry, false, "The questions vigie answers."),
	}), "Answering the frequent questions.")
}

func testSchema(strs func(string) obj) obj {
	author := jsDesc(jsStrict(obj{
		"id":          jsScalar("Author id (default u1)."),
		"name":        jsScalar("Author name: the name the space shows."),
		"username":    jsScalar("The account's handle."),
		"roles":       strs("Author roles."),
		"staff":       jsBoolean("The author is staff."),
		"bot":         jsBoolean("The author is a bot."),
		"created_at":  jsScalar("When the account was made: RFC 3339 or local like 2026-01-05 23:30."),
		"joined_at":   jsScalar("When the author joined: RFC 3339 or local like 2026-01-05 23:30."),
		"account_age": jsDuration("The account's age."),
		"member_age":  jsDuration("How long the author has been a member."),
		"verified":    jsBoolean("The author pressed the verify: button, or was never asked (default true)."),
	}), "The event's author.")
	event := jsDesc(jsStrict(obj{
		"id":           jsScalar("Event id (default t1, t2…)."),
		"platform":     jsScalar("Platform (default test)."),
		"kind":         jsScalar("Kind (default message)."),
		"space":        jsScalar("Space."),
		"channel":      jsScalar("Channel."),
		"thread":       jsScalar("Thread."),
		"reply_to":     jsScalar("The message replied to."),
		"text":         jsScalar("Text."),
		"attachments":  jsInteger("Number of attachments."),
		"files":        strs("Names of the attached files."),
		"hidden_links": strs("Link targets the text does not show (a Telegram text_link)."),
		"forward": jsDesc(jsStrict(obj{
			"from": jsScalar("Where the forwarded message came from."),
			"text": jsScalar("The forwarded text."),
		}), "The message this one forwards."),
		"embeds": jsList(jsDesc(jsStrict(obj{
			"author":      jsScalar("The author's name, above the title."),
			"author_url":  jsScalar("Where the author's name leads."),
			"footer":      jsScalar("The footer's text."),
			"title":       jsScalar("Title."),
			"description": jsScalar("Description."),
			"url":         jsScalar("URL."),
			"fields": jsList(jsDesc(jsStrict(obj{
				"name":  jsScalar("Name."),
				"value": jsScalar("Value."),
			}), "A field."), true, "Fields."),
		}), "An embed."), true, "Cards shown with the message."),
		"poll": jsDesc(jsStrict(obj{
			"question":    jsScalar("Question."),
			"description": jsScalar("Description."),
			"options":     strs("Options."),
			"explanation": jsScalar("A quiz's explanation."),
		}), "The poll the message asks."),
		"link":   jsScalar("Link."),
		"label":  jsScalar("Label."),
		"author": author,
		"at":     jsScalar("An absolute time, RFC 3339 or local like 2026-01-05 23:30."),
		"after":  jsDuration("From the base time, Monday 2026-01-05 12:00 in the file's timezone."),
		"repeat": obj{"type": "integer", "minimum": 1, "maximum": 10000, "description": "How many times the event is sent."},
		"every":  jsDuration("Time between repeats (default 1s)."),
	}), "A test event: the fields of the event JSON, plus at, after, repeat and every.")
	expect := jsDesc(jsStrict(obj{
		"event":     jsScalar("The event: a number from 1, first, last or an id."),
		"rules":     strs("The exact set of matched rules, shadow ones included; [] for none."),
		"actions":   jsActions("The exact list to carry out, texts expanded."),
		"counters":  obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "{NAME: value}."},
		"duplicate": jsBoolean("The event is a duplicate."),
		"alerts":    strs("The exact set of alerts whose condition held for the event."),
	}), "An expectation.")
	return jsDesc(jsStrict(obj{
		"name":   jsScalar("Unique name of the test."),
		"events": jsList(event, false, "The events, in order."),
		"expect": jsList(expect, false, "What is expected."),
	}, "name", "events", "expect"), "A test, run on a fresh memory store.")
}
