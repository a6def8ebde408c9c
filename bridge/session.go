package bridge

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// Session-based clients (protocol 2025-03-26 to 2025-11-25) initialize once
// and send Mcp-Session-Id on every request. Portico keeps no session in
// memory: the id itself carries what a replica needs, authenticated with a
// key every replica derives from the same master keys, so any replica serves
// any session and no balancer needs affinity. A session id is
//
//	<tenant id>.<base64url(payload)>.<base64url(HMAC-SHA256(key, tenant.payload)[:16])>
//
// where payload is a format byte, the expiry (Unix seconds), 8 random bytes
// (two sessions of one token started in the same second differ, so ending
// one never ends the other), a byte of flags (what the client declared at
// initialize that later requests depend on: URL-mode elicitation), the
// negotiated protocol version and the token id, NUL-separated. Format 1,
// without the flags byte, is still accepted. It is not a credential:
// every request still carries the tenant's MCP token, checked as any other
// request's, so a revoked token or a deactivated tenant ends its sessions on
// every replica at the next request. The id binds the session to its tenant
// (another tenant's endpoint answers 404) and to its token (another token of
// the same tenant is refused with 403, as the SDK's pinned sessions were).

// sessionFormat is the format of the ids issued; sessionFormatV1, the
// first, had no flags byte.
const (
	sessionFormatV1 = 1
	sessionFormat   = 2
)

// Session flags: what the client declared at initialize.
const (
	sessionElicitURL = 1 << iota // capabilities.elicitation.url
)

// sessionNonceLen is the random part of a session id's payload.
const sessionNonceLen = 8

// sessionHeaderLen is the payload's fixed part: format, expiry, nonce
// (and, from format 2, the flags byte).
const sessionHeaderLen = 1 + 8 + sessionNonceLen

// sessionInfo is the verified content of a session id.
type sessionInfo struct {
	tenant, token, version string
	expires                time.Time
	elicitURL              bool // the client declared URL-mode elicitation
}

// sessionSigner issues and verifies session ids. The first key signs; every
// key verifies, so ids issued before a master-key rotation stay valid.
type sessionSigner struct {
	keys [][]byte
}

// sessionKeyInfo separates the session key from every other use of the
// master keys (they wrap tenant data keys): HKDF gives unrelated keys.
const sessionKeyInfo = "portico mcp session id v1"

// newSessionSigner derives the session keys from the master keys. With none
// (portico run, tests) it uses a random key: sessions then live as long as
// the process, which is all a single process needs.
func newSessionSigner(master []tenant.MasterKey) *sessionSigner {
	s := &sessionSigner{}
	for _, mk := range master {
		k, err := hkdf.Key(sha256.New, mk.Key, nil, sessionKeyInfo, 32)
		if err != nil {
			panic(err) // only for lengths HKDF cannot produce
		}
		s.keys = append(s.keys, k)
	}
	if len(s.keys) == 0 {
		s.keys = [][]byte{[]byte(rand.Text() + rand.Text())}
	}
	return s
}

var b64 = base64.RawURLEncoding

func (s *sessionSigner) mac(key []byte, tenantID, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tenantID))
	m.Write([]byte{'.'})
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// issue returns the session id for info.
func (s *sessionSigner) issue(info sessionInfo) string {
	var p []byte
	p = append(p, sessionFormat)
	p = binary.BigEndian.AppendUint64(p, uint64(info.expires.Unix()))
	p = append(p, make([]byte, sessionNonceLen)...)
	rand.Read(p[len(p)-sessionNonceLen:]) // never fails (crypto/rand)
	var flags byte
	if info.elicitURL {
		flags |= sessionElicitURL
	}
	p = append(p, flags)
	p = append(p, info.version...)
	p = append(p, 0)
	p = append(p, info.token...)
	payload := b64.EncodeToString(p)
	return info.tenant + "." + payload + "." + b64.EncodeToString(s.mac(s.keys[0], info.tenant, payload))
}

var (
	errSessionUnknown = errors.New("unknown session")
	errSessionExpired = errors.New("session expired")
)

