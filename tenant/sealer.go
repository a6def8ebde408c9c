package tenant

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// MasterKey is a key-encryption key from PORTICO_MASTER_KEYS. Master keys
// never touch Postgres: they only wrap the per-tenant data keys stored there,
// so a database dump alone decrypts nothing.
type MasterKey struct {
	ID  string
	Key []byte // 32 bytes, AES-256
}

// String redacts the key so a MasterKey printed by accident leaks only its id.
func (k MasterKey) String() string { return "MasterKey(" + k.ID + ")" }

// GoString redacts the key for %#v.
func (k MasterKey) GoString() string { return k.String() }

// LogValue redacts the key for slog.
func (k MasterKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

var keyID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseMasterKeys parses PORTICO_MASTER_KEYS: a comma-separated list of
// "kid:base64(32 bytes)", newest first. Errors name the entry and the kid but
// never echo key material, since they end up in logs and terminals.
func ParseMasterKeys(s string) ([]MasterKey, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("PORTICO_MASTER_KEYS is empty: want kid:base64(32 bytes)[,kid2:...], newest first")
	}
	var keys []MasterKey
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		kid, b64, ok := strings.Cut(entry, ":")
		kid = strings.TrimSpace(kid)
		switch {
		case entry == "":
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d is empty", n)
		case !ok:
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d has no ':' between key id and key: want kid:base64(32 bytes)", n)
		case !keyID.MatchString(kid):
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d: key id must be 1-64 characters of letters, digits, '_', '.', '-'", n)
		case seen[kid]:
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d: key id %q appears twice", n, kid)
		}
		seen[kid] = true
		key, err := decodeKey(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d (key id %q): key is not valid base64", n, kid)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("PORTICO_MASTER_KEYS entry %d (key id %q): key decodes to %d bytes, want 32 (e.g. `openssl rand -base64 32`)", n, kid, len(key))
		}
		keys = append(keys, MasterKey{ID: kid, Key: key})
	}
	return keys, nil
}

// decodeKey accepts standard and URL base64, padded or not, because keys are
// pasted from many tools. The decoder's error is dropped: it quotes input bytes.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// sealVersion leads every blob the Sealer writes, so the format can change
// (a KMS, data key generations) without guessing what old rows hold.
const sealVersion = 1

// errOpen is the only error from failed decryption. It says nothing about the
// bytes involved: a wrong key, a wrong tenant and tampering look alike.
var errOpen = errors.New("decryption failed: wrong key, wrong tenant or credential, or corrupted data")

// Sealer does envelope encryption: each tenant has its own random data key,
// stored wrapped by a master key. Rotating a master key then means re-wrapping
// one 32-byte key per tenant, never re-encrypting credentials, and a data key
// leaked from one tenant exposes no other.
type Sealer struct {
	newest string
	keys   map[string]cipher.AEAD
	ids    []string
}

// NewSealer builds a Sealer from master keys, newest first. The first key
// wraps new data keys; every key can unwrap, so rotation is add-then-rewrap.
func NewSealer(keys []MasterKey) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("new sealer: at least one master key is required")
	}
	s := &Sealer{newest: keys[0].ID, keys: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if _, dup := s.keys[k.ID]; dup {
			return nil, fmt.Errorf("new sealer: master key id %q appears twice", k.ID)
		}
		if len(k.Key) != 32 {
			return nil, fmt.Errorf("new sealer: master key %q is %d bytes, want 32", k.ID, len(k.Key))
		}
		a, err := newAEAD(k.Key)
		if err != nil {
			return nil, fmt.Errorf("new sealer: master key %q: %w", k.ID, err)
		}
		s.keys[k.ID] = a
		s.ids = append(s.ids, k.ID)
	}
	return s, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	// Random 96-bit nonces: safe to ~2^32 messages per key, far above what
	// one tenant's data key or the master keys ever seal.
	return cipher.NewGCMWithRandomNonce(blk)
}

// NewestKeyID is the id of the master key that wraps new data keys.
func (s *Sealer) NewestKeyID() string { return s.newest }

