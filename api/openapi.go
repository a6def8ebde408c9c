package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleOpenAPI serves Portico's own API description. It is public: it holds
// no data, and the management MCP server and client generators read it.
func handleOpenAPI(doc map[string]any) echo.HandlerFunc {
	b, err := json.Marshal(doc)
	if err != nil {
		panic("api: openapi document does not encode: " + err.Error()) // a programming error, caught by tests
	}
	return func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, b)
	}
}

// The document is Go data rather than an embedded file so the helpers below
// keep every operation's shape uniform, and TestOpenAPIMatchesRoutes keeps it
// honest against the router.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func arrayOf(s obj) obj { return obj{"type": "array", "items": s} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// listOf is a list response: an object with one array field, so lists can
// grow paging fields later without breaking clients.
func listOf(field, schema string) obj {
	return object([]string{field}, obj{field: arrayOf(ref(schema))})
}

func jsonContent(schema obj) obj { return obj{"application/json": obj{"schema": schema}} }

func body(schema obj) obj { return obj{"required": true, "content": jsonContent(schema)} }

func resp(desc string, schema obj) obj {
	r := obj{"description": desc}
	if schema != nil {
		r["content"] = jsonContent(schema)
	}
	return r
}

// formatParam picks JSON or CSV.
var formatParam = obj{"name": "format", "in": "query", "schema": obj{"type": "string", "enum": []string{"json", "csv"}, "default": "json"}}

// rangeParams are from and to (RFC 3339), and the older names of each.
func rangeParams(aliases ...string) []obj {
	ps := []obj{
		{"name": "from", "in": "query", "schema": obj{"type": "string", "format": "date-time", "description": "Start of the range (inclusive)."}},
		{"name": "to", "in": "query", "schema": obj{"type": "string", "format": "date-time", "description": "End of the range (exclusive); default now."}},
	}
	for _, a := range aliases {
		ps = append(ps, obj{"name": a, "in": "query", "schema": obj{"type": "string", "format": "date-time", "description": "Older name of " + map[string]string{"since": "from", "until": "to"}[a] + "."}})
	}
	return ps
}

// csvOr adds a text/csv answer beside a JSON one.
func csvOr(r obj) obj {
	r["content"].(obj)["text/csv"] = obj{"schema": obj{"type": "string"}}
	return r
}

func errResp(desc string) obj { return resp(desc, ref("Error")) }

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}, "description": desc}
}

// op builds one operation. Every authenticated operation can fail with the
// same set of errors, so those are added here rather than at each route.
func op(id, summary, tag string, params []obj, reqBody obj, ok string, okResp obj, extra ...string) obj {
	responses := obj{
		ok:    okResp,
		"400": errResp("Malformed JSON, wrong types or unknown fields; the message names the field."),
		"401": errResp("Missing or invalid API key."),
		"403": errResp("The key lacks the scope (write for changes), the role is too low, the CSRF token is missing, or it needs an operator."),
		"429": errResp("Rate limit reached; Retry-After says when to retry."),
		"404": errResp("No such resource, or not visible to this key."),
		"503": errResp("The database is unavailable; retry after Retry-After seconds."),
		"500": errResp("Internal error; the message carries the request id."),
	}
	for _, code := range extra {
		responses[code] = map[string]obj{
			"409": errResp("Conflict with the current state (duplicate or invalid lifecycle transition)."),
			"413": errResp("Request body larger than the limit (1 MiB by default)."),
			"422": errResp("Invalid input; details.fields lists each bad field, or activation failed."),
			"502": errResp("Activation failed because the tenant's spec could not be fetched."),
		}[code]
	}
	o := obj{"operationId": id, "summary": summary, "tags": []string{tag}, "responses": responses}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if reqBody != nil {
		o["requestBody"] = reqBody
	}
	return o
}

