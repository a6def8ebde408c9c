package main

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// upstreamSpec is a FastAPI-shaped OpenAPI 3.1 document for the fast Go
// upstream: the shapes FastAPI emits (operationId, integer path parameter,
// optional query parameter, a JSON object response), one operation so every
// call takes the same path.
const upstreamSpec = `{
  "openapi": "3.1.0",
  "info": {"title": "bench items", "version": "1.0.0"},
  "paths": {
    "/items/{item_id}": {
      "get": {
        "summary": "Read Item",
        "operationId": "read_item_items__item_id__get",
        "parameters": [
          {"name": "item_id", "in": "path", "required": true, "schema": {"type": "integer", "title": "Item Id"}},
          {"name": "q", "in": "query", "required": false, "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Q"}}
        ],
        "responses": {
          "200": {"description": "Successful Response", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
          "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
        }
      }
    }
  },
  "components": {"schemas": {
    "Item": {"type": "object", "title": "Item", "required": ["item_id", "name", "price"], "properties": {
      "item_id": {"type": "integer", "title": "Item Id"},
      "name": {"type": "string", "title": "Name"},
      "price": {"type": "number", "title": "Price"},
      "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags"},
      "q": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Q"}}},
    "HTTPValidationError": {"type": "object", "title": "HTTPValidationError", "properties": {"detail": {"type": "array", "items": {"type": "object"}}}}
  }}
}`

// upstream is a fast loopback HTTP service implementing upstreamSpec, so the
// upstream is never the bottleneck of the call path.
type upstream struct {
	url   string
	srv   *http.Server
	conns atomic.Int64 // connections accepted, to see whether callers reuse them
}

func startUpstream() (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(upstreamSpec))
	})
	mux.HandleFunc("GET /items/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("item_id"))
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(422)
			w.Write([]byte(`{"detail":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer"}]}`))
			return
		}
		b := make([]byte, 0, 128)
		b = append(b, `{"item_id":`...)
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, `,"name":"Widget","price":9.5,"tags":["blue","small"],"q":`...)
		if q := r.URL.Query().Get("q"); q != "" && !strings.ContainsAny(q, "\"\\") {
			b = append(b, '"')
			b = append(b, q...)
			b = append(b, '"')
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	// The many-tenants scenario serves the petstore document's getPetById.
	mux.HandleFunc("GET /api/v3/pet/{petId}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":` + r.PathValue("petId") + `,"name":"doggie","category":{"id":1,"name":"Dogs"},"photoUrls":[],"tags":[],"status":"available"}`))
	})
	u := &upstream{url: "http://" + ln.Addr().String()}
	u.srv = &http.Server{Handler: mux, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			u.conns.Add(1)
		}
	}}
	go u.srv.Serve(ln)
	return u, nil
}

func (u *upstream) close() { u.srv.Close() }
