package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/portico-mcp/portico/client"
	"github.com/portico-mcp/portico/manifest"
	"github.com/portico-mcp/portico/tenant"
)

// cmdApply is `portico apply -f portico.yaml`: it reads the Portico's state
// through the REST API, prints the plan that brings it to the file, and
// (unless --dry-run) carries it out. Credential values are read only for the
// credentials the plan writes, and only after the plan is printed.
func cmdApply(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, false)
	file := fs.String("f", "", "the file to apply (portico.yaml; - reads standard input)")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing (reads no credential value)")
	prune := fs.Bool("prune", false, "also delete tenants the file does not name, and credentials of its tenants it does not list")
	putCreds := fs.Bool("put-credentials", false, "write every credential again, even when name, type and header match (values are write-only, so this is how a rotated secret reaches Portico)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *file == "" || len(pos) != 0 {
		return errors.New("usage: portico apply -f portico.yaml [--dry-run] [--prune] [--put-credentials] [--api URL]")
	}
	var want *manifest.File
	dir := "."
	if *file == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		if want, err = manifest.Parse(b); err != nil {
			return fmt.Errorf("standard input: %w", err)
		}
	} else {
		if want, err = manifest.Load(*file); err != nil {
			return err
		}
		dir = filepath.Dir(*file)
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	current, err := readState(ctx, c)
	if err != nil {
		return err
	}
	plan := manifest.Diff(want, current, manifest.Options{Prune: *prune, PutCredentials: *putCreds})
	plan.Write(stdout)
	if plan.Empty() || *dryRun {
		if *dryRun && !plan.Empty() {
			fmt.Fprintln(stdout, "dry run: nothing changed")
		}
		return nil
	}
	// Every value is read before the first change, so a missing variable
	// stops the apply with nothing half done.
	values := map[*manifest.Credential]string{}
	for i := range plan.Steps {
		for j := range plan.Steps[i].PutCredentials {
			cr := &plan.Steps[i].PutCredentials[j]
			v, err := cr.Resolve(getenv, dir)
			if err != nil {
				return fmt.Errorf("tenant %s: %w (nothing was changed)", plan.Steps[i].Name, err)
			}
			values[cr] = v
		}
	}
	for _, s := range plan.Steps {
		if err := applyStep(ctx, c, s, values); err != nil {
			return fmt.Errorf("tenant %s: %w (the steps printed before it are applied; run apply again to finish)", s.Name, err)
		}
	}
	fmt.Fprintln(stdout, "applied")
	return nil
}

func applyStep(ctx context.Context, c *client.Client, s manifest.Step, values map[*manifest.Credential]string) error {
	id := s.ID
	switch s.Action {
	case manifest.Delete:
		return c.DeleteTenant(ctx, id)
	case manifest.Create:
		in := client.TenantCreate{Name: s.Want.Name, BaseURL: s.Want.BaseURL, SpecURL: s.Want.SpecURL}
		if fieldsSet(s.Want.Settings) {
			in.Settings = &s.Want.Settings
		}
		t, err := c.CreateTenant(ctx, in)
		if err != nil {
			return err
		}
		id = t.ID
	case manifest.Change:
		if s.NewName != nil || s.BaseURL != nil || s.SpecURL != nil || s.Settings != nil {
			if _, err := c.UpdateTenant(ctx, id, client.TenantPatch{Name: s.NewName, BaseURL: s.BaseURL, SpecURL: s.SpecURL, Settings: s.Settings}); err != nil {
				return err
			}
		}
	}
	for i := range s.PutCredentials {
		cr := &s.PutCredentials[i]
		if err := c.PutCredential(ctx, id, tenant.Credential{Name: cr.Name, Type: cr.Type, Header: cr.Header, OAuth2Config: cr.OAuth2()}, values[cr]); err != nil {
			return fmt.Errorf("credential %s: %w", cr.Name, err)
		}
	}
	for _, name := range s.DeleteCredentials {
		if err := c.DeleteCredential(ctx, id, name); err != nil {
			return fmt.Errorf("credential %s: %w", name, err)
		}
	}
	switch {
	case s.Activate:
		t, err := c.Activate(ctx, id)
		if err != nil {
			return fmt.Errorf("activate: %w", err)
		}
		if t.Status != tenant.StatusActive {
			return fmt.Errorf("activate: the tenant is %s: %s", t.Status, t.StatusReason)
		}
	case s.Deactivate:
		if _, err := c.Deactivate(ctx, id); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
	}
	// Toolsets before the prompts that name them; deleted prompts before
	// deleted toolsets.
	for _, p := range s.DeletePrompts {
		if err := c.DeletePrompt(ctx, id, p); err != nil {
			return fmt.Errorf("prompt %s: %w", p, err)
		}
	}
	for _, p := range s.PutToolsets {
		if err := c.PutToolset(ctx, id, p.Value.Toolset(), p.Create); err != nil {
			return fmt.Errorf("toolset %s: %w", p.Value.Name, err)
		}
	}
	for _, p := range s.PutPrompts {
		if err := c.PutPrompt(ctx, id, p.Value.Prompt(), p.Create); err != nil {
			return fmt.Errorf("prompt %s: %w", p.Value.Name, err)
		}
	}
	for _, name := range s.DeleteToolsets {
		if err := c.DeleteToolset(ctx, id, name); err != nil {
			return fmt.Errorf("toolset %s: %w", name, err)
		}
	}
	return nil
}

// fieldsSet reports whether s sets anything.
func fieldsSet(s tenant.Settings) bool {
	return !reflect.ValueOf(s).IsZero()
}

// readState is every tenant the key can see, with its credentials'
// names, types and headers, in the API's order.
func readState(ctx context.Context, c *client.Client) ([]manifest.Current, error) {
	ts, err := c.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]manifest.Current, 0, len(ts))
	for _, t := range ts {
		creds, err := c.Credentials(ctx, t.ID)
		if err != nil {
			return nil, fmt.Errorf("credentials of tenant %s: %w", t.Name, err)
		}
		toolsets, err := c.Toolsets(ctx, t.ID)
		if err != nil {
			return nil, fmt.Errorf("toolsets of tenant %s: %w", t.Name, err)
		}
		prompts, err := c.Prompts(ctx, t.ID)
		if err != nil {
			return nil, fmt.Errorf("prompts of tenant %s: %w", t.Name, err)
		}
		out = append(out, manifest.Current{ID: t.ID, Name: t.Name, BaseURL: t.BaseURL, SpecURL: t.SpecURL,
			Status: t.Status, Settings: t.Settings, Credentials: creds, Toolsets: toolsets, Prompts: prompts})
	}
	return out, nil
}

// cmdExport is `portico export`: the Portico's tenants as a file apply
// takes, credentials as env: references (PORTICO_CREDENTIAL_<TENANT>_<NAME>).
func cmdExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCLIFlags(fs, getenv, false)
	file := fs.String("f", "-", "where to write it (- is standard output)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("usage: portico export [-f portico.yaml] [--api URL]")
	}
	c, err := f.client(getenv)
	if err != nil {
		return err
	}
	current, err := readState(ctx, c)
	if err != nil {
		return err
	}
	b, err := manifest.Marshal(manifest.Export(current))
	if err != nil {
		return err
	}
	if *file == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(*file, b, 0o644)
}
