// Package discordspec checks HTTP requests against Discord's OpenAPI
// description, so that the tests' fake Discord refuses what the real API does
// not describe: an unknown route or method, a path id that is not a snowflake,
// an unknown query parameter, a JSON body with an unknown field (a null stands
// for an absent field), a value of the wrong type, out of its bounds (a
// number's minimum and maximum, a text's or a list's length, an enum) or a
// missing required field.
// It is for tests only.
//
// discord-openapi.json is Discord's HTTP API v10 description (public preview,
// github.com/discord/discord-api-spec, MIT licence, Copyright 2023 Discord).
// Where it disagrees with Discord's documentation, the documentation wins.
package discordspec

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed discord-openapi.json
var specJSON []byte

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 any                `json:"type"` // a name or a list of names
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	Items                *schema            `json:"items"`
	OneOf                []*schema          `json:"oneOf"`
	AnyOf                []*schema          `json:"anyOf"`
	AllOf                []*schema          `json:"allOf"`
	Pattern              string             `json:"pattern"`
	AdditionalProperties any                `json:"additionalProperties"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	MinLength            *int               `json:"minLength"`
	MaxLength            *int               `json:"maxLength"`
	MinItems             *int               `json:"minItems"`
	MaxItems             *int               `json:"maxItems"`
	Enum                 []any              `json:"enum"`
}

type parameter struct {
	Name   string  `json:"name"`
	In     string  `json:"in"`
	Schema *schema `json:"schema"`
}

type operation struct {
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type route struct {
	template []string
	params   []parameter
	ops      map[string]*operation
}

var (
	load    sync.Once
	routes  []route
	schemas map[string]*schema
)

func spec() []route {
	load.Do(func() {
		var s struct {
			Paths      map[string]map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]*schema `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(specJSON, &s); err != nil {
			panic(fmt.Sprintf("discordspec: %v", err))
		}
		schemas = s.Components.Schemas
		for path, item := range s.Paths {
			r := route{template: strings.Split(strings.Trim(path, "/"), "/"), ops: map[string]*operation{}}
			for k, raw := range item {
				if k == "parameters" {
					_ = json.Unmarshal(raw, &r.params)
					continue
				}
				var op operation
				if err := json.Unmarshal(raw, &op); err == nil {
					r.ops[strings.ToUpper(k)] = &op
				}
			}
			routes = append(routes, r)
		}
	})
	return routes
}

