package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// Spec is the spec cache and live rebuild: versions with their diffs,
// refresh, pinning and the signed refresh webhook. cmd wires the bridge's
// runtime in.
type Spec interface {
	SpecStatus(ctx context.Context, id string) (tenant.SpecStatus, error)
	SpecReport(ctx context.Context, id string) (tenant.SpecReport, error)
	SpecVersions(ctx context.Context, id string) ([]tenant.SpecVersion, error)
	SpecVersion(ctx context.Context, id string, v int) (tenant.SpecVersion, error)
	Refresh(ctx context.Context, id, actor string) (tenant.RefreshResult, error)
	Pin(ctx context.Context, id string, v int, actor string) (tenant.SpecStatus, error)
	Unpin(ctx context.Context, id, actor string) (tenant.SpecStatus, error)
	RotateHookSecret(ctx context.Context, id, actor string) (string, error)
	DeleteHookSecret(ctx context.Context, id, actor string) error
	HookSecret(ctx context.Context, id string) (tenant.Secret, error)
}

func handleSpecStatus(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		st, err := sp.SpecStatus(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("spec status of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, st)
	}
}

// handleSpecReport answers the conformance report of the tenant's serving
// spec version.
func handleSpecReport(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		rep, err := sp.SpecReport(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("conformance report of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found or has no stored spec yet (activate it or refresh its spec)", id)
		}
		return c.JSON(http.StatusOK, rep)
	}
}

func handleSpecVersions(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		vs, err := sp.SpecVersions(ctx, id)
		if err != nil {
			return explain(fmt.Errorf("list spec versions of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		st, err := sp.SpecStatus(ctx, id)
		if err != nil {
			return explain(fmt.Errorf("spec status of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"versions": nonNil(vs), "status": st})
	}
}

func versionParam(c echo.Context) (int, error) {
	v, err := strconv.Atoi(c.Param("v"))
	if err != nil || v < 1 {
		return 0, &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "v", Problem: "must be a spec version number (1, 2, …)"}}}
	}
	return v, nil
}

func handleSpecVersion(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		v, err := versionParam(c)
		if err != nil {
			return err
		}
		sv, err := sp.SpecVersion(c.Request().Context(), id, v)
		if err != nil {
			return explain(fmt.Errorf("spec version %d of tenant %s: %w", v, id, err), tenant.ErrNotFound,
				"tenant %s has no spec version %d", id, v)
		}
		return c.JSON(http.StatusOK, sv)
	}
}

func handleSpecPin(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		v, err := versionParam(c)
		if err != nil {
			return err
		}
		st, err := sp.Pin(c.Request().Context(), id, v, actor(c))
		if err != nil {
			return explain(fmt.Errorf("pin spec version %d of tenant %s: %w", v, id, err), tenant.ErrNotFound,
				"tenant %s has no spec version %d", id, v)
		}
		return c.JSON(http.StatusOK, st)
	}
}