func openAPIDocument() map[string]any {
	id := pathParam("id", "Tenant id.")
	ids := []obj{id}
	auditParams := []obj{
		{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
		{"name": "action", "in": "query", "schema": str(`Only this action (e.g. auth.login_failed), or every action with this prefix when it ends in "." (auth.).`)},
		{"name": "since", "in": "query", "schema": obj{"type": "string", "format": "date-time", "description": "Only entries from this time."}},
		{"name": "actor", "in": "query", "schema": str(`Only entries by this actor (the actor field of an entry, e.g. user:<id> or apikey:<id>); user:<id> also matches that user's API keys.`)},
		{"name": "cursor", "in": "query", "schema": str("The next_cursor of the previous page.")},
	}
	noContent := resp("Done.", nil)
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Portico API",
			"version":     "1",
			"description": "Register OpenAPI services as tenants and serve them as MCP servers at /t/{id}/mcp. Errors are always {\"error\":{\"code\",\"message\",\"details\"}}.",
		},
		"servers":  []obj{{"url": "/api/v1"}},
		"security": []obj{{"apiKey": []string{}}, {"session": []string{}}},
		"paths": obj{
			"/openapi.json": obj{"get": obj{
				"operationId": "getOpenAPI", "summary": "This document.", "tags": []string{"meta"},
				"security":  []obj{},
				"responses": obj{"200": resp("The OpenAPI 3.1 document.", obj{"type": "object"})},
			}},
			"/schemas/{name}": obj{"get": obj{
				"operationId": "getSchema", "summary": "A published JSON Schema: portico.yaml.json validates the configuration file `portico apply` takes.", "tags": []string{"meta"},
				"security":   []obj{},
				"parameters": []obj{pathParam("name", "The schema's name, e.g. portico.yaml.json.")},
				"responses": obj{
					"200": obj{"description": "The JSON Schema (draft 2020-12).", "content": obj{"application/schema+json": obj{"schema": obj{"type": "object"}}}},
					"404": errResp("No schema has that name; details.schemas lists the published ones."),
				},
			}},
			"/tenants": obj{
				"get": op("listTenants", "List the tenants this key can see.", "tenants",
					[]obj{{"name": "status", "in": "query", "schema": ref("Status"), "description": "Only tenants in this status."}},
					nil, "200", resp("Tenants.", listOf("tenants", "Tenant")), "422"),
				"post": op("createTenant", "Register a service (admin keys only).", "tenants", nil,
					body(ref("TenantCreate")), "201", resp("Created, pending.", ref("Tenant")), "409", "413", "422"),
			},
			"/preview": obj{"post": op("previewSpec",
				"Fetch and convert a service's OpenAPI document without storing anything: the tools, resources and templates it would become, with warnings.",
				"tenants", nil, body(ref("PreviewRequest")), "200", resp("What the document becomes.", ref("Preview")), "413", "422", "502")},
			"/tenants/{id}": obj{
				"get": op("getTenant", "Get a tenant.", "tenants", ids, nil, "200", resp("The tenant.", ref("Tenant"))),
				"patch": op("updateTenant", "Change some fields; absent fields stay as they are.", "tenants", ids,
					body(ref("TenantPatch")), "200", resp("The updated tenant.", ref("Tenant")), "409", "413", "422"),
				"delete": op("deleteTenant", "Delete a tenant, deactivating it first if active.", "tenants", ids,
					nil, "204", noContent),
			},
			"/tenants/{id}/activate": obj{"post": op("activateTenant",
				"Fetch the spec, convert it and start serving at mcp_url.", "lifecycle", ids, nil,
				"200", resp("The active tenant, with the conformance report of the spec it serves.", obj{"allOf": []obj{ref("Tenant"), obj{"type": "object", "properties": obj{
					"report_summary": str("The report in one line, e.g. OpenAPI 3.1.0: 35 operations -> 33 tools, 2 excluded."),
					"report":         ref("SpecReport")}}}}), "409", "422", "502")},
			"/tenants/{id}/deactivate": obj{"post": op("deactivateTenant",
				"Stop serving; in-flight calls finish first.", "lifecycle", ids, nil,
				"200", resp("The inactive tenant.", ref("Tenant")), "409")},
			"/tenants/{id}/preview": obj{"post": op("previewTenantTools",
				"Convert the tenant's serving spec version with settings not yet saved (the stored ones when absent) and return its tools exactly as tools/list sends them, with an optional sample answer of one tool run through its response shape: sample shapes JSON you give, call calls the service for real. Refuses what PUT settings would refuse (422 naming each field); stores nothing.",
				"tenants", ids, body(ref("ToolPreviewRequest")), "200", resp("The previewed tools.", ref("ToolPreview")), "409", "413", "422", "502")},
			"/tenants/{id}/settings": obj{"put": op("putSettings",
				"Replace the tenant's settings; an active tenant reloads.", "tenants", ids,
				body(ref("Settings")), "200", resp("The updated tenant.", ref("Tenant")), "413", "422")},
			"/tenants/{id}/credentials": obj{"get": op("listCredentials",
				"List credentials (names, types, times; never values).", "credentials", ids, nil,
				"200", resp("Credentials.", listOf("credentials", "Credential")))},
			"/tenants/{id}/credentials/{name}": obj{
				"put": op("putCredential", "Create or replace a credential; an active tenant reloads.", "credentials",
					[]obj{id, pathParam("name", "Credential name: 1-64 of letters, digits, '_', '.', '-'.")},
					body(ref("CredentialPut")), "204", noContent, "413", "422"),
				"delete": op("deleteCredential", "Remove a credential; an active tenant reloads.", "credentials",
					[]obj{id, pathParam("name", "Credential name.")}, nil, "204", noContent),
			},
			"/tenants/{id}/credentials/{name}/test": obj{
				"post": op("testCredential", "Test connection. oauth2_client_credentials: fetch an access token and report the token endpoint's answer (the token is neither kept nor shown). oauth2_authorization_code: check that the authorization and token endpoints answer through the outbound guard, that the token endpoint accepts the client id and secret (an authorization_code grant with a made-up code: invalid_grant means accepted, invalid_client or 401 refused), and, for a signed-in user, that their own linked account still refreshes. A refusal is ok false with the reason.", "credentials",
					[]obj{id, pathParam("name", "Credential name.")}, nil, "200", resp("What the endpoints answered.", ref("CredentialTest")), "422"),
			},
			"/tenants/{id}/prompts": obj{
				"get": op("listPrompts", "List the tenant's prompts, by name.", "prompts", ids, nil,
					"200", resp("Prompts.", listOf("prompts", "Prompt"))),
				"post": op("createPrompt", "Create a prompt, served to MCP clients (prompts/list, prompts/get, completion/complete); connected sessions hear prompts/list_changed.", "prompts", ids,
					body(ref("PromptPut")), "201", resp("The prompt.", ref("Prompt")), "413", "422"),
			},
			"/tenants/{id}/prompts/{name}": obj{
				"get": op("getPrompt", "Read one prompt.", "prompts",
					[]obj{id, pathParam("name", "Prompt name.")}, nil, "200", resp("The prompt.", ref("Prompt"))),
				"put": op("putPrompt", "Replace a prompt whole (a different name in the body renames it); connected sessions hear prompts/list_changed.", "prompts",
					[]obj{id, pathParam("name", "Prompt name.")}, body(ref("PromptPut")), "200", resp("The prompt.", ref("Prompt")), "413", "422"),
				"delete": op("deletePrompt", "Remove a prompt; connected sessions hear prompts/list_changed.", "prompts",
					[]obj{id, pathParam("name", "Prompt name.")}, nil, "204", noContent),
			},
			"/tenants/{id}/toolsets": obj{
				"get": op("listToolsets", "List the tenant's toolsets, by name, each with its MCP URL and (tenant active) what it serves.", "toolsets", ids, nil,
					"200", resp("Toolsets.", listOf("toolsets", "Toolset"))),
				"post": op("createToolset", "Create a toolset: a subset of the tenant's tools served at its own MCP URL, /t/{id}/mcp/{name}. Tools and tags must exist in the serving document (422 naming each that does not). With ?dry_run=true nothing is stored: the answer (200) says what the toolset would serve.", "toolsets", ids,
					body(ref("ToolsetPut")), "201", resp("The toolset.", ref("Toolset")), "413", "422"),
			},
			"/tenants/{id}/toolsets/{name}": obj{
				"get": op("getToolset", "Read one toolset.", "toolsets",
					[]obj{id, pathParam("name", "Toolset name.")}, nil, "200", resp("The toolset.", ref("Toolset"))),
				"put": op("putToolset", "Replace a toolset whole (a different name in the body renames it: its URL changes, tokens restricted to it and prompts attached to it follow); connected sessions hear list_changed.", "toolsets",
					[]obj{id, pathParam("name", "Toolset name.")}, body(ref("ToolsetPut")), "200", resp("The toolset.", ref("Toolset")), "413", "422"),
				"delete": op("deleteToolset", "Remove a toolset; its URL answers 404 and its streams end. Refused (409 toolset_in_use) while unrevoked MCP tokens are restricted to it.", "toolsets",
					[]obj{id, pathParam("name", "Toolset name.")}, nil, "204", noContent, "409"),
			},
			"/tenants/{id}/tokens": obj{
				"get": op("listTokens", "List MCP tokens (never secrets).", "tokens", ids, nil,
					"200", resp("Tokens.", listOf("tokens", "Token"))),
				"post": op("createToken", "Mint an MCP token; the secret is shown once.", "tokens", ids,
					body(ref("TokenCreate")), "201", resp("The token and its secret.", ref("TokenCreated")), "413", "422"),
			},
			"/tenants/{id}/tokens/{token_id}": obj{"delete": op("revokeToken", "Revoke an MCP token at once.", "tokens",
				[]obj{id, pathParam("token_id", "Token id.")}, nil, "204", noContent)},
			"/tenants/{id}/connected-accounts": obj{"get": op("listConnectedAccounts",
				"Your own accounts at the providers of the tenant's oauth2_authorization_code credentials: whether you linked each (any member; a signed-in user or user key).", "linked-accounts", ids, nil,
				"200", resp("One entry per oauth2_authorization_code credential.", listOf("accounts", "ConnectedAccount")), "403")},
			"/tenants/{id}/connected-accounts/{name}": obj{"delete": op("unlinkAccount",
				"Unlink your own account for a credential: its tokens are deleted and your next call on any replica finds none.", "linked-accounts",
				[]obj{id, pathParam("name", "Credential name.")}, nil, "204", noContent, "403")},
			"/tenants/{id}/connected-accounts/{name}/link": obj{"post": op("startLink",
				"Start linking your account for an oauth2_authorization_code credential (dashboard session only): answers the provider's authorization URL (authorization code + PKCE, state bound to tenant, credential and you) and sets the link cookie that binds the flow to this browser. Send the browser there; the provider returns it to /oauth/link/callback, which stores your tokens sealed and sends you back to return_to.", "linked-accounts",
				[]obj{id, pathParam("name", "Credential name.")}, body(object(nil, obj{"return_to": str("A path on Portico to come back to (default /tenants/{id}/accounts); ?linked=<credential> or ?link_error=<why> is added.")})),
				"200", resp("Where to send the browser.", object([]string{"authorize_url"}, obj{"authorize_url": str("The provider's authorization URL.")})), "403", "422")},
			"/tenants/{id}/linked-accounts": obj{"get": op("listLinkedAccounts",
				"Tenant admins: who linked an account for which credential, when, with which scopes (never tokens).", "linked-accounts", ids, nil,
				"200", resp("Linked accounts.", listOf("linked_accounts", "LinkedAccount")), "403")},
			"/tenants/{id}/linked-accounts/{name}/{user}": obj{"delete": op("revokeLinkedAccount",
				"Tenant admins: remove a user's linked account; the user's next call on any replica finds no token.", "linked-accounts",
				[]obj{id, pathParam("name", "Credential name."), pathParam("user", "User id.")}, nil, "204", noContent, "403")},
			"/tenants/{id}/oauth-grants": obj{"get": op("listOAuthGrants",
				"List the applications a member approved through Portico's OAuth authorization server (never tokens).", "tokens", ids, nil,
				"200", resp("Live grants, newest first.", listOf("oauth_grants", "OAuthGrant")))},
			"/tenants/{id}/oauth-grants/{grant_id}": obj{"delete": op("revokeOAuthGrant",
				"Revoke an application's access: every access and refresh token of the grant stops working at once.", "tokens",
				[]obj{id, pathParam("grant_id", "Grant id.")}, nil, "204", noContent)},
			"/tenants/{id}/api-keys": obj{
				"get": op("listTenantAPIKeys", "List the tenant's API keys.", "api-keys", ids, nil,
					"200", resp("API keys.", listOf("api_keys", "APIKey"))),
				"post": op("createTenantAPIKey", "Create a tenant API key; the secret is shown once.", "api-keys", ids,
					body(ref("APIKeyCreate")), "201", resp("The key and its secret.", ref("APIKeyCreated")), "413", "422"),
			},
			"/tenants/{id}/api-keys/{key_id}": obj{"delete": op("revokeTenantAPIKey", "Revoke a tenant API key.", "api-keys",
				[]obj{id, pathParam("key_id", "API key id.")}, nil, "204", noContent)},
			"/tenants/{id}/tools": obj{"get": op("listTools",
				"The live tools, resources and templates of an active tenant.", "tenants", ids, nil,
				"200", resp("Tools.", listOf("tools", "Tool")))},
			"/tenants/{id}/audit": obj{"get": op("listAudit", "Who changed what in this tenant, and its security events, newest first.", "tenants",
				append([]obj{id}, auditParams...), nil, "200", resp("Audit entries.", ref("AuditPage")), "422")},
			"/audit": obj{"get": op("listOperatorAudit",
				"Operator only: the audit log of what belongs to no tenant (users, admin API keys, sign-ins, failed sign-ins, revoked keys presented, CSRF failures), newest first.", "audit",
				auditParams, nil, "200", resp("Audit entries.", ref("AuditPage")), "403", "422")},
			"/tenants/{id}/calls": obj{"get": op("listCalls",
				"Tool calls and resource reads of every replica (newest first), with status, latency split (gateway vs upstream) and sizes, one page at a time; per-minute totals and a summary of the range (default the last 24 h). From the durable call history (raw calls kept PORTICO_CALL_RETENTION_DAYS).", "tenants",
				append([]obj{id,
					{"name": "tool", "in": "query", "schema": str("Only calls of this tool.")},
					{"name": "status", "in": "query", "schema": str("ok, error (every failed call) or an outcome such as upstream_4xx, upstream_5xx, timeout, tool_error.")},
					{"name": "token", "in": "query", "schema": str("Only calls made with this MCP token id.")},
					{"name": "cursor", "in": "query", "schema": str("next_cursor of the previous page.")},
					{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 1000, "default": 200}}},
					rangeParams("since", "until")...),
				nil, "200", resp("Calls.", ref("CallList")), "422")},
			"/tenants/{id}/progress": obj{"get": op("getProgress",
				"Where a running activation or spec refresh stands (phases download, parse, convert, store, serve), whichever replica runs it; kept for a minute after it ends. progress is null when nothing runs. Poll it while POST /activate or /spec/refresh is in flight.", "tenants",
				[]obj{id}, nil, "200", resp("Progress.", ref("ProgressAnswer")))},
			"/tenants/{id}/usage": obj{"get": op("getUsage",
				"Calls, errors, upstream bytes and Portico and upstream latency percentiles per bucket and per tool over a time range (default the last 24 h), from every replica's durable history. format=csv returns the buckets as CSV (text/csv), for metering.", "tenants",
				append([]obj{id,
					{"name": "bucket", "in": "query", "schema": obj{"type": "string", "enum": []string{"minute", "hour", "day"}, "default": "hour"}},
					{"name": "tool", "in": "query", "schema": str("Only this tool.")},
					formatParam}, rangeParams()...),
				nil, "200", csvOr(resp("Usage.", ref("Usage"))), "422")},
			"/usage": obj{"get": op("listDailyUsage",
				"Operator only: metered usage per tenant per UTC day (calls, errors, upstream bytes), exact, from the durable history; default the last 30 days. format=csv returns CSV (text/csv).", "audit",
				append([]obj{{"name": "tenant", "in": "query", "schema": str("Only this tenant.")}, formatParam}, rangeParams()...),
				nil, "200", csvOr(resp("Daily usage.", ref("DailyUsage"))), "403", "422")},
			"/api-keys": obj{
				"get": op("listAdminAPIKeys", "List admin API keys (admin keys only).", "api-keys", nil, nil,
					"200", resp("API keys.", listOf("api_keys", "APIKey"))),
				"post": op("createAdminAPIKey", "Create an admin API key (admin keys only); the secret is shown once.", "api-keys", nil,
					body(ref("APIKeyCreate")), "201", resp("The key and its secret.", ref("APIKeyCreated")), "413", "422"),
			},
			"/auth/login": obj{"post": obj{
				"operationId": "login", "summary": "Sign in with email and password; sets the HttpOnly session cookie and returns the CSRF token.",
				"tags": []string{"auth"}, "security": []obj{}, "requestBody": body(ref("Login")),
				"responses": obj{
					"200": resp("Signed in; Set-Cookie carries the session.", ref("Session")),
					"400": errResp("Malformed JSON."),
					"401": errResp("Wrong email or password (never says which)."),
					"413": errResp("Request body larger than the limit."),
					"429": errResp("Too many sign-in attempts; see Retry-After."),
					"500": errResp("Internal error; the message carries the request id."),
				},
			}},
			"/auth/logout": obj{"post": op("logout", "End the session and clear its cookie (needs X-CSRF-Token).", "auth", nil, nil, "204", noContent)},
			"/auth/me": obj{"get": op("me", "The signed-in user (or user key's owner), memberships and, for sessions, the CSRF token.", "auth",
				nil, nil, "200", resp("The caller.", ref("Session")))},
			"/me/api-keys": obj{
				"get": op("listMyAPIKeys", "List your user API keys.", "api-keys", nil, nil,
					"200", resp("API keys.", listOf("api_keys", "APIKey"))),
				"post": op("createMyAPIKey", "Create a user API key acting with your roles; the secret is shown once.", "api-keys", nil,
					body(ref("APIKeyCreate")), "201", resp("The key and its secret.", ref("APIKeyCreated")), "413", "422"),
			},
			"/me/api-keys/{key_id}": obj{"delete": op("revokeMyAPIKey", "Revoke one of your user API keys.", "api-keys",
				[]obj{pathParam("key_id", "API key id.")}, nil, "204", noContent)},
			"/users": obj{
				"get": op("listUsers", "List users (operators only).", "users", nil, nil, "200", resp("Users.", listOf("users", "User"))),
				"post": op("createUser", "Create a user (operators only).", "users", nil,
					body(ref("UserCreate")), "201", resp("The user.", ref("User")), "409", "413", "422"),
			},
			"/tenants/{id}/members": obj{"get": op("listMembers", "The tenant's members and their roles.", "members", ids, nil,
				"200", resp("Members.", listOf("members", "Member")))},
			"/tenants/{id}/members/{user}": obj{
				"put": op("putMember", "Add a user or change their role (owners only).", "members",
					[]obj{id, pathParam("user", "User id or email.")}, body(ref("MemberPut")), "200", resp("The membership.", ref("Member")), "409", "413", "422"),
				"delete": op("deleteMember", "Remove a user from the tenant (owners only).", "members",
					[]obj{id, pathParam("user", "User id or email.")}, nil, "204", noContent, "409"),
			},
			"/api-keys/{key_id}": obj{"delete": op("revokeAdminAPIKey", "Revoke an admin API key (admin keys only).", "api-keys",
				[]obj{pathParam("key_id", "API key id.")}, nil, "204", noContent)},
		},
		"components": obj{
			"securitySchemes": obj{
				"apiKey": obj{"type": "http", "scheme": "bearer", "bearerFormat": "pk_…",
					"description": "An API key. Admin keys see every tenant; tenant keys only their own; user keys act with their user's roles. Changes need the write scope."},
				"session": obj{"type": "apiKey", "in": "cookie", "name": "__Host-portico_session",
					"description": "Dashboard session from POST /auth/login (portico_session on plain-http local runs). Changes also need the X-CSRF-Token header."},
			},
			"schemas": schemas(),
		},
	}
	addSpecPaths(doc)
	return doc
}

