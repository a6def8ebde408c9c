package tenant

import (
	"errors"
	"strings"
	"time"
)

// SpecDiff is how one converted spec version differs from the one before it,
// as agents see it: tools (and resources) added, removed and changed.
type SpecDiff struct {
	Added   []ToolRef    `json:"added"`
	Removed []ToolRef    `json:"removed"`
	Changed []ToolChange `json:"changed"`
}

// Empty reports whether the diff holds no change.
func (d SpecDiff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Summary counts the diff's entries.
func (d SpecDiff) Summary() DiffSummary {
	return DiffSummary{Added: len(d.Added), Removed: len(d.Removed), Changed: len(d.Changed)}
}

// NonNil returns d with empty lists instead of nil ones, so JSON shows [].
func (d SpecDiff) NonNil() SpecDiff {
	if d.Added == nil {
		d.Added = []ToolRef{}
	}
	if d.Removed == nil {
		d.Removed = []ToolRef{}
	}
	if d.Changed == nil {
		d.Changed = []ToolChange{}
	}
	return d
}

// ToolRef names one tool, resource or resource template.
type ToolRef struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Method string `json:"method"`
	Path   string `json:"path"`
	URI    string `json:"uri,omitempty"`
}

// ToolChange is a tool present in both versions whose MCP shape or upstream
// route changed. Fields lists what changed: input_schema, output_schema,
// description, method, path, kind, request (how arguments map to the request).
type ToolChange struct {
	ToolRef
	Fields []string `json:"fields"`
}

// DiffSummary counts a diff's entries, for version lists.
type DiffSummary struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
}

// SpecStatus is the spec cache state of one tenant: which version is newest,
// pinned and served, and how the last refresh went.
type SpecStatus struct {
	TenantID       string `json:"tenant_id"`
	NewestVersion  int    `json:"newest_version"`         // 0 when none is stored
	PinnedVersion  *int   `json:"pinned_version"`         // null when following the newest
	ServingVersion int    `json:"serving_version"`        // pinned, else newest
	LiveVersion    int    `json:"live_version,omitempty"` // what this replica serves now (filled by the runtime)
	RefreshEveryS  int    `json:"refresh_interval_s"`     // effective interval (filled by the runtime)
	HookEnabled    bool   `json:"hook_enabled"`           // a webhook secret is set
	LastRefreshErr string `json:"last_refresh_error"`     // "" when the last refresh worked
	// LastRefreshAt is when the last refresh attempt finished, good or bad.
	LastRefreshAt *time.Time `json:"last_refresh_at"`
	// LastRefreshErrAt is when the last failed refresh happened; it stays set
	// after a later success so an operator can see the last outage.
	LastRefreshErrAt *time.Time `json:"last_refresh_error_at"`
	Status           Status     `json:"status"`
	Generation       int64      `json:"-"`
}

// RefreshResult is what one spec refresh did.
type RefreshResult struct {
	Version int      `json:"version"` // the newest version after the refresh
	Changed bool     `json:"changed"` // a new version was stored
	Diff    SpecDiff `json:"diff"`    // against the previous newest version
}

// Change is one notification that a tenant's stored state changed, sent by
// the database in the transaction that made the change.
type Change struct {
	TenantID string
	Kind     string // tenant | credentials | token | deleted
	Ref      string // the tenant's new generation, or the token id for Kind token
}

// TenantGeneration is a tenant's status and change counter, for resyncs.
type TenantGeneration struct {
	ID         string
	Status     Status
	Generation int64
}

// HookSecretPrefix marks spec webhook secrets for secret scanners.
const HookSecretPrefix = "whsec_"

// ErrLocked is returned by WithRefreshLock when another replica holds the
// tenant's refresh lock and wait is false.
var ErrLocked = errors.New("another replica is refreshing this tenant")

// parseChange reads "<tenant id>:<kind>:<ref>".
func ParseChange(payload string) (Change, bool) {
	id, rest, ok := strings.Cut(payload, ":")
	if !ok || id == "" {
		return Change{}, false
	}
	kind, ref, _ := strings.Cut(rest, ":")
	return Change{TenantID: id, Kind: kind, Ref: ref}, true
}