// HasKey reports whether master key kid is loaded.
func (s *Sealer) HasKey(kid string) bool {
	_, ok := s.keys[kid]
	return ok
}

func (s *Sealer) master(kid string) (cipher.AEAD, error) {
	a, ok := s.keys[kid]
	if !ok {
		return nil, fmt.Errorf("master key %q is not loaded (PORTICO_MASTER_KEYS has %s); add it back to decrypt data wrapped under it",
			kid, strings.Join(s.ids, ", "))
	}
	return a, nil
}

// wrapAAD binds a wrapped data key to its tenant, so a dek_wrapped value
// copied onto another tenant's row fails to unwrap.
func wrapAAD(tenantID string) []byte { return []byte("tenant:" + tenantID) }

// CredentialAAD is the associated data that binds a credential's ciphertext to
// its tenant and name, so a ciphertext moved to another row fails to open.
func CredentialAAD(tenantID, name string) string { return tenantID + "|" + name }

// NewDataKey creates a tenant's random data key and returns it wrapped under
// the newest master key, with that key's id.
func (s *Sealer) NewDataKey(tenantID string) (wrapped []byte, kid string, err error) {
	dek := make([]byte, 32)
	rand.Read(dek) // never fails (crypto/rand doc)
	wrapped, err = s.wrap(tenantID, dek)
	if err != nil {
		return nil, "", err
	}
	return wrapped, s.newest, nil
}

func (s *Sealer) wrap(tenantID string, dek []byte) ([]byte, error) {
	a, err := s.master(s.newest)
	if err != nil {
		return nil, err
	}
	return a.Seal([]byte{sealVersion}, nil, dek, wrapAAD(tenantID)), nil
}

func (s *Sealer) unwrap(tenantID, kid string, wrapped []byte) ([]byte, error) {
	a, err := s.master(kid)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 1 || wrapped[0] != sealVersion {
		return nil, fmt.Errorf("unwrap data key of tenant %s: unknown format", tenantID)
	}
	dek, err := a.Open(nil, nil, wrapped[1:], wrapAAD(tenantID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of tenant %s under master key %q: %w", tenantID, kid, errOpen)
	}
	return dek, nil
}

func (s *Sealer) dataKey(tenantID, kid string, wrapped []byte) (cipher.AEAD, error) {
	dek, err := s.unwrap(tenantID, kid, wrapped)
	if err != nil {
		return nil, err
	}
	return newAEAD(dek)
}

// Seal encrypts plaintext under the tenant's data key (given wrapped, with the
// id of the master key that wrapped it), bound to aad.
func (s *Sealer) Seal(tenantID, kid string, wrapped []byte, aad string, plaintext []byte) ([]byte, error) {
	a, err := s.dataKey(tenantID, kid, wrapped)
	if err != nil {
		return nil, err
	}
	return a.Seal([]byte{sealVersion}, nil, plaintext, []byte(aad)), nil
}

// Open decrypts what Seal produced with the same tenant, data key and aad.
func (s *Sealer) Open(tenantID, kid string, wrapped []byte, aad string, ciphertext []byte) ([]byte, error) {
	a, err := s.dataKey(tenantID, kid, wrapped)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < 1 || ciphertext[0] != sealVersion {
		return nil, errors.New("open sealed value: unknown format")
	}
	pt, err := a.Open(nil, nil, ciphertext[1:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("open sealed value of tenant %s: %w", tenantID, errOpen)
	}
	return pt, nil
}

// Rewrap re-wraps a tenant's data key under the newest master key. The data
// key itself is unchanged, so every sealed credential still opens.
func (s *Sealer) Rewrap(tenantID, kid string, wrapped []byte) (newWrapped []byte, newKid string, err error) {
	dek, err := s.unwrap(tenantID, kid, wrapped)
	if err != nil {
		return nil, "", err
	}
	newWrapped, err = s.wrap(tenantID, dek)
	if err != nil {
		return nil, "", err
	}
	return newWrapped, s.newest, nil
}