// toolRequired and toolProps describe a tool as the REST API lists it
// (tenant.Tool); the preview's items extend the same description.
var toolRequired = []string{"name", "kind", "method", "path", "description"}

func toolProps() obj {
	return obj{
		"name":          str("MCP name."),
		"title":         str("Display name, from settings.tools."),
		"kind":          obj{"type": "string", "enum": []string{"tool", "resource", "resource_template"}},
		"method":        str("Upstream HTTP method."),
		"path":          str("Upstream path template."),
		"uri":           str("Resource URI or template."),
		"description":   str("Description."),
		"input_schema":  obj{"type": "object"},
		"output_schema": obj{"type": "object"},
	}
}

// merge returns a with b's entries added.
// promptProps are the fields of a prompt as POST and PUT take it.
func promptProps() obj {
	return obj{
		"name":        str("Prompt name: 1-64 of letters, digits, '_', '.', '-', unique in the tenant."),
		"title":       str("A human-readable title."),
		"description": str("What the prompt is for, shown by clients."),
		"arguments":   arrayOf(ref("PromptArgument")),
		"messages":    arrayOf(ref("PromptMessage")),
		"toolsets":    arrayOf(str("A toolset whose endpoint also serves the prompt (the tenant's own endpoint serves every prompt).")),
	}
}

