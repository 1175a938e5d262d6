package rules

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/classify"
)

// ModelInfo describes a model of the models: section.
type ModelInfo struct {
	Name string
	// File is the model's file as written in the rule file, and Path where
	// it was read (relative to the rule file's folder).
	File, Path string
	// Label, Examples and Positives are what the model was trained to find
	// and on how many examples; zero when the model is switched off
	// (LoadOptions.Models).
	Label               string
	Examples, Positives int
	// Off says the model was switched off by LoadOptions.Models: score()
	// reads 0.
	Off bool
	// Replaced says the model was given by LoadOptions.Models instead of
	// its file.
	Replaced bool
	Line     int
}

// modelRef is a model as an expression holds it: score("spam") is compiled
// to score(__state, <the modelRef>), so no name is looked up per event.
type modelRef struct {
	name  string
	index int             // the model's place in the file, for the event's cache of scores
	m     *classify.Model // nil: switched off, scores 0
}

// compileModels loads the models: section. A model given in opts.Models
// replaces its file, or switches it off when nil.
func compileModels(d *decoder, specs []modelSpec, opts LoadOptions) (map[string]*modelRef, []string, []ModelInfo) {
	refs := map[string]*modelRef{}
	var names []string
	var infos []ModelInfo
	for _, ms := range specs {
		where := fmt.Sprintf("model %q", ms.Name)
		ref := &modelRef{name: ms.Name, index: len(names)}
		info := ModelInfo{Name: ms.Name, File: ms.File, Path: modelPath(d.file, ms.File, opts), Line: ms.Node.Line}
		if m, given := opts.Models[ms.Name]; given {
			ref.m = m
			info.Off, info.Replaced = m == nil, m != nil
		} else {
			key := fileKey(d.file, ms.File, opts)
			f, seen := d.modelFiles[key]
			if !seen || key == "" {
				f = readModel(d.file, ms.File, opts)
				if key != "" {
					if d.modelFiles == nil {
						d.modelFiles = map[string]modelFile{}
					}
					d.modelFiles[key] = f
				}
			}
			switch {
			case f.readErr != nil:
				d.errorf(ms.FileNode, "%s: %v", where, f.readErr)
				// declared all the same: score("NAME") is then not
				// also reported as unknown
			case f.err != nil:
				d.errorf(ms.FileNode, "%s: %s: %v", where, info.Path, f.err)
			default:
				ref.m = f.m
				d.keepRead(ms.File, f.data)
			}
		}
		if ref.m != nil {
			info.Label, info.Examples, info.Positives = ref.m.Label, ref.m.Examples, ref.m.Positives
		}
		refs[ms.Name] = ref
		names = append(names, ms.Name)
		infos = append(infos, info)
	}
	return refs, names, infos
}

// modelFile is a model file read and decoded, or why it is not.
type modelFile struct {
	m       *classify.Model
	data    []byte // as read
	readErr error  // the file could not be read
	err     error  // it is not a model
}

// readModel reads and decodes a model file. A model is never changed once
// decoded: the names of one file share it.
func readModel(ruleFile, name string, opts LoadOptions) modelFile {
	data, err := readListFile(ruleFile, name, maxModelBytes, opts)
	if err != nil {
		return modelFile{readErr: err}
	}
	m := new(classify.Model)
	if err := m.UnmarshalBinary(data); err != nil {
		return modelFile{err: err}
	}
	return modelFile{m: m, data: data}
}

// modelPath is where a model's file is read, as readListFile finds it.
func modelPath(ruleFile, name string, opts LoadOptions) string {
	if filepath.IsAbs(name) {
		return name
	}
	if opts.ReadFile != nil {
		return path.Join(path.Dir(filepath.ToSlash(ruleFile)), filepath.ToSlash(name))
	}
	return filepath.Join(filepath.Dir(ruleFile), name)
}

// scoreFunction declares score(name).
//
//	score("spam")  the probability, 0 to 1, that the event's text is of the
//	               label the model spam of the models: section was trained
//	               on; 0 when the model is switched off
func scoreFunction() expr.Option {
	return expr.Function("score", scoreFn, new(func(*evalState, *modelRef) float64))
}

func scoreFn(p ...any) (any, error) {
	return p[0].(*evalState).score(p[1].(*modelRef)), nil
}

// score is the event's score by m, computed once per event and model; the
// features are extracted once per event for all the models, their n-grams
// only when a model that reads them asks.
func (st *evalState) score(m *modelRef) float64 {
	if m.m == nil || st.analysis == nil {
		return 0
	}
	for len(st.scores) <= m.index {
		st.scores = append(st.scores, -1)
	}
	if s := st.scores[m.index]; s >= 0 {
		return s
	}
	if !st.featured {
		// the n-grams with the rest in one pass over the words when the
		// first model asked reads them
		if m.m.Grams() {
			st.features.Extract(st.analysis)
			st.grammed = true
		} else {
			st.features.ExtractLean(st.analysis)
		}
		st.featured = true
	}
	if m.m.Grams() && !st.grammed {
		// the n-grams are most of the features' work, and only a model
		// that reads them asks for them (the starter pack's spam model, of
		// comments only)
		st.features.AddGrams(st.analysis)
		st.grammed = true
	}
	s := m.m.Score(&st.features)
	st.scores[m.index] = s
	return s
}

// model rewrites score("NAME")'s argument into the model itself.
func (p *patcher) model(args []ast.Node) {
	if len(args) != 1 {
		return // expr's checker says how many arguments score takes
	}
	s, ok := args[0].(*ast.StringNode)
	if !ok {
		p.problem(args[0], `write score("NAME") with the name of a model of the models: section`)
		return
	}
	ref, known := p.c.models[s.Value]
	if !known {
		p.problem(s, "%s", unknownModel(s.Value, p.c.modelNames))
		return
	}
	args[0] = constantAt(ref, s)
}

func unknownModel(name string, known []string) string {
	msg := fmt.Sprintf("score: unknown model %q", name)
	if s := bot.Closest(name, known); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(known) == 0 {
		return msg + " (the file declares no models:)"
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}