// verify checks sid's signature and expiry and returns what it carries.
// Any malformed, forged or foreign id is errSessionUnknown.
func (s *sessionSigner) verify(sid string, now time.Time) (sessionInfo, error) {
	tenantID, rest, ok := strings.Cut(sid, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || tenantID == "" {
		return sessionInfo{}, errSessionUnknown
	}
	got, err := b64.DecodeString(sig)
	if err != nil || len(got) != 16 {
		return sessionInfo{}, errSessionUnknown
	}
	valid := false
	for _, k := range s.keys {
		if hmac.Equal(got, s.mac(k, tenantID, payload)) {
			valid = true
			break
		}
	}
	if !valid {
		return sessionInfo{}, errSessionUnknown
	}
	p, err := b64.DecodeString(payload)
	if err != nil || len(p) < sessionHeaderLen+1 || p[0] != sessionFormatV1 && p[0] != sessionFormat {
		return sessionInfo{}, errSessionUnknown
	}
	fields := p[sessionHeaderLen:]
	var flags byte
	if p[0] == sessionFormat {
		flags, fields = fields[0], fields[1:]
	}
	version, token, ok := strings.Cut(string(fields), "\x00")
	if !ok {
		return sessionInfo{}, errSessionUnknown
	}
	info := sessionInfo{tenant: tenantID, token: token, version: version,
		expires:   time.Unix(int64(binary.BigEndian.Uint64(p[1:9])), 0),
		elicitURL: flags&sessionElicitURL != 0}
	if !now.Before(info.expires) {
		return info, errSessionExpired
	}
	return info, nil
}

// sessionKey is how an ended session is remembered and announced to the
// other replicas: a hash, so the id itself is not written anywhere.
func sessionKey(sid string) string {
	h := sha256.Sum256([]byte(sid))
	return b64.EncodeToString(h[:12])
}

// endedSessions are sessions a client ended with DELETE, on this replica or
// (through the database's change notifications) on another, remembered until
// they would have expired anyway. A replica started after the DELETE does not
// know of it; the id then keeps working for its token's holder until it
// expires, which costs nothing: the id is not a credential.
type endedSessions struct {
	mu sync.Mutex
	m  map[string]time.Time // sessionKey → expiry
}

func (e *endedSessions) add(key string, expires time.Time, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]time.Time)
	}
	for k, exp := range e.m { // bounded by live sessions; pruned as they expire
		if !now.Before(exp) {
			delete(e.m, k)
		}
	}
	e.m[key] = expires
}

func (e *endedSessions) has(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.m[key]
	return ok
}

// checkSession verifies the session id sid presented at tenant id's endpoint
// with token tok, writing the refusal when it is not theirs.
func (r *Runtime) checkSession(w http.ResponseWriter, sid, id string, tok tenant.Token, now time.Time) (sessionInfo, bool) {
	info, err := r.sessions.verify(sid, now)
	switch {
	case errors.Is(err, errSessionExpired) && info.tenant == id:
		writeError(w, http.StatusNotFound, "session_expired", "this MCP session has expired; start a new one: send initialize without Mcp-Session-Id")
		return info, false
	case err != nil || info.tenant != id || r.ended.has(sessionKey(sid)):
		writeError(w, http.StatusNotFound, "session_not_found", "no such MCP session on this endpoint; start a new one: send initialize without Mcp-Session-Id")
		return info, false
	case info.token != tok.ID:
		writeError(w, http.StatusForbidden, "session_token_mismatch", "this MCP session was started with another MCP token; start a new session with this token")
		return info, false
	}
	return info, true
}

// sessionExpiry is when a session started now with tok ends: SessionTTL
// later, or when the token expires if that is sooner.
func (r *Runtime) sessionExpiry(tok tenant.Token, now time.Time) time.Time {
	exp := now.Add(r.opts.SessionTTL)
	if tok.ExpiresAt != nil && tok.ExpiresAt.Before(exp) {
		exp = *tok.ExpiresAt
	}
	return exp
}

// sessionEnder is the store's way of telling every replica that a client
// ended a session (tenant.Store.NotifySessionEnded).
type sessionEnder interface {
	NotifySessionEnded(ctx context.Context, tenantID, ref string) error
}

// endSession forgets sid on this replica at once and on the others through
// the database's change notifications (TenantChanged, kind session_ended).
func (r *Runtime) endSession(ctx context.Context, id, sid string, expires, now time.Time) {
	key := sessionKey(sid)
	r.ended.add(key, expires, now)
	if n, ok := r.store.(sessionEnder); ok {
		ref := key + "@" + strconv.FormatInt(expires.Unix(), 10)
		if err := n.NotifySessionEnded(ctx, id, ref); err != nil {
			r.log.WarnContext(ctx, "could not announce an ended MCP session to the other replicas", "tenant", id, "err", err)
		}
	}
}

// sessionEnded records a session another replica ended ("<key>@<unix expiry>").
func (r *Runtime) sessionEnded(ref string) {
	key, unix, ok := strings.Cut(ref, "@")
	n, err := strconv.ParseInt(unix, 10, 64)
	if !ok || err != nil {
		return
	}
	r.ended.add(key, time.Unix(n, 0), time.Now())
}

// negotiatedVersion is the protocol version the SDK answers an initialize
// whose params are params with: the client's when supported, else the
// newest session-based one.
func negotiatedVersion(params json.RawMessage) string {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(params, &p)
	switch p.ProtocolVersion {
	case "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25":
		return p.ProtocolVersion
	}
	return "2025-11-25"
}

// declaresURLElicitation reports whether capabilities, a client's
// capabilities object (initialize's capabilities, or a 2026-07-28
// request's _meta clientCapabilities), declares URL-mode elicitation:
// elicitation.url is an object.
func declaresURLElicitation(capabilities json.RawMessage) bool {
	var c struct {
		Elicitation struct {
			URL json.RawMessage `json:"url"`
		} `json:"elicitation"`
	}
	if json.Unmarshal(capabilities, &c) != nil {
		return false
	}
	u := bytes.TrimSpace(c.Elicitation.URL)
	return len(u) > 0 && u[0] == '{'
}

// initializeDeclaresURLElicitation reports whether an initialize whose
// params are params declares URL-mode elicitation.
func initializeDeclaresURLElicitation(params json.RawMessage) bool {
	var p struct {
		Capabilities json.RawMessage `json:"capabilities"`
	}
	return json.Unmarshal(params, &p) == nil && declaresURLElicitation(p.Capabilities)
}
