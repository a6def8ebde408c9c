package bridge

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// TestConversionReport: the report counts what the document had and what
// it became, lists the names changed and the features not carried over.
func TestConversionReport(t *testing.T) {
	long := strings.Repeat("very_long_operation_name_", 4)
	spec := `{"openapi":"3.1.0","info":{"title":"R","version":"7"},
"webhooks":{"newPet":{"post":{"responses":{"200":{"description":"ok"}}}}},
"components":{"securitySchemes":{"oauth":{"type":"oauth2","flows":{}},"key":{"type":"apiKey","in":"header","name":"X-Key"}}},
"paths":{
 "/a":{"get":{"operationId":"dup","responses":{"200":{"description":"ok"}}},
       "post":{"operationId":"dup","callbacks":{"done":{"{$request.body#/url}":{"post":{"responses":{"200":{"description":"ok"}}}}}},
         "requestBody":{"content":{"application/json":{"schema":{"type":"object"}},"application/xml":{"schema":{"type":"object"}}}},
         "responses":{"200":{"description":"ok"}}}},
 "/b":{"get":{"operationId":"` + long + `","responses":{"200":{"description":"ok"}}}},
 "/c/{id}":{"get":{"operationId":"get_c","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}}}},
 "/admin":{"delete":{"operationId":"wipe","responses":{"204":{"description":"gone"}}}}}}`
	conv, err := Convert([]byte(spec), openapi.Options{RouteMaps: []tenant.RouteMap{
		{Pattern: "^/admin", MCPType: tenant.KindExclude},
		{Methods: []string{"GET"}, Pattern: `\{`, MCPType: tenant.KindResourceTemplate},
	}}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := conv.Report
	r.Warnings = nil
	if r.Cost == nil || len(r.Cost.Tools) != 3 {
		t.Errorf("cost = %+v, want one entry per tool (TestToolCost checks the figures)", r.Cost)
	}
	r.Cost = nil
	cut := conv.Operations[2].Name
	want := tenant.ConversionReport{
		Title: "R", Version: "7", Dialect: "OpenAPI 3.1.0",
		Seen: 5, Operations: 4, Tools: 3, ResourceTemplates: 1,
		Excluded:      []string{"DELETE /admin"},
		NamesCut:      []tenant.NameChange{{Operation: "GET /b", From: strings.TrimSuffix(long, "_"), To: cut}},
		NamesSuffixed: []tenant.NameChange{{Operation: "POST /a", From: "dup", To: "dup_2"}},
		Unsupported: []tenant.UnsupportedFeature{
			{Feature: "webhooks", Count: 1, Instead: "not converted: they are requests the service sends, not operations a client calls"},
			{Feature: "OAuth 2 / OpenID Connect security schemes", Count: 1, Instead: "no flow is run: store a token the service accepts as a bearer credential"},
			{Feature: "callbacks", Count: 1, Instead: "not converted: the operation is a tool without them"},
			{Feature: "request bodies offered in several media types", Count: 1, Instead: "one is used: JSON first, then form, then multipart, then the first listed"},
		},
		// Every key a per-operation setting may use, the excluded one too.
		OperationKeys: []string{"dup", "GET /a", "dup", "POST /a", long, "GET /b", "get_c", "GET /c/{id}", "wipe", "DELETE /admin"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if len(cut) > openapi.MaxNameLen || !strings.HasPrefix(cut, "very_long_operation_name_very") {
		t.Errorf("cut name %q: want a prefix of the operationId of at most %d characters", cut, openapi.MaxNameLen)
	}
	if got, want := conv.Report.Summary(), "OpenAPI 3.1.0: 5 operations -> 3 tools, 1 resource template, 1 excluded, 1 name cut, 1 name suffixed, 4 unsupported features, "; !strings.HasPrefix(got, want) {
		t.Errorf("Summary() = %q, want prefix %q", got, want)
	}
}