// Check says what Discord would refuse in a request; path is without the API's
// base (/api/v9 or /api/v10). nil when the description allows it.
func Check(method, path string, query url.Values, contentType string, body []byte) error {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	bestLiterals := -1
	for i := range spec() {
		r := &routes[i]
		if n, ok := match(r.template, segs); ok && n > bestLiterals {
			best, bestLiterals = r, n
		}
	}
	if best == nil {
		return fmt.Errorf("no route %s /%s", method, strings.Join(segs, "/"))
	}
	name := "/" + strings.Join(best.template, "/")
	op := best.ops[method]
	if op == nil {
		return fmt.Errorf("%s %s: method not allowed", method, name)
	}
	params := append(slices.Clone(best.params), op.Parameters...)
	for i, t := range best.template {
		if p, ok := strings.CutPrefix(t, "{"); ok {
			p = strings.TrimSuffix(p, "}")
			for _, prm := range params {
				if prm.Name == p && prm.In == "path" {
					if err := validate(resolve(prm.Schema), segs[i], "path "+p, false); err != nil {
						return fmt.Errorf("%s %s: %w", method, name, err)
					}
				}
			}
		}
	}
	for k := range query {
		if !slices.ContainsFunc(params, func(p parameter) bool { return p.Name == k && p.In == "query" }) {
			return fmt.Errorf("%s %s: unknown query parameter %q", method, name, k)
		}
	}
	if len(body) == 0 {
		if op.RequestBody != nil {
			if c, ok := op.RequestBody.Content["application/json"]; ok && len(resolve(c.Schema).Required) > 0 {
				return fmt.Errorf("%s %s: missing body", method, name)
			}
		}
		return nil
	}
	if op.RequestBody == nil {
		return fmt.Errorf("%s %s: takes no body", method, name)
	}
	if !strings.HasPrefix(contentType, "application/json") {
		return nil // multipart uploads: their parts are not checked here
	}
	c, ok := op.RequestBody.Content["application/json"]
	if !ok {
		return fmt.Errorf("%s %s: takes no JSON body", method, name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s: body: %w", method, name, err)
	}
	if err := validate(c.Schema, v, "body", true); err != nil {
		return fmt.Errorf("%s %s: %w", method, name, err)
	}
	return nil
}

// match reports whether segs fit template, and how many literal segments it has.
func match(template, segs []string) (int, bool) {
	if len(template) != len(segs) {
		return 0, false
	}
	n := 0
	for i, t := range template {
		if strings.HasPrefix(t, "{") {
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		n++
	}
	return n, true
}

func resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	if s == nil {
		return &schema{}
	}
	return s
}

var patterns sync.Map // string -> *regexp.Regexp

// validate checks v against s; at names the place for the message; isJSON is
// false for path values, which are text whatever their type.
func validate(s *schema, v any, at string, isJSON bool) error {
	s = resolve(s)
	// allOf's parts hold, and so does what the schema says beside them (an
	// enum next to the type it narrows).
	for _, sub := range s.AllOf {
		if err := validate(sub, v, at, isJSON); err != nil {
			return err
		}
	}
	if alts := append(slices.Clone(s.OneOf), s.AnyOf...); len(alts) > 0 {
		// None fits: the alternative that went deepest says best what is wrong.
		var deepest error
		for _, sub := range alts {
			err := validate(sub, v, at, isJSON)
			if err == nil {
				return nil
			}
			if deepest == nil || depth(err) > depth(deepest) {
				deepest = err
			}
		}
		return deepest
	}
	if types := typeNames(s.Type); len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return isType(t, v, isJSON) }) {
		return fmt.Errorf("%s: %s is not %s", at, show(v), strings.Join(types, " or "))
	}
	if str, ok := v.(string); ok && s.Pattern != "" {
		re, _ := patterns.Load(s.Pattern)
		if re == nil {
			c, err := regexp.Compile(s.Pattern)
			if err != nil {
				return nil
			}
			patterns.Store(s.Pattern, c)
			re = c
		}
		if !re.(*regexp.Regexp).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", at, str, s.Pattern)
		}
	}
	if err := bounds(s, v, at); err != nil {
		return err
	}
	switch v := v.(type) {
	case map[string]any:
		if s.Properties != nil {
			// "type" first: it tells the alternatives of a oneOf apart (a
			// button from a select), and one that fails on it is not meant.
			keys := slices.Sorted(maps.Keys(v))
			if i := slices.Index(keys, "type"); i > 0 {
				keys = append(append([]string{"type"}, keys[:i]...), keys[i+1:]...)
			}
			for _, k := range keys {
				x := v[k]
				p, ok := s.Properties[k]
				if !ok {
					// A null is an absent field: client libraries send one
					// for every optional field of their structs.
					if x == nil || s.AdditionalProperties != nil && s.AdditionalProperties != false {
						continue
					}
					return fmt.Errorf("%s: unknown field %q", at, k)
				}
				if err := validate(p, x, at+"."+k, true); err != nil {
					return err
				}
			}
		}
		for _, k := range s.Required {
			if _, ok := v[k]; !ok {
				return fmt.Errorf("%s: missing required field %q", at, k)
			}
		}
	case []any:
		if s.Items != nil {
			for i, x := range v {
				if err := validate(s.Items, x, fmt.Sprintf("%s[%d]", at, i), true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// bounds checks v against the schema's limits: a number's minimum and
// maximum, a text's length in characters, a list's length, the values an
// enum allows. (A named enumeration, a oneOf of consts, is not checked:
// those lag the documentation, MessageReferenceType knows no forward.)
func bounds(s *schema, v any, at string) error {
	switch v := v.(type) {
	case float64:
		if s.Minimum != nil && v < *s.Minimum {
			return fmt.Errorf("%s: %v is below the minimum %v", at, v, *s.Minimum)
		}
		if s.Maximum != nil && v > *s.Maximum {
			return fmt.Errorf("%s: %v is above the maximum %v", at, v, *s.Maximum)
		}
	case string:
		n := utf8.RuneCountInString(v)
		if s.MinLength != nil && n < *s.MinLength {
			return fmt.Errorf("%s: %s is shorter than %d characters", at, show(v), *s.MinLength)
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			return fmt.Errorf("%s: %s is longer than %d characters (%d)", at, show(v), *s.MaxLength, n)
		}
	case []any:
		if s.MinItems != nil && len(v) < *s.MinItems {
			return fmt.Errorf("%s: %d items, fewer than %d", at, len(v), *s.MinItems)
		}
		if s.MaxItems != nil && len(v) > *s.MaxItems {
			return fmt.Errorf("%s: %d items, more than %d", at, len(v), *s.MaxItems)
		}
	}
	switch v.(type) {
	case string, float64, bool:
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
			return fmt.Errorf("%s: %s is not one of %s", at, show(v), show(s.Enum))
		}
	}
	return nil
}

func typeNames(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func isType(t string, v any, isJSON bool) bool {
	if !isJSON {
		return t == "string" || t == "integer" || t == "number"
	}
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return true
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		b = append(b[:57], "..."...)
	}
	return string(b)
}

// depth is how far into the value an error points: body.a[0].b is 3; an
// error on an object's "type" says the alternative was not meant, and is
// the shallowest.
func depth(err error) int {
	at, _, _ := strings.Cut(err.Error(), ": ")
	if strings.HasSuffix(at, ".type") {
		return -1
	}
	return strings.Count(at, ".") + strings.Count(at, "[")
}

// CheckObject says what in v (a decoded JSON value) is not an object of the
// named component schema (MessageResponse, GuildMemberResponse…): an unknown
// field, a missing required one, a value of the wrong type. The tests' fake
// gateway checks the events it sends with it (their gateway-only fields
// taken out), so that what a test feeds discordgo is what Discord could send.
func CheckObject(schemaName string, v any) error {
	spec()
	s, ok := schemas[schemaName]
	if !ok {
		return fmt.Errorf("unknown schema %q", schemaName)
	}
	return validate(s, v, schemaName, true)
}
