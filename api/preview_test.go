package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant"
)

type fakePreviewer struct {
	PreviewFn func(ctx context.Context, specURL string, s tenant.Settings) (*tenant.Preview, error)
}

func (f fakePreviewer) Preview(ctx context.Context, specURL string, s tenant.Settings) (*tenant.Preview, error) {
	return f.PreviewFn(ctx, specURL, s)
}

func TestPreview(t *testing.T) {
	ok := &tenant.Preview{
		Tools:     []tenant.PreviewItem{{Tool: tenant.Tool{Name: "list_items", Kind: "tool", Method: "GET", Path: "/items", Description: "List."}}},
		Resources: []tenant.PreviewItem{}, ResourceTemplates: []tenant.PreviewItem{},
		Report: tenant.PreviewReport{Title: "Shop", Operations: 1, Warnings: []string{"name cut"}, Excluded: []string{}},
	}
	tests := []struct {
		name       string
		key        string
		body       string
		pv         previewer
		wantURL    string
		wantStatus int
		wantCode   string
	}{
		{name: "spec_url defaults from base_url", key: adminKey, body: `{"base_url":"https://shop.example/"}`,
			wantURL: "https://shop.example/openapi.json", wantStatus: 200},
		{name: "explicit spec_url", key: t1Key, body: `{"spec_url":"https://shop.example/v2/spec.json","settings":{"route_maps":[{"mcp_type":"exclude","pattern":"^/admin"}]}}`,
			wantURL: "https://shop.example/v2/spec.json", wantStatus: 200},
		{name: "needs a key", body: `{"base_url":"https://shop.example"}`, wantStatus: 401, wantCode: "unauthorized"},
		{name: "read-only key", key: t1ReadKey, body: `{"base_url":"https://shop.example"}`, wantStatus: 403, wantCode: "forbidden"},
		{name: "bad input", key: adminKey, body: `{"base_url":"ftp://x","settings":{"route_maps":[{"mcp_type":"nope"}]}}`, wantStatus: 422, wantCode: "invalid_input"},
		{name: "unreachable", key: adminKey, body: `{"base_url":"https://down.example"}`, wantURL: "https://down.example/openapi.json",
			pv: fakePreviewer{func(context.Context, string, tenant.Settings) (*tenant.Preview, error) {
				return nil, &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url", Reason: "connection refused"}
			}}, wantStatus: 502, wantCode: "spec_unreachable"},
		{name: "not openapi", key: adminKey, body: `{"base_url":"https://odd.example"}`,
			pv: fakePreviewer{func(context.Context, string, tenant.Settings) (*tenant.Preview, error) {
				return nil, &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url", Reason: "not an OpenAPI document"}
			}}, wantStatus: 422, wantCode: "spec_invalid"},
		{name: "replica busy converting", key: adminKey, body: `{"base_url":"https://big.example"}`,
			pv: fakePreviewer{func(context.Context, string, tenant.Settings) (*tenant.Preview, error) {
				return nil, &tenant.ActivationError{Code: "converter_busy", Field: "spec_url", Reason: "budget taken"}
			}}, wantStatus: 503, wantCode: "converter_busy"},
		{name: "no previewer wired", key: adminKey, body: `{"base_url":"https://shop.example"}`, pv: previewer(nil), wantStatus: 501, wantCode: "not_implemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotURL string
			pv := tc.pv
			if pv == nil && tc.name != "no previewer wired" {
				pv = fakePreviewer{func(_ context.Context, u string, s tenant.Settings) (*tenant.Preview, error) {
					gotURL = u
					return ok, nil
				}}
			}
			if f, isFake := pv.(fakePreviewer); isFake && tc.wantStatus != 200 {
				inner := f.PreviewFn
				pv = fakePreviewer{func(ctx context.Context, u string, s tenant.Settings) (*tenant.Preview, error) {
					gotURL = u
					return inner(ctx, u, s)
				}}
			}
			h := New(Options{Store: &fakeStore{}, Runtime: &fakeRuntime{}, Previewer: pv,
				Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}).Handler()
			w := do(t, h, "POST", "/api/v1/preview", tc.key, tc.body)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantURL != "" && gotURL != tc.wantURL {
				t.Errorf("previewed %q, want %q", gotURL, tc.wantURL)
			}
			if tc.wantStatus == http.StatusOK {
				var got tenant.Preview
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(ok.Tools[0].Name, got.Tools[0].Name); diff != "" || got.Report.Warnings[0] != "name cut" {
					t.Errorf("body = %s", w.Body)
				}
				return
			}
			if tc.wantStatus == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			var e errorbody.Body
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code != tc.wantCode {
				t.Errorf("error = %s, want code %s", w.Body, tc.wantCode)
			}
		})
	}
}
