package cli

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// DemoSecret is the bearer token the demo API wants for writes; `portico dev`
// stores it as the demo tenant's credential, so agents never see it.
const DemoSecret = "demo-bookstore-secret"

// demoAPI is the small bookstore `portico dev` registers as its demo tenant.
// It answers like a FastAPI app: an OpenAPI 3.1 document at /openapi.json,
// {"detail": ...} errors, and 422 for bad input.
type demoAPI struct {
	mu    sync.Mutex
	books map[int]demoBook
	next  int
}

type demoBook struct {
	ID     int    `json:"id"`
	Title  string `json:"title"`
	Author string `json:"author"`
	Year   *int   `json:"year"`
}

// DemoAPI is the demo bookstore's handler, a small FastAPI-shaped upstream
// for the end-to-end tests: DemoSpec at /openapi.json, DemoSecret for writes.
func DemoAPI() http.Handler { return newDemoAPI().handler() }

func newDemoAPI() *demoAPI {
	y := func(n int) *int { return &n }
	d := &demoAPI{books: map[int]demoBook{}, next: 4}
	for _, b := range []demoBook{
		{1, "The Go Programming Language", "Alan Donovan", y(2015)},
		{2, "Designing Data-Intensive Applications", "Martin Kleppmann", y(2017)},
		{3, "The Pragmatic Programmer", "Andrew Hunt", y(1999)},
	} {
		d.books[b.ID] = b
	}
	return d
}

func (d *demoAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(DemoSpec))
	})
	mux.HandleFunc("GET /books", d.list)
	mux.HandleFunc("GET /books/{book_id}", d.get)
	mux.HandleFunc("POST /books", d.create)
	return mux
}

func (d *demoAPI) list(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			demoError(w, http.StatusUnprocessableEntity, "limit must be an integer between 1 and 100")
			return
		}
		limit = n
	}
	author := strings.ToLower(r.URL.Query().Get("author"))
	d.mu.Lock()
	out := make([]demoBook, 0, len(d.books))
	for _, b := range d.books {
		if author == "" || strings.Contains(strings.ToLower(b.Author), author) {
			out = append(out, b)
		}
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	demoJSON(w, http.StatusOK, out)
}

func (d *demoAPI) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("book_id"))
	if err != nil {
		demoError(w, http.StatusUnprocessableEntity, "book_id must be an integer")
		return
	}
	d.mu.Lock()
	b, ok := d.books[id]
	d.mu.Unlock()
	if !ok {
		demoError(w, http.StatusNotFound, "Book not found")
		return
	}
	demoJSON(w, http.StatusOK, b)
}

func (d *demoAPI) create(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+DemoSecret {
		demoError(w, http.StatusUnauthorized, "Not authenticated")
		return
	}
	var in demoBook
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" || in.Author == "" {
		demoError(w, http.StatusUnprocessableEntity, "title and author are required strings")
		return
	}
	d.mu.Lock()
	in.ID = d.next
	d.next++
	d.books[in.ID] = in
	d.mu.Unlock()
	demoJSON(w, http.StatusCreated, in)
}

func demoJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func demoError(w http.ResponseWriter, status int, detail string) {
	demoJSON(w, status, map[string]string{"detail": detail})
}

// DemoSpec is the demo API's OpenAPI document, shaped as FastAPI emits it.
const DemoSpec = `{
  "openapi": "3.1.0",
  "info": {"title": "Portico demo bookstore", "version": "1.0.0"},
  "paths": {
    "/books": {
      "get": {
        "operationId": "list_books_books_get",
        "summary": "List books",
        "description": "Books in the store, optionally filtered by author.",
        "parameters": [
          {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "maximum": 100, "minimum": 1, "default": 10, "title": "Limit"}},
          {"name": "author", "in": "query", "required": false, "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Author"}, "description": "Part of the author's name"}
        ],
        "responses": {
          "200": {"description": "Successful Response", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Book"}, "title": "Response List Books Books Get"}}}},
          "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
        }
      },
      "post": {
        "operationId": "create_book_books_post",
        "summary": "Add a book",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BookIn"}}}},
        "responses": {
          "201": {"description": "Successful Response", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Book"}}}},
          "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
        },
        "security": [{"HTTPBearer": []}]
      }
    },
    "/books/{book_id}": {
      "get": {
        "operationId": "get_book_books__book_id__get",
        "summary": "Get a book",
        "parameters": [{"name": "book_id", "in": "path", "required": true, "schema": {"type": "integer", "title": "Book Id"}}],
        "responses": {
          "200": {"description": "Successful Response", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Book"}}}},
          "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Book": {"type": "object", "title": "Book", "required": ["id", "title", "author", "year"], "properties": {
        "id": {"type": "integer", "title": "Id"},
        "title": {"type": "string", "title": "Title"},
        "author": {"type": "string", "title": "Author"},
        "year": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Year"}}},
      "BookIn": {"type": "object", "title": "BookIn", "required": ["title", "author"], "properties": {
        "title": {"type": "string", "title": "Title"},
        "author": {"type": "string", "title": "Author"},
        "year": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Year"}}},
      "HTTPValidationError": {"type": "object", "title": "HTTPValidationError", "properties": {"detail": {"type": "array", "title": "Detail", "items": {"$ref": "#/components/schemas/ValidationError"}}}},
      "ValidationError": {"type": "object", "title": "ValidationError", "required": ["loc", "msg", "type"], "properties": {
        "loc": {"type": "array", "title": "Location", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string", "title": "Message"},
        "type": {"type": "string", "title": "Error Type"}}}
    },
    "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
  }
}`
