// Package bridge serves tenants' operations over MCP. Its [Runtime] keeps
// every active tenant's state: the operations package openapi converted
// from the tenant's document (reshaped by settings.tools), an MCP server
// per tenant and per toolset, an upstream HTTP client with its connection
// pool, credentials and token caches, rate and concurrency limits, a
// circuit breaker and metrics. [Runtime.Handler] is the Streamable HTTP
// endpoint /t/<id>/mcp: 2026-07-28 requests and calls of the common
// shapes are answered by fast paths that write what the MCP SDK would
// write; everything else goes to the SDK's server. Changes made on any
// replica reach the others through the store's change channel.
//
// What a document becomes (names, schemas, route maps, request building)
// is package openapi's contract; bridge adds how MCP lists and calls it:
// tool annotations from HTTP semantics, lean listing and discovery mode,
// resources' media types, and the cost report of the listed tools.
package bridge
