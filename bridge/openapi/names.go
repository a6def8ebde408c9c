package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/portico-mcp/portico/tenant"
)

// MaxNameLen is the longest tool name Portico emits; many MCP clients cap
// tool names at 64 characters.
const MaxNameLen = 64

// sanitizeName makes s safe for MCP clients: runs of characters outside
// [A-Za-z0-9_-] become one underscore, and leading or trailing underscores go.
func sanitizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	under := false
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-'
		if ok {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.Trim(b.String(), "_")
}

// shortHash is 8 hex digits of sha256(s): stable across runs and machines.
func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// cutName shortens name to at most n characters, replacing the tail with a
// hash of the whole name so distinct long names stay distinct.
func cutName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	h := shortHash(name)
	keep := n - len(h) - 1
	return strings.TrimRight(name[:keep], "_-") + "_" + h
}

// assignNames gives every operation a safe, unique name of at most
// MaxNameLen characters. Overrides from Options.Names are placed first so
// generated names yield to them; clashes get _2, _3, ... in document order.
func (c *converter) assignNames() {
	taken := make(map[string]bool, len(c.ops))
	unique := func(name string) string {
		if !taken[name] {
			taken[name] = true
			return name
		}
		for i := 2; ; i++ {
			suffix := "_" + strconv.Itoa(i)
			cand := name
			if len(cand)+len(suffix) > MaxNameLen {
				cand = strings.TrimRight(cand[:MaxNameLen-len(suffix)], "_-")
			}
			cand += suffix
			if !taken[cand] {
				taken[cand] = true
				return cand
			}
		}
	}
	for _, p := range c.ops {
		if p.override == "" {
			continue
		}
		name := cutName(sanitizeName(p.override), MaxNameLen)
		if name == "" {
			c.warnf("%s %s: name override %q has no usable characters; using the generated name", p.op.Method, p.op.Path, p.override)
			p.override = ""
			continue
		}
		if name != p.override {
			c.warnf("%s %s: name override %q became %q", p.op.Method, p.op.Path, p.override, name)
		}
		got := unique(name)
		if got != name {
			c.warnf("%s %s: name override %q is used twice; this one is %q", p.op.Method, p.op.Path, name, got)
			c.out.Report.NamesSuffixed = append(c.out.Report.NamesSuffixed, tenant.NameChange{Operation: p.op.Method + " " + p.op.Path, From: name, To: got})
		}
		p.op.Name = got
	}
	for _, p := range c.ops {
		if p.override != "" {
			c.finishKind(p.op)
			continue
		}
		name := sanitizeName(p.base)
		if name == "" {
			name = sanitizeName(strings.ToLower(p.op.Method) + "_" + p.op.Path)
		}
		if name == "" {
			name = "operation"
		}
		if cut := cutName(name, MaxNameLen); cut != name {
			c.warnf("%s %s: name %q is longer than %d characters; cut to %q", p.op.Method, p.op.Path, name, MaxNameLen, cut)
			c.out.Report.NamesCut = append(c.out.Report.NamesCut, tenant.NameChange{Operation: p.op.Method + " " + p.op.Path, From: name, To: cut})
			name = cut
		}
		p.op.Name = unique(name)
		if p.op.Name != name {
			c.out.Report.NamesSuffixed = append(c.out.Report.NamesSuffixed, tenant.NameChange{Operation: p.op.Method + " " + p.op.Path, From: name, To: p.op.Name})
		}
		c.finishKind(p.op)
	}
}
