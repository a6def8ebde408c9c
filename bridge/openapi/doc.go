// Package openapi turns an OpenAPI document into operations (what become MCP
// tools, resources and resource templates), reshapes them as a tenant's
// settings.tools say, checks arguments against their schemas and turns
// arguments back into upstream HTTP requests. It is pure: it imports neither
// the MCP SDK nor a database driver, and keeps no state between calls, so it
// can be tested, fuzzed and benchmarked alone. Package bridge serves its
// operations over MCP.
//
// Conversion ([Convert]) is pure: document bytes and [Options] in, a
// [Conversion] out, the same bytes every time. It follows FastMCP's
// from_openapi unless noted here:
//
//   - Dialects: OpenAPI 3.0, 3.1 (and 3.2 as 3.1) and Swagger 2.0, parsed by
//     libopenapi with remote and file references off. Circular references
//     are fine. Examples and defaults that disagree with their schemas, and
//     3.1 keywords in 3.0 documents, are kept and reported as warnings;
//     a document is never rejected for them.
//   - External references ($ref to another document) are never fetched.
//     Each is reported as "external reference <URL> not fetched" with where
//     it is used, and the place stays open: a schema accepts any value
//     (a body schema becomes an open "body" argument, so the body is still
//     sent), a request body accepts any JSON, and a parameter, response or
//     path item it names is skipped.
//   - Names: operationId up to the first "__" (FastMCP), else
//     "<method>_<path>"; characters outside [A-Za-z0-9_-] become "_"; names
//     over 64 characters are cut and end in 8 hex digits of their SHA-256;
//     clashes get _2, _3 in document order. Options.Names overrides a name
//     by operationId or "METHOD /path" and wins over generated names.
//   - Input schema: always {"type":"object"}. Path, query, header and
//     cookie parameters come first, then the body. An object body (allOf
//     parts merged) is flattened into the top level; anything else (array,
//     scalar, oneOf, anyOf, a map) goes under "body". In a 3.1 document a
//     required JSON body that is flattened keeps its own schema-level
//     keywords at the top (additionalProperties and unevaluatedProperties
//     when false, dependentRequired, dependentSchemas, anyOf/oneOf/not whose
//     branches only narrow the declared properties, if/then/else, allOf
//     parts that only constrain, propertyNames and min/maxProperties when
//     the tool has no parameters, and $schema when it is 2020-12's, $comment,
//     $anchor); an optional body, a form body and 3.0/2.0 documents keep
//     only properties and required, since those keywords would refuse the
//     arguments of a call that leaves the body out. $anchor and $comment are
//     kept in 3.1 schemas everywhere; $id, $dynamicRef and $dynamicAnchor
//     never are ($id would rebase the #/$defs refs below it). A parameter whose name
//     clashes with a body property or another parameter is renamed
//     <name>__<in> (id__path). Named schemas become local "$defs" (named by
//     their last pointer segment), so recursive models work; 3.0 nullable
//     becomes a "null" type, boolean exclusive bounds become numeric ones,
//     example becomes examples. readOnly properties are left out of inputs
//     and writeOnly ones out of outputs. Header parameters Accept,
//     Content-Type and Authorization are ignored, as OpenAPI says.
//   - Files: in multipart bodies, binary strings become
//     {"content": <base64>, "filename", "content_type"}; raw binary bodies
//     take the same shape under "body".
//   - Output schema: from the first 2xx JSON response; object schemas as they
//     are, anything else wrapped as {"result": ...} with WrapResult set. An
//     output schema keeps at most MaxOutputDefsBytes of $defs; deeper types
//     are named but left open (Stripe's responses reach its whole schema
//     graph). Input schemas are never trimmed.
//   - Route maps: first match wins (methods, pattern searched in the path,
//     all tags present); exclude drops the operation and lists it in
//     Conversion.Excluded. A resource with path parameters becomes a
//     template, resource://<name>/{param}; a template without them becomes
//     a resource, resource://<name>.
//   - Webhooks and callbacks describe requests the API sends, not ones it
//     receives, so they do not become tools (FastMCP skips them too).
//   - Servers: 3.x server URLs with variables set to their defaults; for
//     Swagger 2.0, scheme://host/basePath (https preferred), or basePath
//     alone. Entries may be relative; the caller resolves them against the
//     URL the document came from, or uses the tenant's base URL.
//
// Requests ([Operation.NewRequest]) are rebuilt from the plan in Params and
// Body. Arguments the schema does not declare are ignored (models add
// extras; the upstream validates what it gets) unless the schema says
// additionalProperties: false, which argument validation then enforces
// before any request; a missing required argument
// is a [*MissingArgumentError]. A null parameter counts as absent; a null
// body property is sent as null (pydantic's Optional fields without a
// default are required and nullable).
package openapi
