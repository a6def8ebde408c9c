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

type fakeToolPreviewer struct {
	PreviewTenantFn func(ctx context.Context, id string, req tenant.ToolPreviewRequest) (*tenant.ToolPreview, error)
}

func (f fakeToolPreviewer) PreviewTenant(ctx context.Context, id string, req tenant.ToolPreviewRequest) (*tenant.ToolPreview, error) {
	return f.PreviewTenantFn(ctx, id, req)
}

// TestTenantPreview: the tool editor's preview uses the stored settings
// when the body has none, refuses bad settings and a sample with a call
// before converting anything, passes the runtime's field problems through
// as 422, and never writes (the fake store has no UpdateTenant).
func TestTenantPreview(t *testing.T) {
	stored := tenant.Settings{Names: map[string]string{"listItems": "items"}}
	invalidJQ := &tenant.InvalidError{}
	invalidJQ.Add(`settings.tools["items"].response.jq`, "is not a valid jq expression")
	tests := []struct {
		name       string
		key        string
		body       string
		err        error
		wantStatus int
		wantCode   string
		wantField  string
		wantReq    *tenant.ToolPreviewRequest
	}{
		{name: "stored settings", key: t1Key, body: `{}`, wantStatus: 200, wantReq: &tenant.ToolPreviewRequest{Settings: stored}},
		{name: "given settings and sample", key: t1Key, body: `{"settings":{"tools":{"items":{"name":"list"}}},"sample":{"tool":"list","body":{"a":1}}}`, wantStatus: 200,
			wantReq: &tenant.ToolPreviewRequest{Settings: tenant.Settings{Tools: map[string]tenant.ToolTransform{"items": {Name: "list"}}},
				Sample: &tenant.PreviewSample{Tool: "list", Body: json.RawMessage(`{"a":1}`)}}},
		{name: "settings refused before converting", key: t1Key, body: `{"settings":{"route_maps":[{"mcp_type":"nope"}]}}`, wantStatus: 422, wantCode: "invalid_input", wantField: "settings.route_maps[0].mcp_type"},
		{name: "sample and call", key: t1Key, body: `{"sample":{"tool":"a","body":1},"call":{"tool":"a"}}`, wantStatus: 422, wantCode: "invalid_input", wantField: "call"},
		{name: "unknown field", key: t1Key, body: `{"setings":{}}`, wantStatus: 400, wantCode: "bad_json"},
		{name: "runtime's field problems", key: t1Key, body: `{"settings":{"tools":{"items":{"response":{"jq":"{"}}}}}`, err: invalidJQ,
			wantStatus: 422, wantCode: "invalid_input", wantField: `settings.tools["items"].response.jq`},
		{name: "not serving", key: t1Key, body: `{"call":{"tool":"a"}}`, err: &bridgeLikeNotServing{}, wantStatus: 409, wantCode: "not_serving"},
		{name: "read-only key", key: t1ReadKey, body: `{}`, wantStatus: 403, wantCode: "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *tenant.ToolPreviewRequest
			pv := fakeToolPreviewer{func(_ context.Context, id string, req tenant.ToolPreviewRequest) (*tenant.ToolPreview, error) {
				if id != "t1" {
					t.Errorf("previewed tenant %s", id)
				}
				got = &req
				if tc.err != nil {
					return nil, tc.err
				}
				return &tenant.ToolPreview{Preview: tenant.Preview{Listed: json.RawMessage(`[]`)}}, nil
			}}
			st := &fakeStore{TenantFn: func(_ context.Context, id string) (*tenant.Tenant, error) {
				return &tenant.Tenant{ID: id, Settings: stored}, nil
			}}
			h := New(Options{Store: st, Runtime: &fakeRuntime{}, ToolPreviewer: pv,
				Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}).Handler()
			w := do(t, h, "POST", "/api/v1/tenants/t1/preview", tc.key, tc.body)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Details struct {
						Fields []tenant.FieldProblem `json:"fields"`
					} `json:"details"`
				} `json:"error"`
			}
			json.Unmarshal(w.Body.Bytes(), &e)
			if tc.wantCode != "" && e.Error.Code != tc.wantCode {
				t.Errorf("code = %q, want %q: %s", e.Error.Code, tc.wantCode, w.Body)
			}
			if tc.wantField != "" && (len(e.Error.Details.Fields) == 0 || e.Error.Details.Fields[0].Field != tc.wantField) {
				t.Errorf("fields %v, want %s first", e.Error.Details.Fields, tc.wantField)
			}
			if tc.wantReq != nil {
				if diff := cmp.Diff(tc.wantReq, got); diff != "" {
					t.Errorf("preview request (-want +got):\n%s", diff)
				}
			}
			if tc.wantStatus >= 400 && tc.wantStatus != 409 && tc.err == nil && got != nil {
				t.Errorf("refused input reached the runtime: %+v", got)
			}
		})
	}
}

// bridgeLikeNotServing is what bridge.NotServingError is to the API: a
// sentence that matches tenant.ErrConflict.
type bridgeLikeNotServing struct{}

func (*bridgeLikeNotServing) Error() string        { return "tenant t1 is not active" }
func (*bridgeLikeNotServing) Is(target error) bool { return target == tenant.ErrConflict }
