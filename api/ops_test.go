package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReadyzReportsEachCheck(t *testing.T) {
	dbDown := errors.New("PostgreSQL is unreachable")
	srv := New(Options{
		Store: &fakeStore{}, Runtime: &fakeRuntime{}, Logger: slog.New(slog.DiscardHandler),
		ReadyChecks: []ReadyCheck{
			{Name: "tenants", Check: func(context.Context) error { return nil }},
			{Name: "database", Check: func(context.Context) error { return dbDown }},
		},
	}).Handler()
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"every check", "/readyz", 503,
			`{"error":{"code":"not_ready","message":"not ready: database: PostgreSQL is unreachable","details":{"checks":{"database":"PostgreSQL is unreachable","tenants":"ok"}}}}`},
		{"database excluded", "/readyz?exclude=database", 200,
			`{"checks":{"database":"excluded","tenants":"ok"},"status":"ready"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, srv, "GET", tt.path, "", "")
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if diff := cmp.Diff(tt.wantBody, strings.TrimSpace(w.Body.String())); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObserveSeesFinalStatusAndRoute(t *testing.T) {
	type seen struct {
		method, route string
		status        int
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	srv := New(Options{
		Store: &fakeStore{}, Runtime: &fakeRuntime{}, Logger: slog.New(slog.DiscardHandler),
		Observe: func(method, route string, status int, _ time.Duration) {
			mu.Lock()
			got = append(got, seen{method, route, status})
			mu.Unlock()
		},
	}).Handler()
	for _, path := range []string{"/healthz", "/api/v1/tenants/abc", "/no/such/path"} {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	want := []seen{
		{"GET", "/healthz", 200},
		{"GET", "/api/v1/tenants/:id", 401}, // no key: the error handler's status, not 200
		{"GET", "unmatched", 404},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}
