package bridge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kid": "bad", "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(x)}, // not on the curve
		{"kid": "k1", "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)},
	}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer srv.Close()
	a := NewExternalAuth("https://issuer.example", srv.URL)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "https://issuer.example", "aud": "https://portico.example/t/x/mcp", "sub": "alice",
		"exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	sub, _, err := a.verify(t.Context(), raw, "https://portico.example/t/x/mcp")
	if err != nil || sub != "alice" {
		t.Fatalf("verify = %q, %v", sub, err)
	}
	if _, ok := a.keys["bad"]; ok {
		t.Error("a JWKS key off the curve was kept")
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
