package tenant_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

func newKey(t testing.TB, id string) tenant.MasterKey {
	t.Helper()
	return tenant.MasterKey{ID: id, Key: randBytes(32)}
}

func mustSealer(t testing.TB, keys ...tenant.MasterKey) *tenant.Sealer {
	t.Helper()
	s, err := tenant.NewSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	s := mustSealer(t, newKey(t, "k1"))
	wrapped, kid, err := s.NewDataKey("ten1")
	if err != nil {
		t.Fatal(err)
	}
	if kid != "k1" {
		t.Errorf("kid = %q, want k1", kid)
	}
	aad := tenant.CredentialAAD("ten1", "api")
	ct, err := s.Seal("ten1", kid, wrapped, aad, []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("hunter2")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := s.Open("ten1", kid, wrapped, aad, ct)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "hunter2" {
		t.Errorf("Open = %q, want hunter2", pt)
	}
}

func TestSealerRejectsWrongContext(t *testing.T) {
	s := mustSealer(t, newKey(t, "k1"))
	wrappedA, kid, _ := s.NewDataKey("a")
	wrappedB, _, _ := s.NewDataKey("b")
	ct, err := s.Seal("a", kid, wrappedA, tenant.CredentialAAD("a", "x"), []byte("secret-value"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		tenant  string
		kid     string
		wrapped []byte
		aad     string
		ct      []byte
	}{
		{"other tenant's id with its own wrapped key", "b", kid, wrappedA, tenant.CredentialAAD("b", "x"), ct},
		{"other tenant's data key", "b", kid, wrappedB, tenant.CredentialAAD("a", "x"), ct},
		{"other credential name", "a", kid, wrappedA, tenant.CredentialAAD("a", "y"), ct},
		{"tampered ciphertext", "a", kid, wrappedA, tenant.CredentialAAD("a", "x"), tampered},
		{"unknown kid", "a", "nope", wrappedA, tenant.CredentialAAD("a", "x"), ct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := s.Open(tt.tenant, tt.kid, tt.wrapped, tt.aad, tt.ct)
			if err == nil {
				t.Fatalf("Open succeeded with %q", pt)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error leaks plaintext: %v", err)
			}
		})
	}
	_, err = s.Open("a", "nope", wrappedA, "", ct)
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown kid error = %v, want it to name the kid", err)
	}
}

func TestSealerRotation(t *testing.T) {
	old, cur := newKey(t, "old"), newKey(t, "new")
	before := mustSealer(t, old)
	wrapped, kid, _ := before.NewDataKey("t1")
	aad := tenant.CredentialAAD("t1", "c")
	ct, _ := before.Seal("t1", kid, wrapped, aad, []byte("v"))

	during := mustSealer(t, cur, old)
	if got := during.NewestKeyID(); got != "new" {
		t.Errorf("NewestKeyID = %q, want new", got)
	}
	if _, err := during.Open("t1", kid, wrapped, aad, ct); err != nil {
		t.Fatalf("old key no longer opens during rotation: %v", err)
	}
	if _, k, _ := during.NewDataKey("t2"); k != "new" {
		t.Errorf("new data keys wrapped under %q, want new", k)
	}
	rewrapped, newKid, err := during.Rewrap("t1", kid, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if newKid != "new" {
		t.Errorf("Rewrap kid = %q, want new", newKid)
	}

	after := mustSealer(t, cur)
	pt, err := after.Open("t1", newKid, rewrapped, aad, ct)
	if err != nil || string(pt) != "v" {
		t.Fatalf("after removing the old key: Open = %q, %v", pt, err)
	}
	if _, err := after.Open("t1", kid, wrapped, aad, ct); err == nil {
		t.Error("the old wrapping still opens without the old key")
	}
}

func TestParseMasterKeys(t *testing.T) {
	k1 := randBytes(32)
	k2 := randBytes(32)
	b1, b2 := base64.StdEncoding.EncodeToString(k1), base64.RawURLEncoding.EncodeToString(k2)
	short := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))

	keys, err := tenant.ParseMasterKeys(" k2:" + b2 + " , k1:" + b1)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k2" || !bytes.Equal(keys[0].Key, k2) || keys[1].ID != "k1" || !bytes.Equal(keys[1].Key, k1) {
		t.Fatalf("ParseMasterKeys = %v", keys)
	}
	if s := fmt.Sprintf("%v %+v %#v", keys[0], keys[0], keys[0]); strings.Contains(s, b2) || strings.Contains(s, string(k2)) {
		t.Errorf("MasterKey formats with its key: %s", s)
	}

	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"no colon", "k1" + b1, "entry 1 has no ':'"},
		{"empty entry", "k1:" + b1 + ",", "entry 2 is empty"},
		{"bad id", "k 1:" + b1, "entry 1: key id"},
		{"duplicate", "k1:" + b1 + ",k1:" + b1, `"k1" appears twice`},
		{"bad base64", "k1:" + b1[:10] + "!!!", `entry 1 (key id "k1"): key is not valid base64`},
		{"short key", "k1:" + short, "decodes to 16 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tenant.ParseMasterKeys(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), b1[:10]) || strings.Contains(err.Error(), short) {
				t.Errorf("error echoes key material: %v", err)
			}
		})
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
