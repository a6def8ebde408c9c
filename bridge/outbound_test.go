package bridge

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestGuardedClient: fetches made for strangers (OAuth client metadata
// documents) meet the upstream guard: loopback is refused by default and
// reached once the operator allows it.
func TestGuardedClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()

	_, err := New(nil, Config{}).GuardedClient(5 * time.Second).Get(srv.URL)
	var blocked *BlockedAddressError
	if !errors.As(err, &blocked) {
		t.Fatalf("GET %s with the default guard: %v, want a BlockedAddressError", srv.URL, err)
	}
	allowed := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	resp, err := allowed.GuardedClient(5 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with loopback allowed: %v", srv.URL, err)
	}
	resp.Body.Close()
}
