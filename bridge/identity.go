package bridge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// IdentityLifetime is how long an identity assertion is valid: long enough
// for one upstream call, short enough that a captured one is soon useless.
const IdentityLifetime = 60 * time.Second

// IdentityKeySource gives the identity keys (tenant.Store.IdentityKeys).
type IdentityKeySource interface {
	IdentityKeys(ctx context.Context, p tenant.IdentityKeyPolicy) ([]tenant.IdentityKey, error)
}

// DefaultIdentityKeyPolicy rotates the signing key daily, publishes a new
// key 10 minutes before it signs, and keeps a replaced key published for
// an hour.
var DefaultIdentityKeyPolicy = tenant.IdentityKeyPolicy{Rotate: 24 * time.Hour, Publish: 10 * time.Minute, Overlap: time.Hour}

// Identity signs the assertions that tell a tenant's upstream who is
// calling (settings.identity_assertion): ES256 JWTs with iss = Portico's
// public URL, aud = the tenant's base URL, sub = the user (or the MCP
// token when no user is behind it), tenant, scopes, jti, and a 60 s
// lifetime. The keys are shared by every replica through Postgres; each
// replica re-reads them every minute, so rotation reaches all of them.
type Identity struct {
	src    IdentityKeySource
	policy tenant.IdentityKeyPolicy
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	issuer string
	keys   []tenant.IdentityKey
	loaded time.Time
}

// NewIdentity returns a signer for issuer whose keys come from src.
func NewIdentity(issuer string, src IdentityKeySource, p tenant.IdentityKeyPolicy, log *slog.Logger) *Identity {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Identity{issuer: strings.TrimRight(issuer, "/"), src: src, policy: p, log: log, now: time.Now}
}

// SetIssuer sets the iss of assertions: Portico's public URL, known once
// it listens.
func (id *Identity) SetIssuer(issuer string) {
	id.mu.Lock()
	id.issuer = strings.TrimRight(issuer, "/")
	id.mu.Unlock()
}

// identityReload is how often a replica re-reads the keys.
const identityReload = time.Minute

// Run keeps the keys current until ctx ends.
func (id *Identity) Run(ctx context.Context) {
	t := time.NewTicker(identityReload)
	defer t.Stop()
	for {
		if _, err := id.load(ctx); err != nil && ctx.Err() == nil {
			id.log.Error("identity keys could not be loaded; assertions use the keys loaded before", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (id *Identity) load(ctx context.Context) ([]tenant.IdentityKey, error) {
	keys, err := id.src.IdentityKeys(ctx, id.policy)
	if err != nil {
		return nil, err
	}
	id.mu.Lock()
	id.keys, id.loaded = keys, id.now()
	id.mu.Unlock()
	return keys, nil
}

// signingKey is the newest key that has been published for the policy's
// Publish time, or the newest key when none has (the first key ever).
func (id *Identity) signingKey(ctx context.Context) (tenant.IdentityKey, error) {
	id.mu.Lock()
	keys := id.keys
	stale := id.now().Sub(id.loaded) > 2*identityReload
	id.mu.Unlock()
	// The background reload keeps keys current; a replica that could not
	// reload (Postgres down) still signs with the keys it has.
	if len(keys) == 0 || stale {
		var err error
		if keys, err = id.load(ctx); err != nil && len(keys) == 0 {
			return tenant.IdentityKey{}, err
		}
	}
	now := id.now()
	var newest *tenant.IdentityKey
	for i := range keys { // newest first
		k := &keys[i]
		if k.Private == nil {
			continue
		}
		if newest == nil {
			newest = k
		}
		if now.Sub(k.CreatedAt) >= id.policy.Publish {
			return *k, nil
		}
	}
	if newest == nil {
		return tenant.IdentityKey{}, errors.New("no identity key can sign: none opens with the loaded master keys")
	}
	return *newest, nil
}

// IdentityClaims are the claims of an identity assertion.
type IdentityClaims struct {
	jwt.RegisteredClaims
	Tenant string   `json:"tenant"`
	Scopes []string `json:"scopes"`
	// Token is the MCP token (or OAuth grant) the call came with.
	Token string `json:"token_id,omitempty"`
}

// caller is who made an MCP request, as the identity assertion names it.
type caller struct {
	user, token string
	scopes      []string
}

// callerOf reads the caller from the token information serveMCP recorded.
func callerOf(extra *mcp.RequestExtra) caller {
	if extra == nil || extra.TokenInfo == nil {
		return caller{}
	}
	ti := extra.TokenInfo
	c := caller{scopes: ti.Scopes}
	_, c.token, _ = strings.Cut(ti.UserID, "/")
	c.user, _ = ti.Extra[tokenUserKey].(string)
	return c
}

// tokenUserKey is the TokenInfo.Extra key of the user behind an OAuth token.
const tokenUserKey = "user"

// assert returns a signed assertion that c calls tenant t.
func (id *Identity) assert(ctx context.Context, t *tenant.Tenant, c caller) (string, error) {
	k, err := id.signingKey(ctx)
	if err != nil {
		return "", err
	}
	id.mu.Lock()
	issuer := id.issuer
	id.mu.Unlock()
	now := id.now()
	sub := "token:" + c.token
	if c.user != "" {
		sub = "user:" + c.user
	}
	var jti [16]byte
	rand.Read(jti[:])
	scopes := c.scopes
	if scopes == nil {
		scopes = []string{}
	}
	claims := IdentityClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   sub,
			Audience:  jwt.ClaimStrings{strings.TrimRight(t.BaseURL, "/")},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)), // clocks differ a little
			ExpiresAt: jwt.NewNumericDate(now.Add(IdentityLifetime)),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		Tenant: t.ID,
		Scopes: scopes,
		Token:  c.token,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(k.Private)
	if err != nil {
		return "", fmt.Errorf("sign identity assertion: %w", err)
	}
	return s, nil
}

// applyIdentity sets the identity assertion on req when the tenant asks
// for one.
func (l *live) applyIdentity(ctx context.Context, req *http.Request, st *state, c caller) error {
	a := st.tenant.Settings.IdentityAssertion
	if a == nil {
		return nil
	}
	if l.identity == nil {
		return errors.New("this tenant's settings.identity_assertion asks for a signed caller identity, and this Portico has no identity signer; an operator must set PORTICO_PUBLIC_URL")
	}
	s, err := l.identity.assert(ctx, st.tenant, c)
	if err != nil {
		l.log.Error("identity assertion not signed", "tenant", st.tenant.ID, "err", err)
		return errors.New("could not sign this call's identity assertion (settings.identity_assertion); nothing was sent to the service. Retry; if it persists, an operator should check the log")
	}
	req.Header.Set(a.HeaderName(), s)
	return nil
}
