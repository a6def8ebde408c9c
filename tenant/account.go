package tenant

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Role is what a user may do in one tenant.
type Role string

const (
	RoleOwner  Role = "owner"  // everything, including members and deleting the tenant
	RoleAdmin  Role = "admin"  // every change except members and deletion
	RoleViewer Role = "viewer" // reads only
)

var roleRank = map[Role]int{RoleViewer: 1, RoleAdmin: 2, RoleOwner: 3}

// Valid reports whether r is one of owner, admin, viewer.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.Valid() && roleRank[r] >= roleRank[min] }

// User is a person who signs in to the dashboard. Operators run Portico and
// see every tenant; other users see the tenants they are members of.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Operator  bool      `json:"operator"`
	CreatedAt time.Time `json:"created_at"`
}

// Session is one dashboard login. Its secret lives only in the browser's
// HttpOnly cookie; CSRFToken must accompany every cookie-authenticated change.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CSRFToken string    `json:"-"`
	IP        string    `json:"ip,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Member is a user's role in a tenant.
type Member struct {
	TenantID  string    `json:"tenant_id"`
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ErrBadCredentials is a failed login: unknown email, wrong password or a
// disabled account, deliberately not told apart.
var ErrBadCredentials = errors.New("wrong email or password")

// SessionPrefix marks session cookie secrets, as pk_ and mcp_ mark keys and tokens.
const SessionPrefix = "ps_"

// Password limits. The upper bound keeps argon2 from hashing megabytes.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// argon2id parameters: OWASP's first recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var b64 = base64.RawStdEncoding

// HashPassword returns password hashed with argon2id in PHC string form.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether password matches an argon2id PHC hash. The
// parameters come from the hash, so raising them later keeps old hashes valid.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when an email is unknown, so a failed login
// takes as long whether or not the account exists.
var DummyHash = HashPassword("portico-no-such-user-timing-equaliser")

func ValidateCredentials(email, password string) error {
	var inv InvalidError
	email = strings.TrimSpace(email)
	at := strings.LastIndex(email, "@")
	switch {
	case email == "":
		inv.Add("email", "is required")
	case len(email) > 254 || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>"):
		inv.Add("email", "is not an email address")
	}
	switch n := len(password); {
	case n < MinPasswordLen:
		inv.Add("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case n > MaxPasswordLen:
		inv.Add("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordLen))
	}
	return inv.Err()
}

// Secret prefixes let secret scanners (GitHub, gitleaks) recognise leaked
// Portico credentials, and let people tell the two kinds apart at a glance.
const (
	TokenPrefix  = "mcp_"
	APIKeyPrefix = "pk_"
)

// NewToken is what an MCP token is minted with.
type NewToken struct {
	Name      string
	ExpiresAt *time.Time
	// Toolsets, when set, restrict the token to those toolsets of the
	// tenant; each must exist.
	Toolsets []string
}

type sourceKey struct{}

// WithSource records where the request behind ctx came from (the client
// address), so every audit row written under ctx says "from where". It is
// request metadata, not tenancy: tenant ids stay explicit parameters.
func WithSource(ctx context.Context, source string) context.Context {
	if len(source) > 200 {
		source = source[:200]
	}
	return context.WithValue(ctx, sourceKey{}, source)
}

// Source returns what WithSource recorded, or "".
func Source(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
