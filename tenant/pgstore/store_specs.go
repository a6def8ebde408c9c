package pgstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// AddSpecVersion stores a fetched spec document as the tenant's next version
// and reports whether it was new. When its SHA-256 (computed from v.Raw if
// empty) matches the newest stored version, nothing is written and that
// version is returned with false: refreshes of an unchanged spec cost no row
// and no conversion. The tenant row is locked so concurrent refreshes number
// versions without gaps or duplicates.
func (s *Store) AddSpecVersion(ctx context.Context, tenantID string, v tenant.SpecVersion) (tenant.SpecVersion, bool, error) {
	sum := sha256.Sum256(v.Raw)
	sha := hex.EncodeToString(sum[:])
	if v.SHA256 != "" && v.SHA256 != sha {
		inv := &tenant.InvalidError{}
		inv.Add("sha256", "does not match the document")
		return tenant.SpecVersion{}, false, fmt.Errorf("add spec version: %w", inv)
	}
	v.SHA256 = sha
	v.TenantID = tenantID
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	if v.FetchedAt.IsZero() {
		v.FetchedAt = time.Now()
	}
	diff := tenant.SpecDiff{}
	if v.Diff != nil {
		diff = *v.Diff
	}
	diff = diff.NonNil()
	raw, err := gzipBytes(v.Raw)
	if err != nil {
		return tenant.SpecVersion{}, false, fmt.Errorf("add spec version: %w", err)
	}
	var out tenant.SpecVersion
	var added bool
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		var current int
		err := tx.QueryRow(ctx, `SELECT spec_version FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&current)
		if err != nil {
			return dbErr("", err)
		}
		newest, err := scanSpec(tx.QueryRow(ctx, `
			SELECT `+specCols+` FROM spec_versions
			WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`, tenantID))
		switch {
		case err == nil && newest.SHA256 == sha:
			newest.Raw = v.Raw
			out = newest
			return nil
		case errors.Is(err, pgx.ErrNoRows):
			// the first version
		case err != nil:
			return dbErr("", err)
		}
		v.Version = max(newest.Version, current) + 1
		out, err = scanSpec(tx.QueryRow(ctx, `
			INSERT INTO spec_versions (tenant_id, version, sha256, etag, last_modified, raw_gzip, tool_count, warnings, fetched_at, diff)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+specCols,
			tenantID, v.Version, v.SHA256, v.ETag, v.LastModified, raw, v.ToolCount, v.Warnings, v.FetchedAt, diff))
		if err != nil {
			return dbErr("", err)
		}
		out.Raw = v.Raw
		out.Diff = &diff
		added = true
		// updated_at moves so replicas resyncing after a missed notification
		// (WHERE updated_at > last seen) pick the new version up.
		if _, err := tx.Exec(ctx, `UPDATE tenants SET spec_version = $2, updated_at = now() WHERE id = $1`,
			tenantID, v.Version); err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, "system", "spec.version",
			map[string]any{"version": v.Version, "sha256": sha, "tool_count": v.ToolCount, "diff": diff.Summary()})
	})
	if err != nil {
		return tenant.SpecVersion{}, false, fmt.Errorf("add spec version of tenant %s: %w", tenantID, err)
	}
	return out, added, nil
}

// specCols lists a version without its document or full diff; the diff is
// summarised as counts so version lists stay small for big APIs.
const specCols = `tenant_id, version, sha256, etag, last_modified, tool_count, warnings, fetched_at,
	jsonb_array_length(diff->'added'), jsonb_array_length(diff->'removed'), jsonb_array_length(diff->'changed')`

func scanSpec(row pgx.Row) (tenant.SpecVersion, error) {
	var v tenant.SpecVersion
	err := row.Scan(&v.TenantID, &v.Version, &v.SHA256, &v.ETag, &v.LastModified, &v.ToolCount, &v.Warnings, &v.FetchedAt,
		&v.DiffSummary.Added, &v.DiffSummary.Removed, &v.DiffSummary.Changed)
	return v, err
}

// LatestSpec returns the tenant's newest spec version with its document
// uncompressed, or ErrNotFound when none was stored yet.
func (s *Store) LatestSpec(ctx context.Context, tenantID string) (tenant.SpecVersion, error) {
	return s.spec(ctx, tenantID, `
		SELECT `+specCols+`, raw_gzip, diff FROM spec_versions
		WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`, tenantID)
}

// LatestSpecInfo returns the tenant's newest spec version without its
// document: what a refresh compares a download with (SHA-256, ETag).
func (s *Store) LatestSpecInfo(ctx context.Context, tenantID string) (tenant.SpecVersion, error) {
	v, err := scanSpec(s.pool.QueryRow(ctx, `
		SELECT `+specCols+` FROM spec_versions
		WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`, tenantID))
	if err != nil {
		return tenant.SpecVersion{}, dbErr("spec of tenant "+tenantID, err)
	}
	return v, nil
}

// Spec returns one spec version of a tenant with its document uncompressed
// and its diff against the version before it.
func (s *Store) Spec(ctx context.Context, tenantID string, version int) (tenant.SpecVersion, error) {
	return s.spec(ctx, tenantID, `
		SELECT `+specCols+`, raw_gzip, diff FROM spec_versions
		WHERE tenant_id = $1 AND version = $2`, tenantID, version)
}

// ServingSpec returns the version the tenant should serve: the pinned one
// when it is pinned, else the newest. ErrNotFound when none is stored.
func (s *Store) ServingSpec(ctx context.Context, tenantID string) (tenant.SpecVersion, error) {
	return s.spec(ctx, tenantID, `
		SELECT `+specCols+`, raw_gzip, diff FROM spec_versions
		WHERE tenant_id = $1 AND version = (
			SELECT COALESCE(t.pinned_version, (SELECT max(version) FROM spec_versions WHERE tenant_id = $1))
			FROM tenants t WHERE t.id = $1)`, tenantID)
}

func (s *Store) spec(ctx context.Context, tenantID, sql string, args ...any) (tenant.SpecVersion, error) {
	var v tenant.SpecVersion
	var raw []byte
	var diff tenant.SpecDiff
	err := s.pool.QueryRow(ctx, sql, args...).Scan(&v.TenantID, &v.Version, &v.SHA256, &v.ETag,
		&v.LastModified, &v.ToolCount, &v.Warnings, &v.FetchedAt,
		&v.DiffSummary.Added, &v.DiffSummary.Removed, &v.DiffSummary.Changed, &raw, &diff)
	if err != nil {
		return tenant.SpecVersion{}, dbErr("spec of tenant "+tenantID, err)
	}
	diff = diff.NonNil()
	v.Diff = &diff
	if v.Raw, err = gunzipBytes(raw); err != nil {
		return tenant.SpecVersion{}, fmt.Errorf("spec version %d of tenant %s: decompress: %w", v.Version, tenantID, err)
	}
	return v, nil
}

// SpecVersions lists a tenant's spec versions newest first, without documents.
func (s *Store) SpecVersions(ctx context.Context, tenantID string) ([]tenant.SpecVersion, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list spec versions: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+specCols+` FROM spec_versions
		WHERE tenant_id = $1 ORDER BY version DESC`, tenantID)
	if err != nil {
		return nil, dbErr("list spec versions of tenant "+tenantID, err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.SpecVersion, error) { return scanSpec(r) })
	if err != nil {
		return nil, dbErr("list spec versions of tenant "+tenantID, err)
	}
	return vs, nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return buf.Bytes(), nil
}

func gunzipBytes(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
