package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/portico-mcp/portico/tenant"
)

// Current is a tenant as a Portico holds it: the file's view of it plus
// what only the server knows.
type Current struct {
	ID          string
	Name        string
	BaseURL     string
	SpecURL     string
	Status      tenant.Status
	Settings    tenant.Settings
	Credentials []tenant.Credential // names, types and headers: values are write-only
	Toolsets    []tenant.Toolset
	Prompts     []tenant.Prompt
}

// fileToolset is ts as a file declares it.
func fileToolset(ts tenant.Toolset) Toolset {
	return Toolset{Name: ts.Name, Description: ts.Description, Tools: nilIfEmpty(ts.Tools), Tags: nilIfEmpty(ts.Tags), ReadOnly: ts.ReadOnly}
}

// filePrompt is p as a file declares it.
func filePrompt(p tenant.Prompt) Prompt {
	return Prompt{Name: p.Name, Title: p.Title, Description: p.Description, Arguments: nilIfEmpty(p.Arguments), Messages: p.Messages, Toolsets: nilIfEmpty(p.Toolsets)}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Export is the file that declares current, tenants sorted by name. A spec URL
// that is the default is left out; a credential's value is referenced as
// env:ExportEnv(tenant, name), since where it came from is not known.
func Export(current []Current) *File {
	f := &File{Version: Version, Tenants: []Tenant{}}
	current = slices.Clone(current)
	slices.SortFunc(current, func(a, b Current) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, c := range current {
		active := c.Status == tenant.StatusActive
		t := Tenant{Name: c.Name, BaseURL: c.BaseURL, SpecURL: c.SpecURL, Active: &active, Settings: c.Settings}
		if c.SpecURL == tenant.DefaultSpecURL(c.BaseURL) {
			t.SpecURL = ""
		}
		for _, cr := range c.Credentials {
			o := cr.OAuth2Config
			t.Credentials = append(t.Credentials, Credential{Name: cr.Name, Type: cr.Type, Header: cr.Header,
				ValueFrom: "env:" + ExportEnv(c.Name, cr.Name), AuthorizeURL: o.AuthorizeURL, TokenURL: o.TokenURL,
				ClientID: o.ClientID, Scopes: o.Scopes, Audience: o.Audience, AuthMethod: o.AuthMethod})
		}
		for _, ts := range c.Toolsets {
			t.Toolsets = append(t.Toolsets, fileToolset(ts))
		}
		for _, p := range c.Prompts {
			t.Prompts = append(t.Prompts, filePrompt(p))
		}
		f.Tenants = append(f.Tenants, t)
	}
	return f
}

// Options change what Diff plans.
type Options struct {
	// Prune deletes tenants the file does not name, and credentials,
	// toolsets and prompts of a named tenant the file does not list.
	// Without it they are left alone.
	Prune bool
	// PutCredentials writes every credential the file lists again, even
	// when its name, type and header already match. Values are write-only
	// in the API, so this is how a changed value (a rotated secret) reaches
	// Portico.
	PutCredentials bool
}

// Action is what a step does to a tenant.
type Action string

const (
	Create Action = "create"
	Change Action = "change"
	Delete Action = "delete"
)

// Step is everything one tenant needs, with the lines that describe it.
type Step struct {
	Action Action
	Name   string
	ID     string  // the existing tenant's id (change, delete)
	Want   *Tenant // the file's tenant (create, change)
	Lines  []string

	// Patch fields are set when they change (change only). Name changes
	// only in case: a different name is another tenant.
	NewName, BaseURL, SpecURL *string
	Settings                  *tenant.Settings

	PutCredentials    []Credential
	DeleteCredentials []string
	Activate          bool
	Deactivate        bool

	// Toolsets and prompts to write (Create: new, else a replacement)
	// and to delete, applied after the status change so that toolsets are
	// checked against the serving document.
	PutToolsets    []Put[Toolset]
	DeleteToolsets []string
	PutPrompts     []Put[Prompt]
	DeletePrompts  []string
}

// Put is one toolset or prompt to write: a new one (Create) or a
// replacement of the one of its name.
type Put[T any] struct {
	Value  T
	Create bool
}

// Plan is the steps that bring a Portico to the file, creates and changes
// in the file's order, then deletes by name.
type Plan struct {
	Steps []Step
}

// Empty reports whether the Portico already matches the file.
func (p Plan) Empty() bool { return len(p.Steps) == 0 }

// Count returns how many tenants the plan creates, changes and deletes.
func (p Plan) Count() (create, change, del int) {
	for _, s := range p.Steps {
		switch s.Action {
		case Create:
			create++
		case Change:
			change++
		case Delete:
			del++
		}
	}
	return
}

// Write prints the plan, one line per tenant and one per field below it,
// then a summary; "no changes" when there is nothing to do. It prints
// credential references, never values (the plan holds none).
func (p Plan) Write(w io.Writer) {
	if p.Empty() {
		fmt.Fprintln(w, "no changes")
		return
	}
	for _, s := range p.Steps {
		for _, l := range s.Lines {
			fmt.Fprintln(w, l)
		}
	}
	c, u, d := p.Count()
	fmt.Fprintf(w, "plan: %d to create, %d to change, %d to delete\n", c, u, d)
}

// Diff plans how to bring current to the file.
func Diff(want *File, current []Current, o Options) Plan {
	byName := map[string]*Current{}
	for i := range current {
		byName[strings.ToLower(current[i].Name)] = &current[i]
	}
	var p Plan
	named := map[string]bool{}
	for i := range want.Tenants {
		t := &want.Tenants[i]
		named[strings.ToLower(t.Name)] = true
		if cur, ok := byName[strings.ToLower(t.Name)]; ok {
			if s, changed := diffTenant(t, cur, o); changed {
				p.Steps = append(p.Steps, s)
			}
			continue
		}
		p.Steps = append(p.Steps, createStep(t))
	}
	if o.Prune {
		var gone []*Current
		for _, c := range current {
			if !named[strings.ToLower(c.Name)] {
				gone = append(gone, byName[strings.ToLower(c.Name)])
			}
		}
		slices.SortFunc(gone, func(a, b *Current) int { return strings.Compare(a.Name, b.Name) })
		for _, c := range gone {
			p.Steps = append(p.Steps, Step{Action: Delete, Name: c.Name, ID: c.ID,
				Lines: []string{fmt.Sprintf("- tenant %s (%s, %s): delete (not in the file; --prune)", c.Name, c.ID, c.Status)}})
		}
	}
	return p
}

func createStep(t *Tenant) Step {
	s := Step{Action: Create, Name: t.Name, Want: t, PutCredentials: t.Credentials}
	add := func(format string, a ...any) { s.Lines = append(s.Lines, "    + "+fmt.Sprintf(format, a...)) }
	s.Lines = append(s.Lines, "+ tenant "+t.Name+": create")
	add("base_url: %s", quote(t.BaseURL))
	add("spec_url: %s", quote(specURL(t)))
	for _, l := range settingsDiff(tenant.Settings{}, t.Settings) {
		add("%s", l)
	}
	for _, c := range t.Credentials {
		add("credential %s: %s, value from %s", c.Name, credKind(c.Type, c.Header), c.ValueFrom)
	}
	if t.Active != nil && *t.Active {
		s.Activate = true
		add("status: active (activate)")
	}
	plus := func(_, format string, a ...any) { add(format, a...) }
	s.PutToolsets, _ = diffNamed("toolset", t.Toolsets, nil, func(x Toolset) string { return x.Name }, Options{}, plus)
	s.PutPrompts, _ = diffNamed("prompt", t.Prompts, nil, func(x Prompt) string { return x.Name }, Options{}, plus)
	return s
}

// diffNamed plans the toolsets or prompts (kind) of one tenant: those the
// file lists and the Portico lacks are created, those that differ are
// replaced, and (with Prune) those the file does not list are deleted.
// line is told one line per change, field by field.
func diffNamed[T any](kind string, want, have []T, name func(T) string, o Options, line func(sign, format string, a ...any)) (puts []Put[T], dels []string) {
	cur := map[string]T{}
	for _, h := range have {
		cur[name(h)] = h
	}
	listed := map[string]bool{}
	for _, w := range want {
		n := name(w)
		listed[n] = true
		h, ok := cur[n]
		if !ok {
			line("+", "%s %s: create %s", kind, n, compact(w))
			puts = append(puts, Put[T]{Value: w, Create: true})
			continue
		}
		fw, fh := fields(w), fields(h)
		keys := slices.Sorted(maps.Keys(fw))
		for k := range fh {
			if _, ok := fw[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		changed := false
		for _, k := range slices.Compact(keys) {
			if !bytes.Equal(fw[k], fh[k]) {
				line("~", "%s %s: %s: %s → %s", kind, n, k, shown(fh[k]), shown(fw[k]))
				changed = true
			}
		}
		if changed {
			puts = append(puts, Put[T]{Value: w})
		}
	}
	if o.Prune {
		for _, h := range have {
			if n := name(h); !listed[n] {
				line("-", "%s %s: delete (not in the file; --prune)", kind, n)
				dels = append(dels, n)
			}
		}
	}
	return puts, dels
}

// compact is v as one line of JSON.
func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func diffTenant(t *Tenant, cur *Current, o Options) (Step, bool) {
	s := Step{Action: Change, Name: cur.Name, ID: cur.ID, Want: t}
	line := func(sign, format string, a ...any) {
		s.Lines = append(s.Lines, "    "+sign+" "+fmt.Sprintf(format, a...))
	}
	if t.Name != cur.Name {
		s.NewName = &t.Name
		line("~", "name: %s → %s", quote(cur.Name), quote(t.Name))
	}
	if t.BaseURL != cur.BaseURL {
		s.BaseURL = &t.BaseURL
		line("~", "base_url: %s → %s", quote(cur.BaseURL), quote(t.BaseURL))
	}
	if su := specURL(t); su != cur.SpecURL {
		s.SpecURL = &su
		line("~", "spec_url: %s → %s", quote(cur.SpecURL), quote(su))
	}
	if ls := settingsDiff(cur.Settings, t.Settings); len(ls) > 0 {
		s.Settings = &t.Settings
		for _, l := range ls {
			line("~", "%s", l)
		}
	}
	have := map[string]tenant.Credential{}
	for _, c := range cur.Credentials {
		have[c.Name] = c
	}
	listed := map[string]bool{}
	for _, c := range t.Credentials {
		listed[c.Name] = true
		h, ok := have[c.Name]
		switch {
		case !ok:
			line("+", "credential %s: %s, value from %s", c.Name, credKind(c.Type, c.Header), c.ValueFrom)
		case h.Type != c.Type || h.Header != c.Header:
			line("~", "credential %s: %s → %s, value from %s", c.Name, credKind(h.Type, h.Header), credKind(c.Type, c.Header), c.ValueFrom)
		case compact(h.OAuth2Config) != compact(c.OAuth2()):
			line("~", "credential %s: %s → %s, value from %s", c.Name, compact(h.OAuth2Config), compact(c.OAuth2()), c.ValueFrom)
		case o.PutCredentials:
			line("~", "credential %s: set again, value from %s (--put-credentials)", c.Name, c.ValueFrom)
		default:
			continue
		}
		s.PutCredentials = append(s.PutCredentials, c)
	}
	if o.Prune {
		for _, c := range cur.Credentials {
			if !listed[c.Name] {
				s.DeleteCredentials = append(s.DeleteCredentials, c.Name)
				line("-", "credential %s: delete (not in the file; --prune)", c.Name)
			}
		}
	}
	haveSets := make([]Toolset, len(cur.Toolsets))
	for i, ts := range cur.Toolsets {
		haveSets[i] = fileToolset(ts)
	}
	s.PutToolsets, s.DeleteToolsets = diffNamed("toolset", t.Toolsets, haveSets, func(x Toolset) string { return x.Name }, o, line)
	havePrompts := make([]Prompt, len(cur.Prompts))
	for i, p := range cur.Prompts {
		havePrompts[i] = filePrompt(p)
	}
	s.PutPrompts, s.DeletePrompts = diffNamed("prompt", t.Prompts, havePrompts, func(x Prompt) string { return x.Name }, o, line)
	if t.Active != nil {
		switch {
		case *t.Active && cur.Status != tenant.StatusActive && cur.Status != tenant.StatusSuspended:
			s.Activate = true
			line("~", "status: %s → active (activate)", cur.Status)
		case !*t.Active && cur.Status == tenant.StatusActive:
			s.Deactivate = true
			line("~", "status: active → inactive (deactivate)")
		}
	}
	if len(s.Lines) == 0 {
		return s, false
	}
	s.Lines = append([]string{"~ tenant " + cur.Name + " (" + cur.ID + "): change"}, s.Lines...)
	return s, true
}

func specURL(t *Tenant) string {
	if t.SpecURL != "" {
		return t.SpecURL
	}
	return tenant.DefaultSpecURL(t.BaseURL)
}

func credKind(typ tenant.CredentialType, header string) string {
	if header == "" {
		return string(typ)
	}
	return string(typ) + " " + header
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// settingsDiff describes, field by field, how settings go from a to b. A
// field that is an object (names, uris, timeouts_ms) is compared key by
// key; any other field as a whole. Unset fields read "(unset)".
func settingsDiff(a, b tenant.Settings) []string {
	fa, fb := fields(a), fields(b)
	keys := slices.Sorted(maps.Keys(fa))
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		va, vb := fa[k], fb[k]
		if bytes.Equal(va, vb) {
			continue
		}
		ma, oka := object(va)
		mb, okb := object(vb)
		if (oka || va == nil) && (okb || vb == nil) {
			sub := slices.Sorted(maps.Keys(ma))
			for s := range mb {
				if _, ok := ma[s]; !ok {
					sub = append(sub, s)
				}
			}
			slices.Sort(sub)
			for _, s := range sub {
				if !bytes.Equal(ma[s], mb[s]) {
					lines = append(lines, fmt.Sprintf("settings.%s[%s]: %s → %s", k, quote(s), shown(ma[s]), shown(mb[s])))
				}
			}
			continue
		}
		lines = append(lines, fmt.Sprintf("settings.%s: %s → %s", k, shown(va), shown(vb)))
	}
	return lines
}

// fields is v (settings, a toolset, a prompt) as JSON, one entry per
// field that is set.
func fields(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	m := map[string]json.RawMessage{}
	json.Unmarshal(b, &m)
	return m
}

func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	m := map[string]json.RawMessage{}
	return m, json.Unmarshal(raw, &m) == nil
}

func shown(raw json.RawMessage) string {
	if raw == nil {
		return "(unset)"
	}
	return string(raw)
}
