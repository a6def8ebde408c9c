package api

// addSpecPaths documents the spec cache routes (spec.go) in doc.
func addSpecPaths(doc obj) {
	id := pathParam("id", "Tenant id.")
	ids := []obj{id}
	ver := []obj{id, obj{"name": "v", "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 1}, "description": "Spec version."}}
	refreshed := resp("The refresh result.", ref("RefreshResult"))
	paths := doc["paths"].(obj)
	paths["/tenants/{id}/spec"] = obj{"get": op("getSpecStatus",
		"Spec cache state: newest, pinned and serving versions, last refresh and its error.", "spec", ids, nil,
		"200", resp("The spec status.", ref("SpecStatus")))}
	paths["/tenants/{id}/spec/report"] = obj{"get": op("getSpecReport",
		"Conformance report of the serving spec version converted with the tenant's settings: operations seen, tools, resources and templates made, excluded operations, names cut or suffixed, document features not carried over and what was done instead, warnings.",
		"spec", ids, nil, "200", resp("The report.", ref("SpecReport")))}
	paths["/tenants/{id}/spec/refresh"] = obj{"post": op("refreshSpec",
		"Re-fetch the spec now (conditional GET). Unchanged bytes cost no conversion; a changed spec is stored with its diff and swapped in. On failure nothing is stored and the tenant keeps serving.",
		"spec", ids, nil, "200", refreshed, "409", "422", "502")}
	paths["/tenants/{id}/spec/versions"] = obj{"get": op("listSpecVersions",
		"Stored spec versions, newest first, with diff counts, and the spec status.", "spec", ids, nil,
		"200", resp("Versions.", object([]string{"versions", "status"}, obj{
			"versions": arrayOf(ref("SpecVersion")), "status": ref("SpecStatus")})))}
	paths["/tenants/{id}/spec/versions/{v}"] = obj{"get": op("getSpecVersion",
		"One spec version with its diff against the version before it.", "spec", ver, nil,
		"200", resp("The version.", ref("SpecVersion")), "422")}
	paths["/tenants/{id}/spec/versions/{v}/pin"] = obj{"post": op("pinSpecVersion",
		"Serve this version (rollback) on every replica until unpinned.", "spec", ver, nil,
		"200", resp("The spec status.", ref("SpecStatus")), "422")}
	paths["/tenants/{id}/spec/unpin"] = obj{"post": op("unpinSpec",
		"Follow the newest version again.", "spec", ids, nil, "200", resp("The spec status.", ref("SpecStatus")))}
	paths["/tenants/{id}/spec/hook-secret"] = obj{
		"post": op("rotateSpecHookSecret", "Set a new webhook secret (shown once); the old one stops working.", "spec", ids, nil,
			"201", resp("The secret and how to sign.", object([]string{"secret"}, obj{
				"secret": str("whsec_…, shown once."), "signature_header": str("Header carrying sha256=<hex>."),
				"timestamp_header": str("Header carrying Unix seconds."), "scheme": str("How the signature is computed.")}))),
		"delete": op("deleteSpecHookSecret", "Disable the webhook.", "spec", ids, nil, "204", resp("Done.", nil)),
	}
	hook := op("specHook",
		"Signed refresh trigger for deploy pipelines: X-Portico-Timestamp (Unix seconds, within 5 minutes) and X-Portico-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + \".\" + body)). No API key.",
		"spec", ids, obj{"content": obj{"*/*": obj{"schema": obj{}}}}, "200", refreshed, "409", "413", "422", "502")
	hook["security"] = []obj{}
	hook["responses"].(obj)["401"] = errResp("Bad, stale or replayed signature, or no webhook secret set.")
	paths["/tenants/{id}/spec/hook"] = obj{"post": hook}

	schemas := doc["components"].(obj)["schemas"].(obj)
	toolRef := obj{"name": str("MCP name."), "kind": str("tool, resource or resource_template."),
		"method": str("Upstream method."), "path": str("Upstream path."), "uri": str("Resource URI.")}
	changed := obj{"fields": arrayOf(str("input_schema, output_schema, description, method, path, kind or request."))}
	for k, v := range toolRef {
		changed[k] = v
	}
	schemas["ToolRef"] = object([]string{"name", "kind", "method", "path"}, toolRef)
	schemas["ToolChange"] = object([]string{"name", "kind", "method", "path", "fields"}, changed)
	schemas["SpecDiff"] = object([]string{"added", "removed", "changed"}, obj{
		"added": arrayOf(ref("ToolRef")), "removed": arrayOf(ref("ToolRef")), "changed": arrayOf(ref("ToolChange"))})
	count := obj{"type": "integer"}
	schemas["RefreshResult"] = object([]string{"version", "changed", "diff"}, obj{
		"version": obj{"type": "integer", "description": "Newest version after the refresh."},
		"changed": obj{"type": "boolean", "description": "A new version was stored."},
		"diff":    ref("SpecDiff")})
	timeStr := obj{"type": "string", "format": "date-time"}
	nullable := func(o obj) obj { return obj{"oneOf": []obj{o, {"type": "null"}}} }
	schemas["SpecVersion"] = object([]string{"tenant_id", "version", "sha256", "tool_count", "warnings", "fetched_at", "diff_summary"}, obj{
		"tenant_id": str("Tenant id."), "version": count, "sha256": str("SHA-256 of the document."),
		"etag": str("ETag the spec endpoint sent."), "last_modified": str("Last-Modified the spec endpoint sent."),
		"tool_count": count, "warnings": arrayOf(str("Conversion warning.")), "fetched_at": timeStr,
		"diff_summary": object([]string{"added", "removed", "changed"}, obj{"added": count, "removed": count, "changed": count}),
		"diff":         ref("SpecDiff")})
	report := conversionReportProps()
	schemas["ConversionReport"] = object(conversionReportRequired, report)
	withVersion := obj{"spec_version": obj{"type": "integer", "description": "The spec version the report is about."}}
	for k, v := range report {
		withVersion[k] = v
	}
	schemas["SpecReport"] = object(append([]string{"spec_version"}, conversionReportRequired...), withVersion)
	schemas["SpecStatus"] = object([]string{"tenant_id", "newest_version", "serving_version", "status"}, obj{
		"tenant_id": str("Tenant id."), "newest_version": count, "pinned_version": nullable(count),
		"serving_version": count, "live_version": obj{"type": "integer", "description": "What the answering replica serves."},
		"refresh_interval_s": count, "hook_enabled": obj{"type": "boolean"},
		"last_refresh_error": str("Why the last refresh failed; empty after a success."),
		"last_refresh_at":    nullable(timeStr), "last_refresh_error_at": nullable(timeStr),
		"status": ref("Status")})
}

var conversionReportRequired = []string{"title", "version", "dialect", "operations_seen", "operations", "tools", "resources",
	"resource_templates", "excluded", "names_cut", "names_suffixed", "unsupported", "warnings"}

// conversionReportProps describes tenant.ConversionReport.
func conversionReportProps() obj {
	count := obj{"type": "integer"}
	change := object([]string{"operation", "from", "to"}, obj{
		"operation": str("METHOD /path."), "from": str("Name before."), "to": str("Name given.")})
	return obj{
		"title":              str("info.title of the document."),
		"version":            str("info.version of the document."),
		"dialect":            str("OpenAPI or Swagger and its version, e.g. OpenAPI 3.1.0."),
		"operations_seen":    obj{"type": "integer", "description": "Operations in the document."},
		"operations":         obj{"type": "integer", "description": "Operations converted: tools + resources + resource templates."},
		"tools":              count,
		"resources":          count,
		"resource_templates": count,
		"excluded":           arrayOf(str("METHOD /path a route map excluded.")),
		"names_cut":          arrayOf(change),
		"names_suffixed":     arrayOf(change),
		"unsupported": arrayOf(object([]string{"feature", "count", "instead"}, obj{
			"feature": str("Document feature not carried over."), "count": count, "instead": str("What Portico did instead.")})),
		"warnings": arrayOf(str("Conversion warning.")),
		"cost":     toolSetCostSchema(),
	}
}

// toolSetCostSchema describes tenant.ToolSetCost.
func toolSetCostSchema() obj {
	count := obj{"type": "integer"}
	part := object([]string{"bytes", "tokens"}, obj{"bytes": count, "tokens": count})
	costProps := func(extra obj) obj {
		p := obj{"bytes": obj{"type": "integer", "description": "Bytes of the tools/list entry (entries)."},
			"tokens":           obj{"type": "integer", "description": "Estimated tokens."},
			"name_description": part, "input_schema": part, "output_schema": part}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	costReq := []string{"bytes", "tokens", "name_description", "input_schema", "output_schema"}
	o := object([]string{"listing", "tokenizer", "total", "discovery_tokens", "tools"}, obj{
		"listing":          str("Listing mode the figures are for: full or lean."),
		"tokenizer":        str("How tokens are estimated."),
		"total":            object(costReq, costProps(nil)),
		"discovery_tokens": obj{"type": "integer", "description": "Estimated tokens of discovery mode's three meta-tools."},
		"recommendation":   str("Set when the tools cost more than an agent should pay up front: what would cut it, to how much."),
		"tools":            arrayOf(object(append([]string{"name"}, costReq...), costProps(obj{"name": str("Tool name.")}))),
	})
	o["description"] = "What listing the tools costs a model: bytes and estimated tokens, for the set and per tool, split into the tool without its schemas (name, description, annotations), its input schema and its output schema."
	return o
}
