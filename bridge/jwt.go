package bridge

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ExternalAuth validates access tokens issued by an operator-named OAuth
// authorization server: JWTs signed with a key from its JWKS, from its
// issuer, and with the tenant endpoint's URL as audience, so a token works
// only on the tenant it was issued for.
type ExternalAuth struct {
	issuer, jwksURL string
	client          *http.Client

	mu      sync.Mutex
	keys    map[string]crypto.PublicKey // by kid
	fetched time.Time
}

// NewExternalAuth returns a validator for tokens of issuer, whose signing
// keys are published at jwksURL.
func NewExternalAuth(issuer, jwksURL string) *ExternalAuth {
	return &ExternalAuth{issuer: issuer, jwksURL: jwksURL, client: &http.Client{Timeout: 10 * time.Second}}
}

// Issuer returns the authorization server's issuer identifier.
func (a *ExternalAuth) Issuer() string { return a.issuer }

// jwksRefetch is the least time between two JWKS downloads, so tokens
// naming unknown keys cannot make Portico hammer the server.
const jwksRefetch = 30 * time.Second

// looksLikeJWT reports whether tok has the three dot-separated parts of a JWS.
func looksLikeJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// verify checks raw for audience and returns its subject and expiry.
func (a *ExternalAuth) verify(ctx context.Context, raw, audience string) (string, time.Time, error) {
	tok, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return a.key(ctx, kid)
	}, jwt.WithIssuer(a.issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired(),
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return "", time.Time{}, err
	}
	sub, _ := tok.Claims.GetSubject()
	exp, _ := tok.Claims.GetExpirationTime()
	return sub, exp.Time, nil
}

// key returns the signing key kid, downloading the JWKS when the key is
// unknown and the last download is old enough.
func (a *ExternalAuth) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k, ok := a.pick(kid); ok {
		return k, nil
	}
	if time.Since(a.fetched) < jwksRefetch {
		return nil, fmt.Errorf("no signing key %q in the authorization server's JWKS", kid)
	}
	a.fetched = time.Now()
	keys, err := a.download(ctx)
	if err != nil {
		return nil, err
	}
	a.keys = keys
	if k, ok := a.pick(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("no signing key %q in the authorization server's JWKS", kid)
}

// pick returns key kid, or the only key when the token names none.
func (a *ExternalAuth) pick(kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(a.keys) == 1 {
		for _, k := range a.keys {
			return k, true
		}
	}
	k, ok := a.keys[kid]
	return k, ok
}

func (a *ExternalAuth) download(ctx context.Context) (map[string]crypto.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: HTTP %d", resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Use, Crv, N, E, X, Y string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch k.Kty {
		case "RSA":
			n, err1 := b64int(k.N)
			e, err2 := b64int(k.E)
			if err1 != nil || err2 != nil || !e.IsInt64() {
				continue
			}
			keys[k.Kid] = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			default:
				continue
			}
			x, err1 := base64.RawURLEncoding.DecodeString(k.X)
			y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
			size := (curve.Params().BitSize + 7) / 8
			if err1 != nil || err2 != nil || len(x) > size || len(y) > size {
				continue
			}
			point := make([]byte, 1+2*size) // SEC 1 uncompressed: 04 || X || Y
			point[0] = 4
			copy(point[1+size-len(x):], x)
			copy(point[1+2*size-len(y):], y)
			pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
			if err != nil {
				continue // not a point on the curve
			}
			keys[k.Kid] = pub
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWKS holds no usable signing key")
	}
	return keys, nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
