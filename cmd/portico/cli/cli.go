package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/client"
	"github.com/portico-mcp/portico/tenant"
)

// The commands in this file are clients of Portico's public REST API (and,
// for `call`, of a tenant's MCP endpoint), as any automation would be: they
// need nothing but a URL and an API key.

const defaultAPI = "http://127.0.0.1:8080"

// cliFlags are the flags every API command takes.
type cliFlags struct {
	api    *string
	output *string
}

func newCLIFlags(fs *flag.FlagSet, getenv func(string) string, output bool) cliFlags {
	f := cliFlags{api: fs.String("api", or(getenv("PORTICO_API_URL"), defaultAPI), "Portico's URL (PORTICO_API_URL)")}
	if output {
		f.output = fs.String("o", "table", "output: table or json")
	} else {
		f.output = new(string)
		*f.output = "table"
	}
	return f
}

// client checks the flags and returns the API client they name.
func (f cliFlags) client(getenv func(string) string) (*client.Client, error) {
	if *f.output != "table" && *f.output != "json" {
		return nil, fmt.Errorf("-o %q: must be table or json", *f.output)
	}
	key := getenv("PORTICO_API_KEY")
	if key == "" {
		return nil, errors.New("set PORTICO_API_KEY to an API key of the Portico at " + *f.api + " (`portico admin key create --name cli` prints an admin key; a tenant key works for its own tenant)")
	}
	return client.New(*f.api, key), nil
}

func (f cliFlags) json() bool { return *f.output == "json" }