func handleSpecUnpin(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		st, err := sp.Unpin(c.Request().Context(), id, actor(c))
		if err != nil {
			return explain(fmt.Errorf("unpin spec of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, st)
	}
}

func handleSpecRefresh(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		return refresh(c, sp, c.Param("id"), actor(c))
	}
}

// refresh runs one refresh and answers {"version","changed","diff"}. A spec
// that could not be fetched or converted is not an activation failure: the
// tenant keeps serving, so the error says so.
func refresh(c echo.Context, sp Spec, id, who string) error {
	res, err := sp.Refresh(c.Request().Context(), id, who)
	var ae *tenant.ActivationError
	switch {
	case errors.As(err, &ae):
		status := http.StatusUnprocessableEntity
		if ae.Code == "spec_unreachable" {
			status = http.StatusBadGateway
		}
		return &apiError{Status: status, Code: ae.Code,
			Message: "the spec was not refreshed and the tenant keeps serving its last good version: " + ae.Reason,
			Details: map[string]any{"field": ae.Field, "reason": ae.Reason}}
	case errors.Is(err, tenant.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "tenant_not_active",
			Message: fmt.Sprintf("tenant %s is not active; only an active tenant's spec is refreshed: activate it first", id)}
	case err != nil:
		return explain(fmt.Errorf("refresh spec of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
	}
	res.Diff = res.Diff.NonNil()
	return c.JSON(http.StatusOK, res)
}

func handleHookSecretRotate(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		secret, err := sp.RotateHookSecret(c.Request().Context(), id, actor(c))
		if err != nil {
			return explain(fmt.Errorf("rotate webhook secret of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusCreated, map[string]any{
			"secret":           secret,
			"signature_header": hookSignatureHeader,
			"timestamp_header": hookTimestampHeader,
			"scheme":           `hex(HMAC-SHA256(secret, timestamp + "." + body)), sent as "sha256=<hex>"; timestamp in Unix seconds, within 5 minutes`,
		})
	}
}

func handleHookSecretDelete(sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if err := sp.DeleteHookSecret(c.Request().Context(), id, actor(c)); err != nil {
			return explain(fmt.Errorf("delete webhook secret of tenant %s: %w", id, err), tenant.ErrNotFound,
				"tenant %s was not found or has no webhook secret", id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// The spec webhook lets a deploy pipeline trigger a refresh without an API
// key: it signs the request body with the tenant's webhook secret.
const (
	hookSignatureHeader = "X-Portico-Signature"
	hookTimestampHeader = "X-Portico-Timestamp"
	hookTolerance       = 5 * time.Minute
)

var errBadSignature = &apiError{Status: http.StatusUnauthorized, Code: "invalid_signature",
	Message: "the webhook signature is missing or does not match: send " + hookTimestampHeader + " (Unix seconds) and " +
		hookSignatureHeader + ": sha256=hex(HMAC-SHA256(secret, timestamp + \".\" + body))"}

// handleSpecHook verifies the signature and timestamp, refuses a replay of
// a signature already used on this replica, then refreshes like POST
// /spec/refresh. An unknown tenant and a tenant without a secret get the
// same 401 as a bad signature, so the endpoint reveals nothing unsigned.
func handleSpecHook(sp Spec, seen *replayGuard) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		ts := c.Request().Header.Get(hookTimestampHeader)
		sig, ok := strings.CutPrefix(c.Request().Header.Get(hookSignatureHeader), "sha256=")
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if !ok || perr != nil {
			return errBadSignature
		}
		if d := time.Since(time.Unix(sec, 0)); d > hookTolerance || d < -hookTolerance {
			return &apiError{Status: http.StatusUnauthorized, Code: "stale_signature",
				Message: fmt.Sprintf("the webhook timestamp is more than %s away from Portico's clock; sign each delivery with the current time", hookTolerance)}
		}
		secret, err := sp.HookSecret(c.Request().Context(), id)
		if errors.Is(err, tenant.ErrNotFound) {
			return errBadSignature
		}
		if err != nil {
			return fmt.Errorf("read webhook secret of tenant %s: %w", id, err)
		}
		mac := hmac.New(sha256.New, []byte(secret.Reveal()))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		got, err := hex.DecodeString(sig)
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			return errBadSignature
		}
		if !seen.first(id+":"+sig, time.Unix(sec, 0).Add(hookTolerance)) {
			return &apiError{Status: http.StatusUnauthorized, Code: "replayed_signature",
				Message: "this signed delivery was already received; sign each delivery with a fresh timestamp"}
		}
		return refresh(c, sp, id, "webhook")
	}
}

// replayGuard remembers signatures until their timestamp leaves the
// tolerance window. It is per replica: a replay sent to another replica
// only repeats an idempotent refresh.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// first reports whether key is new, remembering it until expires.
func (g *replayGuard) first(key string, expires time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.seen == nil {
		g.seen = make(map[string]time.Time)
	}
	for k, exp := range g.seen {
		if now.After(exp) {
			delete(g.seen, k)
		}
	}
	if _, ok := g.seen[key]; ok {
		return false
	}
	g.seen[key] = expires
	return true
}