// toolsetProps are the fields of a toolset as POST and PUT take it.
func toolsetProps() obj {
	return obj{
		"name":        str("Toolset name: 1-63 of lowercase letters, digits, '_' and '-', starting with a letter or digit; the last segment of its MCP URL."),
		"description": str("What the toolset is for."),
		"tools":       arrayOf(str("A tool as tools/list names it, an operationId or \"METHOD /path\".")),
		"tags":        arrayOf(str("An OpenAPI (or route map) tag: every operation carrying it is served.")),
		"read_only":   obj{"type": "boolean", "description": "Serve only tools that change nothing: GET and HEAD operations, or tools annotated readOnlyHint. With neither tools nor tags, the toolset serves every (read-only) tool."},
	}
}

func merge(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func schemas() obj {
	timeStr := obj{"type": "string", "format": "date-time"}
	optTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	strs := arrayOf(obj{"type": "string"})
	scopes := arrayOf(obj{"type": "string", "enum": []string{"read", "write"}})
	return obj{
		"Status": obj{"type": "string", "enum": []string{"pending", "active", "inactive", "failed", "suspended"}},
		"Error": object([]string{"error"}, obj{"error": object([]string{"code", "message", "details"}, obj{
			"code":    str("snake_case error code, e.g. invalid_input, not_found, invalid_transition."),
			"message": str("A sentence for humans."),
			"details": obj{"type": "object", "description": "Code-specific; invalid_input has fields: [{field, problem}]."},
		})}),
		"Tenant": object([]string{"id", "name", "base_url", "spec_url", "status", "settings", "mcp_url"}, obj{
			"id":            str("Tenant id."),
			"name":          str("Display name."),
			"base_url":      str("Upstream service URL."),
			"spec_url":      str("Where its OpenAPI document is fetched."),
			"status":        ref("Status"),
			"status_reason": str("Why the tenant is failed or suspended."),
			"settings":      ref("Settings"),
			"spec_version":  obj{"type": "integer"},
			"created_at":    timeStr,
			"updated_at":    timeStr,
			"mcp_url":       str("The URL agents connect to."),
		}),
		"TenantCreate": object([]string{"name", "base_url"}, obj{
			"name":     str("Display name, 1-200 characters."),
			"base_url": obj{"type": "string", "format": "uri", "description": "http(s) URL of the service."},
			"spec_url": obj{"type": "string", "format": "uri", "description": "Defaults to base_url + /openapi.json."},
			"settings": ref("Settings"),
		}),
		"TenantPatch": object(nil, obj{
			"name":     str("Display name."),
			"base_url": obj{"type": "string", "format": "uri"},
			"spec_url": obj{"type": "string", "format": "uri"},
			"settings": ref("Settings"),
		}),
		"Settings": object(nil, obj{
			"route_maps":                        arrayOf(ref("RouteMap")),
			"names":                             obj{"type": "object", "additionalProperties": obj{"type": "string", "maxLength": 64}},
			"upstream_timeout_ms":               obj{"type": "integer", "minimum": 0, "maximum": 300000},
			"timeouts_ms":                       obj{"type": "object", "additionalProperties": obj{"type": "integer", "minimum": 1, "maximum": 300000}, "description": "Per-operation upstream timeouts overriding upstream_timeout_ms, keyed by operationId or \"METHOD /path\"."},
			"max_concurrency":                   obj{"type": "integer", "minimum": 0, "maximum": 10000},
			"forward_headers":                   strs,
			"refresh_interval_s":                obj{"type": "integer", "description": "0 (default) or 30-86400."},
			"rate_limit_per_second":             obj{"type": "number", "minimum": 0, "description": "Tool calls per second for the tenant; 0 = operator default."},
			"rate_limit_burst":                  obj{"type": "integer", "minimum": 0},
			"token_rate_limit_per_second":       obj{"type": "number", "minimum": 0, "description": "Tool calls per second per MCP token; 0 = operator default."},
			"token_rate_limit_burst":            obj{"type": "integer", "minimum": 0},
			"rest_rate_limit_per_second":        obj{"type": "number", "minimum": 0, "maximum": 100000, "description": "REST requests per second on this tenant's routes (/api/v1/tenants/{id}/...); 0 = operator default."},
			"rest_rate_limit_burst":             obj{"type": "integer", "minimum": 0, "maximum": 100000},
			"rest_caller_rate_limit_per_second": obj{"type": "number", "minimum": 0, "maximum": 100000, "description": "REST requests per second per API key or session on this tenant's routes; 0 = only the operator's per-caller limit, which always applies."},
			"rest_caller_rate_limit_burst":      obj{"type": "integer", "minimum": 0, "maximum": 100000, "description": "0 = one second's worth of requests."},
			"max_response_bytes":                obj{"type": "integer", "minimum": 0, "maximum": 268435456, "description": "Upstream response cap; longer results are cut and say so. 0 = operator default."},
			"cors_origins":                      obj{"type": "array", "maxItems": 100, "items": obj{"type": "string", "examples": []string{"https://app.example.com"}}, "description": "Browser origins (scheme://host[:port], no path, no wildcard) whose pages may call the tenant's MCP endpoint through CORS; requests with any other Origin are refused 403. None by default."},
			"identity_assertion":                obj{"type": "object", "additionalProperties": false, "properties": obj{"header": obj{"type": "string", "description": "Header that carries the JWT (default X-Portico-Identity)."}}, "description": "When present, every upstream call carries a JWT (ES256, at most 60 s) signed by Portico naming the caller: iss = Portico's public URL, aud = the tenant's base URL, sub, tenant, scopes, jti; keys at /.well-known/jwks.json. Omit to send none."},
			"listing":                           obj{"type": "string", "enum": []string{"full", "lean"}, "description": "How tools/list shows the tools: full (default) or lean (first paragraph of each description, no output schemas, input schemas unchanged, plus describe_tool for the full text)."},
			"tools":                             obj{"type": "object", "additionalProperties": ref("ToolTransform"), "description": "How single tools look to agents and what their calls send and return, keyed by tool name, operationId or \"METHOD /path\". A key, argument, fixed value or jq expression that does not fit the tenant's document is refused with 422 naming it."},
		}),
		"ToolTransform": object(nil, obj{
			"name":        obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The tool's new name."},
			"title":       obj{"type": "string", "maxLength": 200},
			"description": obj{"type": "string", "maxLength": 16384},
			"tags":        strs,
			"annotations": object(nil, obj{"title": obj{"type": "string"}, "readOnlyHint": obj{"type": "boolean"}, "destructiveHint": obj{"type": "boolean"}, "idempotentHint": obj{"type": "boolean"}, "openWorldHint": obj{"type": "boolean"}}),
			"hidden":      obj{"type": "boolean", "description": "Not served at all."},
			"args":        obj{"type": "object", "additionalProperties": ref("ArgTransform"), "description": "Keyed by the argument's name in the converted input schema."},
			"response":    ref("ResponseShape"),
		}),
		"ArgTransform": object(nil, obj{
			"name":        obj{"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$", "description": "The name agents use; calls still send the original parameter."},
			"description": obj{"type": "string", "maxLength": 4096},
			"default":     obj{"description": "Sent when the agent gives none; listed as the argument's default. Must fit the parameter's schema."},
			"fixed":       obj{"description": "Always sent; the argument leaves the input schema. Must fit the parameter's schema."},
			"hidden":      obj{"type": "boolean", "description": "Leaves the input schema; needs a default."},
			"required":    obj{"type": "boolean"},
		}),
		"ResponseShape": object(nil, obj{
			"jq":        obj{"type": "string", "maxLength": 4096, "description": "jq expression applied to the upstream's JSON; the result is what the agent sees, and the output schema follows it."},
			"max_bytes": obj{"type": "integer", "minimum": 0, "maximum": 268435456, "description": "Longer results are cut, with a note saying how to ask for less."},
			"select":    obj{"type": "boolean", "description": "The tool takes an optional _select argument: a jq expression the agent applies to the result. Its output schema is left out."},
		}),
		"RouteMap": object([]string{"mcp_type"}, obj{
			"methods":  strs,
			"pattern":  str("Regular expression matched against the path."),
			"tags":     strs,
			"mcp_type": obj{"type": "string", "enum": []string{"tool", "resource", "resource_template", "exclude"}},
			"mcp_tags": strs,
		}),
		"Credential": object([]string{"name", "type", "created_at", "updated_at"}, obj{
			"name":          str("Credential name."),
			"type":          ref("CredentialType"),
			"header":        str("Header (or query parameter) name."),
			"authorize_url": str("oauth2_authorization_code: the provider's authorization endpoint, where each user links their account."),
			"token_url":     str("oauth2_client_credentials, oauth2_authorization_code: the token endpoint."),
			"client_id":     str("oauth2_client_credentials, oauth2_authorization_code: the client id."),
			"scopes":        arrayOf(str("oauth2_client_credentials, oauth2_authorization_code: a scope requested.")),
			"audience":      str("oauth2_client_credentials, oauth2_authorization_code: the audience parameter sent to the provider."),
			"auth_method":   ref("TokenAuthMethod"),
			"created_at":    timeStr,
			"updated_at":    timeStr,
		}),
		"CredentialTest": object([]string{"ok"}, obj{
			"ok":         obj{"type": "boolean", "description": "The token endpoint issued a token."},
			"token_type": str("The token's type, such as Bearer."),
			"expires_in": obj{"type": "integer", "description": "Seconds until the token expires; absent when the endpoint gave no expiry."},
			"error":      str("Why no token was issued: the token endpoint's error code, or why it could not be reached; for oauth2_authorization_code, the first failed check."),
			"summary":    str("oauth2_authorization_code: every check's sentence, in order."),
			"checks":     arrayOf(ref("CredentialCheck")),
		}),
		"CredentialCheck": object([]string{"check", "status", "message"}, obj{
			"check":   obj{"type": "string", "enum": []string{"authorize_endpoint", "token_endpoint", "client_authentication", "linked_account"}, "description": "What was checked."},
			"status":  obj{"type": "string", "enum": []string{"ok", "failed", "skipped"}, "description": "skipped: nothing to check (no linked account, no user, an endpoint not reached)."},
			"code":    str("The endpoint's error code (invalid_grant, invalid_client, ...), HTTP <status>, blocked_address, unreachable or not_linked."),
			"message": str("A sentence for people; never a secret or a token."),
		}),
		"PromptPut": object([]string{"name", "messages"}, promptProps()),
		"Prompt":    object([]string{"name", "description", "arguments", "messages", "created_at", "updated_at"}, merge(promptProps(), obj{"created_at": timeStr, "updated_at": timeStr})),
		"PromptArgument": object([]string{"name"}, obj{
			"name":        str("Argument name: 1-64 of letters, digits, '_', '.', '-', unique in the prompt; messages name it as {{name}}."),
			"description": str("What the argument is, for the client."),
			"required":    obj{"type": "boolean", "description": "prompts/get without it is refused (-32602)."},
			"completions": arrayOf(str("A value completion/complete offers (those starting with what the client typed; at most 100 per answer).")),
		}),
		"PromptMessage": object([]string{"role"}, obj{
			"role": obj{"type": "string", "enum": []string{"user", "assistant"}},
			"text": str("Text with {{argument}} placeholders. A message has exactly one of text, image and resource."),
			"image": object([]string{"data", "mime_type"}, obj{
				"data":      str("The image's bytes in standard base64 (at most 1 MiB)."),
				"mime_type": str("An image media type, e.g. image/png."),
			}),
			"resource": object([]string{"uri", "text"}, obj{
				"uri":       str("The embedded resource's URI; may hold placeholders."),
				"mime_type": str("Its media type, e.g. text/plain."),
				"text":      str("Its text; may hold placeholders."),
			}),
		}),
		"CredentialType":  obj{"type": "string", "enum": []string{"bearer", "header", "basic", "query", "oauth2_client_credentials", "oauth2_authorization_code"}},
		"TokenAuthMethod": obj{"type": "string", "enum": []string{"client_secret_basic", "client_secret_post"}, "description": "How the client authenticates to the token endpoint (default client_secret_basic)."},
		"CredentialPut": object([]string{"type", "value"}, obj{
			"type":          ref("CredentialType"),
			"header":        str("Required for header and query types; for bearer, oauth2_client_credentials and oauth2_authorization_code, a header to use instead of Authorization."),
			"value":         obj{"type": "string", "writeOnly": true, "maxLength": 8192, "description": "Never returned. For oauth2_client_credentials and oauth2_authorization_code, the client secret."},
			"authorize_url": str("oauth2_authorization_code (required): the provider's authorization endpoint, an http(s) URL that upstream calls may reach."),
			"token_url":     str("oauth2_client_credentials, oauth2_authorization_code (required): the token endpoint, an http(s) URL that upstream calls may reach."),
			"client_id":     str("oauth2_client_credentials, oauth2_authorization_code (required): the client id."),
			"scopes":        arrayOf(str("A scope to request.")),
			"audience":      str("oauth2_client_credentials: sent as the audience parameter (Auth0, Okta and others use it)."),
			"auth_method":   ref("TokenAuthMethod"),
		}),
		"Token": object([]string{"id", "tenant_id", "name", "prefix", "created_at"}, obj{
			"id":           str("Token id."),
			"tenant_id":    str("Tenant id."),
			"name":         str("Name."),
			"prefix":       str("First characters of the secret, to recognise it."),
			"created_at":   timeStr,
			"expires_at":   optTime,
			"last_used_at": optTime,
			"toolsets":     arrayOf(str("A toolset the token is restricted to; absent: unrestricted.")),
		}),
		"ConnectedAccount": object([]string{"credential", "provider", "scopes", "linked"}, obj{
			"credential":     str("The oauth2_authorization_code credential."),
			"provider":       str("The host of the provider's authorization endpoint."),
			"scopes":         arrayOf(str("A scope the credential requests.")),
			"linked":         obj{"type": "boolean", "description": "You linked your account: your calls send your own token."},
			"linked_at":      optTime,
			"granted_scopes": arrayOf(str("A scope the provider granted.")),
		}),
		"LinkedAccount": object([]string{"credential", "user_id", "email", "scopes", "linked_at"}, obj{
			"credential":   str("The oauth2_authorization_code credential."),
			"user_id":      str("The user who linked."),
			"email":        str("That user's email."),
			"scopes":       arrayOf(str("A scope the provider granted.")),
			"linked_at":    timeStr,
			"refreshed_at": optTime,
		}),
		"OAuthGrant": object([]string{"id", "tenant_id", "client_id", "client_name", "user_id", "user_email", "scopes", "created_at"}, obj{
			"id":             str("Grant id."),
			"tenant_id":      str("Tenant id."),
			"client_id":      str("OAuth client id: a registered id or a Client ID Metadata Document URL."),
			"client_name":    str("The name the client gave itself (unverified)."),
			"user_id":        str("The user who approved."),
			"user_email":     str("That user's email."),
			"scopes":         arrayOf(str("Scope.")),
			"created_at":     timeStr,
			"last_issued_at": optTime,
		}),
		"ToolsetPut": object([]string{"name"}, toolsetProps()),
		"Toolset": object([]string{"name", "tools", "tags", "read_only", "mcp_url", "created_at", "updated_at"}, merge(toolsetProps(), obj{
			"mcp_url":    str("The toolset's MCP URL, /t/{id}/mcp/{name}."),
			"serves":     arrayOf(str("A tool, resource or template the toolset serves now (absent while the tenant is not active).")),
			"created_at": timeStr, "updated_at": timeStr,
		})),
		"TokenCreate": object([]string{"name"}, obj{
			"toolsets":   arrayOf(str("Restrict the token to this toolset's URL (403 elsewhere, the tenant's own endpoint included).")),
			"name":       str("Name, 1-200 characters."),
			"expires_at": obj{"type": "string", "format": "date-time", "description": "RFC 3339, in the future."},
		}),
		"TokenCreated": object([]string{"token", "secret"}, obj{
			"token":  ref("Token"),
			"secret": str("mcp_… bearer token; shown only here."),
		}),
		"APIKey": object([]string{"id", "name", "prefix", "scopes", "created_at"}, obj{
			"id":           str("Key id."),
			"tenant_id":    str("Set for tenant keys."),
			"user_id":      str("Set for user keys."),
			"name":         str("Name."),
			"prefix":       str("First characters of the secret."),
			"scopes":       scopes,
			"created_at":   timeStr,
			"last_used_at": optTime,
		}),
		"APIKeyCreate": object([]string{"name", "scopes"}, obj{
			"name":   str("Name, 1-200 characters."),
			"scopes": scopes,
		}),
		"APIKeyCreated": object([]string{"api_key", "secret"}, obj{
			"api_key": ref("APIKey"),
			"secret":  str("pk_… API key; shown only here."),
		}),
		"Tool": object(toolRequired, toolProps()),
		"PreviewRequest": object(nil, obj{
			"base_url": obj{"type": "string", "format": "uri", "description": "Service URL; required unless spec_url is given."},
			"spec_url": obj{"type": "string", "format": "uri", "description": "Defaults to base_url + /openapi.json."},
			"settings": ref("Settings"),
		}),
		// A preview item is a tool plus where it came from in the document.
		"PreviewItem": object(toolRequired, merge(toolProps(), obj{
			"operation_id": str("operationId in the document."),
			"tags":         strs,
			"settings_key": str("The settings.tools key that reshapes this tool, when one does (tenant previews)."),
		})),
		"Preview": object([]string{"tools", "resources", "resource_templates", "report"}, obj{
			"tools":              arrayOf(ref("PreviewItem")),
			"resources":          arrayOf(ref("PreviewItem")),
			"resource_templates": arrayOf(ref("PreviewItem")),
			"report":             ref("ConversionReport"),
			"listed":             arrayOf(obj{"type": "object", "description": "A tool as tools/list sends it (name, title, description, inputSchema, outputSchema, annotations)."}),
		}),
		"ToolPreviewRequest": object(nil, obj{
			"settings": ref("Settings"),
			"sample": object([]string{"tool", "body"}, obj{
				"tool": str("The tool as the preview lists it, or its settings.tools key."),
				"body": obj{"description": "The upstream's JSON answer to shape."},
			}),
			"call": object([]string{"tool"}, obj{
				"tool":      str("The tool as the preview lists it, or its settings.tools key."),
				"arguments": obj{"type": "object", "description": "Arguments as an agent sends them under the previewed settings."},
			}),
		}),
		"ToolPreview": object([]string{"tools", "resources", "resource_templates", "report", "listed", "spec_version"}, obj{
			"tools":              arrayOf(ref("PreviewItem")),
			"resources":          arrayOf(ref("PreviewItem")),
			"resource_templates": arrayOf(ref("PreviewItem")),
			"report":             ref("ConversionReport"),
			"listed":             arrayOf(obj{"type": "object", "description": "A tool as tools/list sends it (name, title, description, inputSchema, outputSchema, annotations)."}),
			"spec_version":       obj{"type": "integer"},
			"sample": object([]string{"tool", "source", "result"}, obj{
				"tool":   str("The tool's previewed name."),
				"source": obj{"type": "string", "enum": []string{"sample", "call"}},
				"upstream": object([]string{"status", "bytes"}, obj{
					"status":       obj{"type": "integer"},
					"content_type": str("The upstream's Content-Type."),
					"body":         obj{"description": "The upstream's JSON answer."},
					"text":         str("The upstream's answer when it is not JSON."),
					"bytes":        obj{"type": "integer"},
					"ms":           obj{"type": "number"},
				}),
				"result": obj{"type": "object", "description": "The MCP tools/call result an agent would get."},
			}),
		}),
		"Login": object([]string{"email", "password"}, obj{
			"email":    str("Account email."),
			"password": obj{"type": "string", "writeOnly": true},
		}),
		"User": object([]string{"id", "email", "operator", "created_at"}, obj{
			"id":         str("User id."),
			"email":      str("Email."),
			"operator":   obj{"type": "boolean", "description": "Operators see and manage every tenant."},
			"created_at": timeStr,
		}),
		"UserCreate": object([]string{"email", "password"}, obj{
			"email":    str("Email, unique regardless of case."),
			"password": obj{"type": "string", "writeOnly": true, "minLength": 12, "maxLength": 1024},
			"operator": obj{"type": "boolean", "default": false},
		}),
		"Role":      obj{"type": "string", "enum": []string{"owner", "admin", "viewer"}},
		"MemberPut": object([]string{"role"}, obj{"role": ref("Role")}),
		"Member": object([]string{"tenant_id", "user_id", "email", "role"}, obj{
			"tenant_id":  str("Tenant id."),
			"user_id":    str("User id."),
			"email":      str("The user's email."),
			"role":       ref("Role"),
			"created_at": timeStr,
			"updated_at": timeStr,
		}),
		"Session": object([]string{"user", "auth", "memberships"}, obj{
			"user":        ref("User"),
			"auth":        obj{"type": "string", "enum": []string{"session", "api_key"}},
			"csrf_token":  str("Send as X-CSRF-Token with every cookie-authenticated change."),
			"expires_at":  timeStr,
			"memberships": arrayOf(ref("Member")),
		}),
		"ProgressAnswer": object([]string{"progress"}, obj{
			"progress": obj{"oneOf": []obj{{"type": "null"}, ref("Progress")}},
		}),
		"Progress": object([]string{"tenant_id", "op", "phase", "done", "started_at", "at"}, obj{
			"tenant_id":  str("Tenant id."),
			"op":         obj{"type": "string", "enum": []string{"activate", "refresh"}},
			"phase":      obj{"type": "string", "enum": []string{"download", "parse", "convert", "store", "serve"}},
			"detail":     str("What the phase is doing, e.g. the document's size and operation count."),
			"done":       obj{"type": "boolean", "description": "The work ended; error says whether it failed."},
			"error":      str("Why the work failed (never a secret)."),
			"started_at": timeStr,
			"at":         obj{"type": "string", "format": "date-time", "description": "When this phase began, or when the work ended."},
			"steps": arrayOf(object([]string{"phase", "at"}, obj{
				"phase":  obj{"type": "string"},
				"detail": obj{"type": "string"},
				"at":     timeStr,
			})),
		}),
		"AuditPage": object([]string{"audit"}, obj{
			"audit":       arrayOf(ref("AuditEntry")),
			"next_cursor": str("Present when there may be more: pass it as ?cursor= for the next (older) page."),
		}),
		"AuditEntry": object([]string{"id", "tenant_id", "actor", "action", "created_at"}, obj{
			"id":         obj{"type": "integer"},
			"tenant_id":  str("Tenant id."),
			"actor":      str("Who, e.g. apikey:<key id> or user:<user id>."),
			"actor_name": str("Who, for people: the user's email, the API key's name (absent when unknown)."),
			"source":     str("The client address the change came from."),
			"action":     str("What, e.g. tenant.update."),
			"details":    obj{"type": "object"},
			"created_at": timeStr,
		}),
		"CallRecord": object([]string{"at", "kind", "tool", "status", "is_error", "latency_ms", "upstream_ms", "gateway_ms", "bytes"}, obj{
			"at":              timeStr,
			"kind":            obj{"type": "string", "enum": []string{"tool", "resource"}},
			"tool":            str("The tool's (or resource's) MCP name."),
			"token_id":        str("The MCP token the call was made with."),
			"status":          str("ok, or the error class: tool_error, upstream_4xx, upstream_5xx, transport, timeout, circuit_open, busy, invalid_args, rate_limited, internal_error."),
			"is_error":        obj{"type": "boolean"},
			"upstream_status": obj{"type": "integer", "description": "The upstream's HTTP status, when it answered."},
			"latency_ms":      obj{"type": "number", "description": "The whole call as Portico saw it."},
			"upstream_ms":     obj{"type": "number", "description": "Waiting for the tenant's service."},
			"gateway_ms":      obj{"type": "number", "description": "Portico's own share (latency_ms - upstream_ms)."},
			"bytes":           obj{"type": "integer", "description": "The upstream's response body, in bytes."},
			"error":           str("The start of a failed call's message, credentials redacted (never arguments or results)."),
		}),
		"CallBucket": object([]string{"start", "calls", "errors", "latency_sum_ms", "latency_max_ms"}, obj{
			"start":           timeStr,
			"calls":           obj{"type": "integer"},
			"errors":          obj{"type": "integer"},
			"latency_sum_ms":  obj{"type": "number"},
			"latency_max_ms":  obj{"type": "number"},
			"upstream_sum_ms": obj{"type": "number"},
		}),
		"CallList": object([]string{"calls", "next_cursor", "buckets", "summary", "bucket_seconds", "scope"}, obj{
			"calls":       arrayOf(ref("CallRecord")),
			"next_cursor": str("Pass as cursor for the next page; empty on the last page."),
			"buckets":     arrayOf(ref("CallBucket")),
			"summary": object([]string{"calls", "errors", "error_rate"}, obj{
				"calls": obj{"type": "integer"}, "errors": obj{"type": "integer"}, "error_rate": obj{"type": "number"},
			}),
			"bucket_seconds": obj{"type": "integer", "description": "Width of a bucket: 60."},
			"scope":          obj{"type": "string", "enum": []string{"fleet"}, "description": "Calls of every replica."},
		}),
		"Latency": object([]string{"p50", "p95", "p99"}, obj{
			"p50": obj{"type": "number"}, "p95": obj{"type": "number"}, "p99": obj{"type": "number"},
		}),
		"UsageStats": object([]string{"calls", "errors", "upstream_bytes", "portico_ms", "upstream_ms"}, obj{
			"start":          obj{"type": "string", "format": "date-time", "description": "The bucket's start (buckets only)."},
			"tool":           str("The tool (per-tool figures only)."),
			"calls":          obj{"type": "integer"},
			"errors":         obj{"type": "integer"},
			"upstream_bytes": obj{"type": "integer"},
			"portico_ms":     ref("Latency"),
			"upstream_ms":    ref("Latency"),
		}),
		"Usage": object([]string{"from", "to", "bucket", "buckets", "tools", "total"}, obj{
			"from": timeStr, "to": timeStr,
			"bucket":  obj{"type": "string", "enum": []string{"minute", "hour", "day"}},
			"buckets": arrayOf(ref("UsageStats")),
			"tools":   arrayOf(ref("UsageStats")),
			"total":   ref("UsageStats"),
		}),
		"UsageDay": object([]string{"tenant_id", "day", "calls", "errors", "upstream_bytes"}, obj{
			"tenant_id": str("Tenant id."), "day": timeStr,
			"calls": obj{"type": "integer"}, "errors": obj{"type": "integer"}, "upstream_bytes": obj{"type": "integer"},
		}),
		"DailyUsage": object([]string{"from", "to", "days"}, obj{
			"from": timeStr, "to": timeStr, "days": arrayOf(ref("UsageDay")),
		}),
	}
}

// OpenAPI returns Portico's own OpenAPI document as served at
// /api/v1/openapi.json, for tools generated from it (Portico's own /mcp).
func OpenAPI() []byte {
	b, err := json.Marshal(openAPIDocument())
	if err != nil {
		panic("api: openapi document does not encode: " + err.Error())
	}
	return b
}