// parseInterspersed parses flags wherever they stand among the positional
// arguments (`portico tools list shop --search pet`), and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// oneLine is the first line of s, cut to n characters.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// cmdTenants is `portico tenants list|get|activate|deactivate|delete`.
func cmdTenants(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico tenants list | get TENANT | activate TENANT | deactivate TENANT | delete TENANT  [--api URL] [-o table|json]\n(TENANT is an id or a name; the API key is read from PORTICO_API_KEY)"
	if len(args) == 0 {
		return errors.New(usage)
	}
	sub := args[0]
	if !slices.Contains([]string{"list", "get", "activate", "deactivate", "delete"}, sub) {
		return fmt.Errorf("unknown command tenants %s\n%s", sub, usage)
	}
	fs := flag.NewFlagSet("tenants "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(pos) != 0, sub != "list" && len(pos) != 1:
		return errors.New(usage)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	if sub == "list" {
		ts, err := c.Tenants(ctx)
		if err != nil {
			return err
		}
		if f.json() {
			return writeJSON(stdout, map[string]any{"tenants": ts})
		}
		rows := [][]string{}
		for _, t := range ts {
			status := string(t.Status)
			if t.StatusReason != "" {
				status += ": " + oneLine(t.StatusReason, 60)
			}
			rows = append(rows, []string{t.ID, t.Name, status, t.BaseURL, t.MCPURL})
		}
		return table(stdout, []string{"ID", "NAME", "STATUS", "BASE URL", "MCP URL"}, rows)
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "get":
	case "activate":
		if t, err = c.Activate(ctx, t.ID); err != nil {
			return err
		}
	case "deactivate":
		if t, err = c.Deactivate(ctx, t.ID); err != nil {
			return err
		}
	case "delete":
		if err := c.DeleteTenant(ctx, t.ID); err != nil {
			return err
		}
		if f.json() {
			return writeJSON(stdout, map[string]any{"deleted": t.ID})
		}
		fmt.Fprintf(stdout, "deleted tenant %s (%s)\n", t.Name, t.ID)
		return nil
	}
	if f.json() {
		return writeJSON(stdout, t)
	}
	settings, _ := json.Marshal(t.Settings)
	return table(stdout, []string{"FIELD", "VALUE"}, [][]string{
		{"id", t.ID}, {"name", t.Name}, {"status", string(t.Status)}, {"status_reason", or(t.StatusReason, "-")},
		{"base_url", t.BaseURL}, {"spec_url", t.SpecURL}, {"spec_version", fmt.Sprint(t.SpecVersion)},
		{"mcp_url", t.MCPURL}, {"settings", string(settings)},
		{"created_at", when(&t.CreatedAt)}, {"updated_at", when(&t.UpdatedAt)},
	})
}

// cmdTokens is `portico tokens create|list|revoke`.
func cmdTokens(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico tokens create TENANT --name N [--expires 720h|2027-01-02T15:04:05Z] [--toolset NAME]... | list TENANT | revoke TENANT TOKEN_ID  [--api URL] [-o table|json]"
	if len(args) == 0 {
		return errors.New(usage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("tokens "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	name := fs.String("name", "", "the token's name (create)")
	expires := fs.String("expires", "", "when it expires: a duration from now (720h) or an RFC 3339 time; default never (create)")
	var toolsets stringList
	fs.Var(&toolsets, "toolset", "restrict the token to this toolset's URL; repeat for several (create)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"create": 1, "list": 1, "revoke": 2}[sub]
	if want == 0 || len(pos) != want {
		return errors.New(usage)
	}
	var exp *time.Time
	if *expires != "" {
		if d, err := time.ParseDuration(*expires); err == nil {
			t := time.Now().Add(d)
			exp = &t
		} else if t, err := time.Parse(time.RFC3339, *expires); err == nil {
			exp = &t
		} else {
			return fmt.Errorf("--expires %q: must be a duration such as 720h or an RFC 3339 time such as 2027-01-02T15:04:05Z", *expires)
		}
	}
	if sub == "create" && *name == "" {
		return errors.New("tokens create: --name is required (it says in the token list what the token is for)")
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		tok, err := c.CreateTokenFor(ctx, t.ID, *name, exp, toolsets)
		if err != nil {
			return err
		}
		url := t.MCPURL
		if len(toolsets) > 0 {
			url += "/" + toolsets[0]
		}
		if f.json() {
			return writeJSON(stdout, map[string]any{"token": tok.Token, "secret": tok.Secret, "mcp_url": url})
		}
		if len(toolsets) > 0 {
			fmt.Fprintf(stderr, "created MCP token %s (%s) for tenant %s, restricted to toolset(s) %s (%s); the secret is shown only now:\n", tok.Token.Name, tok.Token.ID, t.Name, strings.Join(toolsets, ", "), url)
		} else {
			fmt.Fprintf(stderr, "created MCP token %s (%s) for tenant %s; the secret is shown only now:\n", tok.Token.Name, tok.Token.ID, t.Name)
		}
		fmt.Fprintln(stdout, tok.Secret)
		return nil
	case "list":
		toks, err := c.Tokens(ctx, t.ID)
		if err != nil {
			return err
		}
		if f.json() {
			return writeJSON(stdout, map[string]any{"tokens": toks})
		}
		rows := [][]string{}
		for _, k := range toks {
			rows = append(rows, []string{k.ID, k.Name, k.Prefix + "…", when(&k.CreatedAt), when(k.ExpiresAt), when(k.LastUsedAt), or(strings.Join(k.Toolsets, ","), "all")})
		}
		return table(stdout, []string{"ID", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "TOOLSETS"}, rows)
	default:
		if err := c.RevokeToken(ctx, t.ID, pos[1]); err != nil {
			return err
		}
		if f.json() {
			return writeJSON(stdout, map[string]any{"revoked": pos[1]})
		}
		fmt.Fprintf(stdout, "revoked token %s of tenant %s\n", pos[1], t.Name)
		return nil
	}
}

// cmdToolsets is `portico toolsets list TENANT`: each toolset with its
// MCP URL, what it selects and how many tools it serves.
func cmdToolsets(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico toolsets list TENANT [--api URL] [-o table|json] (create and change them with portico apply or the REST API)"
	if len(args) == 0 || args[0] != "list" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("toolsets list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(usage)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	var out struct {
		Toolsets []struct {
			tenant.Toolset
			MCPURL string   `json:"mcp_url"`
			Serves []string `json:"serves,omitempty"`
		} `json:"toolsets"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/tenants/"+t.ID+"/toolsets", nil, &out); err != nil {
		return err
	}
	if f.json() {
		return writeJSON(stdout, out)
	}
	rows := [][]string{}
	for _, ts := range out.Toolsets {
		sel := []string{}
		if len(ts.Tools) > 0 {
			sel = append(sel, fmt.Sprintf("%d tools", len(ts.Tools)))
		}
		if len(ts.Tags) > 0 {
			sel = append(sel, "tags "+strings.Join(ts.Tags, ","))
		}
		if ts.ReadOnly {
			sel = append(sel, "read-only")
		}
		serves := "-"
		if ts.Serves != nil {
			serves = fmt.Sprint(len(ts.Serves))
		}
		rows = append(rows, []string{ts.Name, or(strings.Join(sel, ", "), "every tool"), serves, ts.MCPURL})
	}
	return table(stdout, []string{"NAME", "SELECTS", "SERVES", "MCP URL"}, rows)
}

// cmdTools is `portico tools list TENANT [--search Q]`.
func cmdTools(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico tools list TENANT [--search WORDS] [--api URL] [-o table|json]"
	if len(args) == 0 || args[0] != "list" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("tools list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	search := fs.String("search", "", "only tools whose name, description, method or path hold every word (any case)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(usage)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	tools, err := c.Tools(ctx, t.ID)
	if err != nil {
		return err
	}
	words := strings.Fields(strings.ToLower(*search))
	kept := []tenant.Tool{}
	for _, tl := range tools {
		hay := strings.ToLower(strings.Join([]string{tl.Name, tl.Description, tl.Method, tl.Path, tl.URI}, " "))
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(hay, w) }) {
			kept = append(kept, tl)
		}
	}
	if f.json() {
		return writeJSON(stdout, map[string]any{"tools": kept})
	}
	rows := [][]string{}
	for _, tl := range kept {
		rows = append(rows, []string{tl.Name, tl.Kind, strings.TrimSpace(tl.Method + " " + tl.Path), oneLine(tl.Description, 70)})
	}
	if err := table(stdout, []string{"NAME", "KIND", "OPERATION", "DESCRIPTION"}, rows); err != nil {
		return err
	}
	if *search != "" {
		fmt.Fprintf(stderr, "%d of %d tools match %q\n", len(kept), len(tools), *search)
	}
	return nil
}

// argFlags collects --arg NAME=VALUE and --arg NAME:=JSON. A VALUE is
// typed by the tool's input schema (id=7 is the integer 7 when id is an
// integer, the string "7" when it is a string); JSON is taken as written.
type argFlags struct {
	values map[string]any
	plain  map[string]bool // given as NAME=VALUE, still a string
}

func (a *argFlags) String() string { return "" }

func (a *argFlags) Set(s string) error {
	if k, v, ok := strings.Cut(s, ":="); ok && k != "" && !strings.Contains(k, "=") {
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return fmt.Errorf("%s: the value after := must be JSON (e.g. limit:=10, tags:='[\"a\"]'): %v", s, err)
		}
		a.values[k] = x
		delete(a.plain, k)
		return nil
	}
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: write NAME=VALUE (typed as the tool's schema says) or NAME:=JSON (a number, boolean, list or object)", s)
	}
	a.values[k] = v
	a.plain[k] = true
	return nil
}

// typed converts the NAME=VALUE arguments whose property the input schema
// types as integer, number or boolean; a value that does not parse stays a
// string, for the tool's own validation to name.
func (a *argFlags) typed(inputSchema json.RawMessage) {
	var sch struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if json.Unmarshal(inputSchema, &sch) != nil {
		return
	}
	for k := range a.plain {
		var types []string
		switch t := sch.Properties[k].Type.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, e := range t {
				if s, ok := e.(string); ok {
					types = append(types, s)
				}
			}
		}
		if slices.Contains(types, "string") {
			continue
		}
		v := a.values[k].(string)
		for _, typ := range types {
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				continue
			}
			switch x.(type) {
			case float64:
				if typ == "number" || typ == "integer" {
					a.values[k] = json.Number(v)
				}
			case bool:
				if typ == "boolean" {
					a.values[k] = x
				}
			}
		}
	}
}

// cmdCall calls one tool through the tenant's real MCP endpoint, as an
// agent would. Without --token (or PORTICO_MCP_TOKEN) it mints an MCP token
// valid for ten minutes and revokes it afterwards.
func cmdCall(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico call TENANT TOOL [--arg NAME=VALUE]... [--arg NAME:=JSON]... [--token MCP_TOKEN] [--api URL] [-o table|json]"
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	callArgs := &argFlags{values: map[string]any{}, plain: map[string]bool{}}
	fs.Var(callArgs, "arg", "a tool argument: NAME=VALUE (typed by the tool's schema) or NAME:=JSON (repeat)")
	token := fs.String("token", getenv("PORTICO_MCP_TOKEN"), "MCP token of the tenant (PORTICO_MCP_TOKEN); default: a ten-minute token minted with the API key and revoked after the call")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New(usage)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	// The REST tool list has the input schema, to type NAME=VALUE; a
	// meta-tool of discovery mode is not in it and keeps strings.
	tools, toolsErr := c.Tools(ctx, t.ID)
	known := false
	for _, tl := range tools {
		if tl.Name == pos[1] {
			known = true
			callArgs.typed(tl.InputSchema)
		}
	}
	secret := *token
	if secret == "" {
		exp := time.Now().Add(10 * time.Minute)
		tok, err := c.CreateToken(ctx, t.ID, "portico call", &exp)
		if err != nil {
			return err
		}
		secret = tok.Secret
		defer func() {
			if err := c.RevokeToken(context.WithoutCancel(ctx), t.ID, tok.Token.ID); err != nil {
				fmt.Fprintf(stderr, "portico call: revoke the token it minted (%s): %v\n", tok.Token.ID, err)
			}
		}()
	}
	mc := mcp.NewClient(&mcp.Implementation{Name: "portico-cli", Version: version}, nil)
	cs, err := mc.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   t.MCPURL,
		HTTPClient: &http.Client{Transport: mcpBearer{secret}, Timeout: 5 * time.Minute},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.MCPURL, err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: pos[1], Arguments: callArgs.values})
	if err != nil {
		if toolsErr == nil && !known {
			return fmt.Errorf("tenant %s serves no tool %s (`portico tools list %s` lists its tools): %w", t.Name, pos[1], t.Name, err)
		}
		return fmt.Errorf("call %s at %s: %w", pos[1], t.MCPURL, err)
	}
	if f.json() {
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else {
		for _, ct := range res.Content {
			switch ct := ct.(type) {
			case *mcp.TextContent:
				fmt.Fprintln(stdout, ct.Text)
			case *mcp.ImageContent:
				fmt.Fprintf(stdout, "(image, %s, %d bytes)\n", ct.MIMEType, len(ct.Data))
			case *mcp.AudioContent:
				fmt.Fprintf(stdout, "(audio, %s, %d bytes)\n", ct.MIMEType, len(ct.Data))
			default:
				b, _ := json.Marshal(ct)
				fmt.Fprintln(stdout, string(b))
			}
		}
	}
	if res.IsError {
		return fmt.Errorf("tool %s returned an error", pos[1])
	}
	return nil
}

type mcpBearer struct{ token string }

func (b mcpBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// cmdLogs prints a tenant's recent tool calls, oldest first; --follow keeps
// asking for newer ones until interrupted.
func cmdLogs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: portico logs TENANT [--follow] [--limit N] [--interval 2s] [--api URL] [-o table|json]"
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, true)
	follow := fs.Bool("follow", false, "keep printing new calls until interrupted")
	fs.BoolVar(follow, "f", false, "short for --follow")
	limit := fs.Int("limit", 50, "how many recent calls to print first (at most 1000)")
	interval := fs.Duration("interval", 2*time.Second, "how often --follow asks for new calls")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(usage)
	}
	if *interval < 100*time.Millisecond {
		return fmt.Errorf("--interval %s: must be at least 100ms", *interval)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	t, err := c.Find(ctx, pos[0])
	if err != nil {
		return err
	}
	var tw *tabwriter.Writer
	if !f.json() {
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tTOOL\tSTATUS\tLATENCY\tUPSTREAM\tERROR")
	}
	seen := map[string]time.Time{} // calls printed, until they are older than since
	var since time.Time
	show := func(calls []tenant.CallRecord) error {
		slices.Reverse(calls) // the API answers newest first
		for _, cl := range calls {
			key := fmt.Sprintf("%s|%s|%s|%v", cl.At.UTC().Format(time.RFC3339Nano), cl.Tool, cl.Status, cl.LatencyMS)
			if _, ok := seen[key]; ok {
				continue
			}
			seen[key] = cl.At
			if cl.At.After(since) {
				since = cl.At
			}
			if f.json() {
				b, _ := json.Marshal(cl)
				fmt.Fprintln(stdout, string(b))
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fms\t%.1fms\t%s\n", cl.At.UTC().Format(time.RFC3339), cl.Tool, cl.Status, cl.LatencyMS, cl.UpstreamMS, oneLine(cl.Error, 80))
		}
		for k, at := range seen {
			if at.Before(since.Add(-2 * time.Second)) {
				delete(seen, k)
			}
		}
		if tw != nil {
			return tw.Flush()
		}
		return nil
	}
	calls, err := c.Calls(ctx, t.ID, time.Time{}, *limit)
	if err != nil {
		return err
	}
	if err := show(calls); err != nil || !*follow {
		return err
	}
	fmt.Fprintf(stderr, "following calls of tenant %s (as the replica answering %s records them); interrupt to stop\n", t.Name, c.BaseURL)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
		// since is truncated to the second by the API's RFC 3339 query, so
		// calls of that second come again; seen drops them.
		calls, err := c.Calls(ctx, t.ID, since, 1000)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := show(calls); err != nil {
			return err
		}
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
