package bridge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestExternalAuthECDSA: an ES256 token verifies against the P-256 key of
// the JWKS, whose coordinates may be shorter than the curve size.
func TestExternalAuthECDSA(t *testing.T) {
	var key *ecdsa.PrivateKey
	for { // a key whose X has a leading zero byte exercises the padding
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if pt, _ := k.PublicKey.Bytes(); pt[1] == 0 {
			key = k
			break
		}
	}
	pt, _ := key.PublicKey.Bytes()
	x, y := pt[1:33], pt[33:]
	for len(x) > 0 && x[0] == 0 {
		x = x[1:]
	}
	good := map[string]string{"kid": "k1", "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)}
	offCurve := map[string]string{"kid": "bad", "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(x)}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "https://issuer.example", "aud": "https://portico.example/t/x/mcp", "sub": "alice",
		"exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(keys ...map[string]string) (string, error) {
		jwks, _ := json.Marshal(map[string]any{"keys": keys})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
		defer srv.Close()
		a, err := NewExternalAuth(t.Context(), "https://issuer.example", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		sub, _, err := a.verify(t.Context(), raw, "https://portico.example/t/x/mcp")
		return sub, err
	}
	if sub, err := verify(good); err != nil || sub != "alice" {
		t.Fatalf("verify = %q, %v", sub, err)
	}
	// A JWKS holding a key that is not a point on its curve is refused as
	// a whole (jwkset's rule): the issuer is misconfigured or tampered with.
	if _, err := verify(offCurve, good); err == nil {
		t.Error("a JWKS with a key off the curve was used")
	}
}

// TestExternalAuthJWKSLimit: a JWKS answer over maxJWKSBytes is not read
// to its end, so the key after the padding is never used.
func TestExternalAuthJWKSLimit(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := key.PublicKey.Bytes()
	jwk, _ := json.Marshal(map[string]string{"kid": "k1", "kty": "EC", "crv": "P-256", "x": b64url(pt[1:33]), "y": b64url(pt[33:])})
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "https://issuer.example", "aud": "https://portico.example/t/x/mcp", "sub": "alice",
		"exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pad  int
		want bool
	}{{0, true}, {2 * maxJWKSBytes, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[` + strings.Repeat(" ", tc.pad)))
			w.Write(jwk)
			w.Write([]byte(`]}`))
		}))
		a, err := NewExternalAuth(t.Context(), "https://issuer.example", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = a.verify(t.Context(), raw, "https://portico.example/t/x/mcp")
		srv.Close()
		if (err == nil) != tc.want {
			t.Errorf("JWKS padded by %d bytes: verify error = %v, want verified %v", tc.pad, err, tc.want)
		}
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
