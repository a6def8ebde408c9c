package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"
)

// Prefixes of the OAuth secrets Portico issues as an authorization server,
// so scanners and people can tell them from MCP tokens and API keys.
const (
	AccessTokenPrefix  = "oat_" // OAuth access token, accepted on one tenant's MCP endpoint
	RefreshTokenPrefix = "ort_" // OAuth refresh token, used once at /oauth/token
	AuthCodePrefix     = "oac_" // authorization code, used once at /oauth/token
)

// Lifetimes of what the authorization server issues.
const (
	AuthCodeTTL     = time.Minute
	AccessTokenTTL  = time.Hour
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// ErrInvalidGrant says an authorization code or refresh token cannot be
// used: unknown, expired, already used, revoked, or issued to another
// client, redirect URI or tenant. Its message says which, and is safe to
// show to the client (OAuth error invalid_grant).
var ErrInvalidGrant = errors.New("invalid_grant")

// GrantRevokedError is ErrInvalidGrant for a code or refresh token whose
// reuse has just revoked its grant: the caller drops the grant's tokens
// from its token cache ("oauth:<GrantID>") rather than wait for NOTIFY.
type GrantRevokedError struct {
	GrantID string
	Reason  string
}

func (e *GrantRevokedError) Error() string { return ErrInvalidGrant.Error() + ": " + e.Reason }

func (e *GrantRevokedError) Is(target error) bool { return target == ErrInvalidGrant }

// OAuthClient is a client registered by dynamic client registration.
type OAuthClient struct {
	ID           string    `json:"client_id"`
	Name         string    `json:"client_name,omitempty"`
	URI          string    `json:"client_uri,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	CreatedAt    time.Time `json:"created_at"`
}

// AuthRequest is what a user approved on the consent page: it becomes an
// authorization code bound to all of it.
type AuthRequest struct {
	ClientID      string
	ClientName    string
	UserID        string
	RedirectURI   string
	CodeChallenge string // PKCE S256: base64url(SHA-256(code_verifier)), unpadded
	Scopes        []string
	Resource      string // the tenant's MCP URL (RFC 8707), the tokens' audience
}

// OAuthTokens is a token response: a new access token and refresh token of
// grant GrantID. The secrets are shown once and only their hashes kept.
type OAuthTokens struct {
	GrantID         string
	TenantID        string
	AccessToken     string
	RefreshToken    string
	AccessExpiresAt time.Time
	Scopes          []string
	Resource        string
}

// PKCEChallenge returns the S256 code challenge of verifier (RFC 7636 §4.2).
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyPKCE reports whether verifier matches an S256 challenge.
func VerifyPKCE(verifier, challenge string) bool {
	return subtle.ConstantTimeCompare([]byte(PKCEChallenge(verifier)), []byte(challenge)) == 1
}

// OAuthGrant is one application's standing access to a tenant, approved by
// a user: what the dashboard lists under "Connected applications".
type OAuthGrant struct {
	ID           string     `json:"id"`
	TenantID     string     `json:"tenant_id"`
	ClientID     string     `json:"client_id"`
	ClientName   string     `json:"client_name"`
	UserID       string     `json:"user_id"`
	UserEmail    string     `json:"user_email"`
	Scopes       []string   `json:"scopes"`
	CreatedAt    time.Time  `json:"created_at"`
	LastIssuedAt *time.Time `json:"last_issued_at,omitempty"` // the newest access token
}
