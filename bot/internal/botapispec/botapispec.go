// Package botapispec checks requests against the Telegram Bot API's
// machine-readable description, so that the tests' fake Bot API servers refuse
// what the real one would not know: an unknown method or field, a value of the
// wrong type, a missing required field. It is for tests only.
//
// telegram-bot-api.json is Bot API 10.1 (2026-06-11) as described by
// github.com/PaulSonOfLars/telegram-bot-api-spec (MIT licence, Copyright (c)
// 2020 Paul Larsen), scraped from core.telegram.org.
package botapispec

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed telegram-bot-api.json
var specJSON []byte

type field struct {
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Required bool     `json:"required"`
}

type method struct {
	Name   string  `json:"name"`
	Fields []field `json:"fields"`
}

type objectType struct {
	Name        string   `json:"name"`
	Fields      []field  `json:"fields"`
	Subtypes    []string `json:"subtypes"`
	Description []string `json:"description"`
}

type fieldDoc struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var (
	load    sync.Once
	methods map[string]method
	types   map[string]objectType
	// messageDocs are the Message type's fields with their descriptions.
	messageDocs []fieldDoc
)

func spec() map[string]method {
	load.Do(func() {
		var s struct {
			Methods map[string]method     `json:"methods"`
			Types   map[string]objectType `json:"types"`
		}
		if err := json.Unmarshal(specJSON, &s); err != nil {
			panic(fmt.Sprintf("botapispec: %v", err))
		}
		types = s.Types
		var docs struct {
			Types struct {
				Message struct {
					Fields []fieldDoc `json:"fields"`
				} `json:"Message"`
			} `json:"types"`
		}
		if err := json.Unmarshal(specJSON, &docs); err != nil {
			panic(fmt.Sprintf("botapispec: %v", err))
		}
		messageDocs = docs.Types.Message.Fields
		methods = map[string]method{}
		for _, m := range s.Methods {
			// Method names are case-insensitive in the Bot API.
			methods[strings.ToLower(m.Name)] = m
		}
	})
	return methods
}

// Check says what the Bot API would refuse in a call of name with params (form
// values, JSON values already turned to text); files names the fields sent as
// uploaded files. nil when the call is one the API describes.
func Check(name string, params url.Values, files []string) error {
	m, ok := spec()[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("unknown method %q", name)
	}
	known := map[string]field{}
	for _, f := range m.Fields {
		known[f.Name] = f
	}
	for k, vs := range params {
		f, ok := known[k]
		if !ok {
			return fmt.Errorf("%s: unknown field %q", m.Name, k)
		}
		for _, v := range vs {
			if !anyType(f.Types, v) {
				return fmt.Errorf("%s: field %q: %q is not %s", m.Name, k, v, strings.Join(f.Types, " or "))
			}
		}
	}
	for _, k := range files {
		f, ok := known[k]
		if !ok || !slices.Contains(f.Types, "InputFile") {
			return fmt.Errorf("%s: field %q is not a file", m.Name, k)
		}
	}
	for _, f := range m.Fields {
		if f.Required && !params.Has(f.Name) && !slices.Contains(files, f.Name) {
			return fmt.Errorf("%s: missing required field %q", m.Name, f.Name)
		}
	}
	return nil
}

func anyType(types []string, v string) bool {
	for _, t := range types {
		if isType(t, v) {
			return true
		}
	}
	return false
}

// isType checks a value sent as text: numbers and booleans as their literals,
// objects and arrays as JSON.
func isType(t, v string) bool {
	switch {
	case t == "String":
		return true
	case t == "Integer":
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case t == "Float":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case t == "Boolean":
		return v == "true" || v == "false"
	case t == "InputFile":
		return true // a file_id or a URL as text
	case strings.HasPrefix(t, "Array of "):
		var a []json.RawMessage
		if json.Unmarshal([]byte(v), &a) != nil {
			return false
		}
		elem := strings.TrimPrefix(t, "Array of ")
		for _, e := range a {
			if !jsonIs(elem, e) {
				return false
			}
		}
		return true
	}
	// an object type, sent as JSON
	var o map[string]json.RawMessage
	return json.Unmarshal([]byte(v), &o) == nil
}

func jsonIs(t string, raw json.RawMessage) bool {
	switch t {
	case "String":
		var s string
		return json.Unmarshal(raw, &s) == nil
	case "Integer", "Float":
		var f float64
		return json.Unmarshal(raw, &f) == nil
	case "Boolean":
		var b bool
		return json.Unmarshal(raw, &b) == nil
	}
	if strings.HasPrefix(t, "Array of ") {
		return isType(t, string(raw))
	}
	var o map[string]json.RawMessage
	return json.Unmarshal(raw, &o) == nil
}

// CheckObject says what in raw is not an object of the named type as the Bot
// API describes it (Update, Message…): an unknown field, a missing required
// one, a value of the wrong type, at any depth. A type with subtypes
// (MessageOrigin, ChatMember) takes any of them. The tests' fake Bot API
// checks the updates it hands out with it, so that the updates a test feeds
// vigie are ones Telegram could send.
func CheckObject(typeName string, raw json.RawMessage) error {
	spec()
	return checkValue(typeName, raw, typeName)
}

func checkValue(t string, raw json.RawMessage, at string) error {
	switch t {
	case "String", "Integer", "Float", "Boolean":
		if !jsonIs(t, raw) {
			return fmt.Errorf("%s: %s is not %s", at, raw, t)
		}
		return nil
	case "True":
		if string(raw) != "true" {
			return fmt.Errorf("%s: %s is not true", at, raw)
		}
		return nil
	}
	if elem, ok := strings.CutPrefix(t, "Array of "); ok {
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("%s: %s is not an array", at, raw)
		}
		for i, e := range a {
			if err := checkValue(elem, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	ot, ok := types[t]
	if !ok {
		return fmt.Errorf("%s: unknown type %s", at, t)
	}
	if len(ot.Subtypes) > 0 {
		var first error
		for _, sub := range ot.Subtypes {
			err := checkValue(sub, raw, at)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		return fmt.Errorf("%s: none of %s fits: %w", at, strings.Join(ot.Subtypes, ", "), first)
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return fmt.Errorf("%s: %s is not an object (%s)", at, raw, t)
	}
	known := map[string]field{}
	for _, f := range ot.Fields {
		known[f.Name] = f
	}
	for k, v := range o {
		f, ok := known[k]
		if !ok {
			return fmt.Errorf("%s: %s has no field %q", at, t, k)
		}
		var first error
		for _, ft := range f.Types {
			err := checkValue(ft, v, at+"."+k)
			if err == nil {
				first = nil
				break
			}
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
	}
	for _, f := range ot.Fields {
		if _, ok := o[f.Name]; f.Required && !ok {
			return fmt.Errorf("%s: %s lacks required field %q", at, t, f.Name)
		}
	}
	return nil
}

// ServiceFields are the fields of Message that the Bot API describes as
// service messages ("Service message: …", and those that say what happened in
// the chat: members in or out, a title, a photo, a pin, a migration, a
// payment…), so that a test can check a list of them is current.
func ServiceFields() []string {
	spec()
	var out []string
	for _, f := range messageDocs {
		d := f.Description
		if strings.Contains(d, "Service message") || strings.Contains(d, "service message") {
			out = append(out, f.Name)
		}
	}
	return out
}
