package openapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// MissingArgumentError says a required argument was not supplied.
type MissingArgumentError struct{ Arg string }

func (e *MissingArgumentError) Error() string {
	return fmt.Sprintf("missing required argument %q", e.Arg)
}

// NewRequest builds the upstream request for one call of op. baseURL may
// carry a path prefix (https://api.example.com/v1). Arguments are the tool's
// input, as decoded from JSON. Arguments the input schema does not declare
// are ignored: models sometimes add extras, and the upstream validates what
// it receives anyway. A missing required argument is a *MissingArgumentError.
func (op *Operation) NewRequest(ctx context.Context, baseURL string, args map[string]any) (*http.Request, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", baseURL, err)
	}
	for _, p := range op.Params {
		if v, ok := args[p.Arg]; p.Required && (!ok || v == nil) {
			return nil, &MissingArgumentError{p.Arg}
		}
	}
	args = encodeContentParams(op.Params, args)
	// Path.
	segs := strings.Split(op.Path, "/")
	for _, p := range op.Params {
		if p.In != "path" {
			continue
		}
		v := pathValue(p, args[p.Arg])
		if v == "" {
			return nil, fmt.Errorf("argument %q: a path parameter must not be empty", p.Arg)
		}
		for i, seg := range segs {
			if strings.Contains(seg, "{"+p.Name+"}") {
				segs[i] = strings.ReplaceAll(seg, "{"+p.Name+"}", v)
				if dotSegment(segs[i]) {
					//lint:ignore ST1005 the message ends by naming the dot segment "..", not with punctuation
					return nil, fmt.Errorf("argument %q: the value %q makes a dot segment (. or ..), which would change the route the upstream calls; a path parameter must not be, or decode to, . or ..", p.Arg, scalar(args[p.Arg]))
				}
			}
		}
	}
	path := strings.Join(segs, "/")
	prefix := strings.TrimRight(u.EscapedPath(), "/")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	raw := prefix + path
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return nil, fmt.Errorf("build path: %w", err)
	}
	u.Path, u.RawPath = unescaped, raw
	// Query.
	var q []string
	if u.RawQuery != "" {
		q = append(q, u.RawQuery)
	}
	for _, p := range op.Params {
		if p.In != "query" {
			continue
		}
		v, ok := args[p.Arg]
		if !ok || v == nil {
			continue
		}
		q = append(q, queryPairs(p, v)...)
	}
	u.RawQuery = strings.Join(q, "&")
	u.Fragment = ""
	// Body.
	var body io.Reader
	var contentType string
	if op.Body != nil {
		b, ct, err := op.Body.encode(args)
		if err != nil {
			return nil, err
		}
		if b != nil {
			body, contentType = bytes.NewReader(b), ct
		}
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	var cookies []string
	for _, p := range op.Params {
		v, ok := args[p.Arg]
		if !ok || v == nil {
			continue
		}
		switch p.In {
		case "header":
			hv := simpleValue(v, p.Explode)
			if strings.ContainsAny(hv, "\r\n\x00") {
				return nil, fmt.Errorf("argument %q: a header value must not contain line breaks", p.Arg)
			}
			req.Header.Set(p.Name, hv)
		case "cookie":
			cookies = append(cookies, p.Name+"="+cookieValue(simpleValue(v, p.Explode)))
		}
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	return req, nil
}

// cookieValue keeps the bytes a cookie value may carry (RFC 6265
// cookie-octet) as they are and percent-encodes only the rest (space, '"',
// ',', ';', backslash, controls, non-ASCII). Servers do not percent-decode
// cookies (Starlette, Go's net/http), so escaping a legal byte such as '/'
// or ':' would hand the upstream a different value than the agent gave.
func cookieValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
			(c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// encodeContentParams JSON-encodes the values of parameters declared with a
// JSON content type, so they go on the wire as one JSON string.
func encodeContentParams(params []Param, args map[string]any) map[string]any {
	var out map[string]any
	for _, p := range params {
		if p.ContentType == "" || !IsJSONMedia(p.ContentType) {
			continue
		}
		v, ok := args[p.Arg]
		if !ok || v == nil {
			continue
		}
		if _, isString := v.(string); isString {
			continue
		}
		j, err := json.Marshal(v)
		if err != nil {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(args))
			for k, v := range args {
				out[k] = v
			}
		}
		out[p.Arg] = string(j)
	}
	if out == nil {
		return args
	}
	return out
}

// encode builds the body bytes and their content type, or nil when no
// body is to be sent.
func (b *Body) encode(args map[string]any) ([]byte, string, error) {
	if b.Arg != "" {
		v, ok := args[b.Arg]
		if !ok || v == nil {
			if b.Required {
				return nil, "", &MissingArgumentError{b.Arg}
			}
			return nil, "", nil
		}
		if contains(b.Files, b.Arg) {
			f, err := fileArg(b.Arg, v)
			if err != nil {
				return nil, "", err
			}
			ct := b.ContentType
			if f.contentType != "" && !isMultipart(ct) {
				ct = f.contentType
			}
			return f.content, ct, nil
		}
		if !IsJSONMedia(b.ContentType) {
			if s, ok := v.(string); ok {
				return []byte(s), b.ContentType, nil
			}
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, "", fmt.Errorf("argument %q: %w", b.Arg, err)
		}
		return j, b.ContentType, nil
	}
	present := 0
	for _, name := range b.Props {
		if _, ok := args[name]; ok {
			present++
		}
	}
	if present == 0 && !b.Required {
		return nil, "", nil
	}
	for _, name := range b.RequiredProps {
		// Present is enough: a required property may be nullable, and
		// null is then a real value.
		if _, ok := args[name]; !ok {
			return nil, "", &MissingArgumentError{name}
		}
	}
	ct := strings.ToLower(b.ContentType)
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		var pairs []string
		for _, name := range b.Props {
			v, ok := args[name]
			if !ok || v == nil {
				continue
			}
			p := Param{Name: name, Style: "form", Explode: true}
			if e, ok := b.Encoding[name]; ok && e.Style != "" {
				p.Style, p.Explode = e.Style, e.Explode
			}
			pairs = append(pairs, queryPairs(p, v)...)
		}
		return []byte(strings.Join(pairs, "&")), b.ContentType, nil
	case isMultipart(ct):
		return b.multipart(args)
	}
	// JSON object, properties in declared order.
	buf := []byte{'{'}
	first := true
	for _, name := range b.Props {
		v, ok := args[name]
		if !ok {
			continue
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, "", fmt.Errorf("argument %q: %w", name, err)
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendString(buf, name)
		buf = append(buf, ':')
		buf = append(buf, j...)
	}
	return append(buf, '}'), b.ContentType, nil
}

// multipart encodes the properties as multipart/form-data parts: files as
// file parts, arrays of scalars as repeated fields, objects as JSON parts.
func (b *Body) multipart(args map[string]any) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, name := range b.Props {
		v, ok := args[name]
		if !ok || v == nil {
			continue
		}
		enc := b.Encoding[name]
		if contains(b.Files, name) {
			files := []any{v}
			if list, ok := v.([]any); ok {
				files = list
			}
			for i, fv := range files {
				arg := name
				if len(files) > 1 {
					arg = fmt.Sprintf("%s[%d]", name, i)
				}
				f, err := fileArg(arg, fv)
				if err != nil {
					return nil, "", err
				}
				ct := f.contentType
				if ct == "" {
					ct = enc.ContentType
				}
				if ct == "" || strings.Contains(ct, "*") || strings.Contains(ct, ",") {
					ct = "application/octet-stream"
				}
				filename := f.filename
				if filename == "" {
					filename = name
				}
				h := make(textproto.MIMEHeader)
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(name), quoteEscaper.Replace(filename)))
				h.Set("Content-Type", ct)
				part, err := w.CreatePart(h)
				if err != nil {
					return nil, "", err
				}
				part.Write(f.content)
			}
			continue
		}
		values := []any{v}
		if list, ok := v.([]any); ok && allScalars(list) {
			values = list
		}
		for _, e := range values {
			switch e.(type) {
			case map[string]any, []any:
				j, err := json.Marshal(e)
				if err != nil {
					return nil, "", fmt.Errorf("argument %q: %w", name, err)
				}
				h := make(textproto.MIMEHeader)
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, quoteEscaper.Replace(name)))
				h.Set("Content-Type", "application/json")
				part, err := w.CreatePart(h)
				if err != nil {
					return nil, "", err
				}
				part.Write(j)
			default:
				if err := w.WriteField(name, scalar(e)); err != nil {
					return nil, "", err
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func allScalars(list []any) bool {
	for _, e := range list {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

type file struct {
	content     []byte
	filename    string
	contentType string
}

// fileArg reads a file argument: {"content": base64, "filename", "content_type"}
// or a bare base64 string.
func fileArg(arg string, v any) (file, error) {
	var f file
	var content string
	switch v := v.(type) {
	case string:
		content = v
	case map[string]any:
		c, ok := v["content"].(string)
		if !ok {
			return f, fmt.Errorf("argument %q: a file needs \"content\" (base64 text)", arg)
		}
		content = c
		f.filename, _ = v["filename"].(string)
		f.contentType, _ = v["content_type"].(string)
	default:
		return f, fmt.Errorf("argument %q: a file is {\"content\": <base64>, \"filename\": ...} or a base64 string", arg)
	}
	b, err := decodeBase64(content)
	if err != nil {
		return f, fmt.Errorf("argument %q: content is not base64: %w", arg, err)
	}
	f.content = b
	return f, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, and
// ignores line breaks.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// scalar formats a JSON scalar for the wire; objects and arrays become JSON.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(j)
	}
}

// entries returns an object's keys and values in sorted key order.
func entries(m map[string]any) ([]string, []any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	return keys, vals
}

// simpleValue serialises a value in style simple (path and header).
func simpleValue(v any, explode bool) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = scalar(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		keys, vals := entries(v)
		parts := make([]string, 0, 2*len(keys))
		for i, k := range keys {
			if explode {
				parts = append(parts, k+"="+scalar(vals[i]))
			} else {
				parts = append(parts, k, scalar(vals[i]))
			}
		}
		return strings.Join(parts, ",")
	}
	return scalar(v)
}

// dotSegment reports whether a built path segment is, or decodes to (once
// or more, as upstreams and the proxies before them decode), a path holding
// a "." or ".." segment; a backslash counts as a slash, as some servers
// read it.
func dotSegment(seg string) bool {
	for range 4 {
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '/' || r == '\\' }) {
			if part == "." || part == ".." {
				return true
			}
		}
		if seg == "." || seg == ".." {
			return true
		}
		d, err := url.PathUnescape(seg)
		if err != nil || d == seg {
			return false
		}
		seg = d
	}
	return false
}

// pathValue serialises and escapes a path parameter (styles simple, label, matrix).
func pathValue(p Param, v any) string {
	esc := func(s string) string { return url.PathEscape(s) }
	switch p.Style {
	case "label":
		sep := ","
		if p.Explode {
			sep = "."
		}
		return "." + joinEscaped(v, sep, p.Explode, esc)
	case "matrix":
		switch v := v.(type) {
		case []any:
			if p.Explode {
				var b strings.Builder
				for _, e := range v {
					b.WriteString(";" + esc(p.Name) + "=" + esc(scalar(e)))
				}
				return b.String()
			}
		case map[string]any:
			if p.Explode {
				keys, vals := entries(v)
				var b strings.Builder
				for i, k := range keys {
					b.WriteString(";" + esc(k) + "=" + esc(scalar(vals[i])))
				}
				return b.String()
			}
		}
		return ";" + esc(p.Name) + "=" + joinEscaped(v, ",", false, esc)
	}
	return joinEscaped(v, ",", p.Explode, esc)
}

// joinEscaped escapes each element and joins with sep, so delimiters stay literal.
func joinEscaped(v any, sep string, explode bool, esc func(string) string) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = esc(scalar(e))
		}
		return strings.Join(parts, sep)
	case map[string]any:
		keys, vals := entries(v)
		parts := make([]string, 0, 2*len(keys))
		for i, k := range keys {
			if explode {
				parts = append(parts, esc(k)+"="+esc(scalar(vals[i])))
			} else {
				parts = append(parts, esc(k), esc(scalar(vals[i])))
			}
		}
		return strings.Join(parts, sep)
	}
	return esc(scalar(v))
}

// queryPairs serialises one query parameter as escaped name=value pairs,
// per style (form, spaceDelimited, pipeDelimited, deepObject) and explode.
func queryPairs(p Param, v any) []string {
	esc := url.QueryEscape
	name := esc(p.Name)
	switch v := v.(type) {
	case []any:
		if p.Style == "deepObject" {
			var out []string
			deepObject(&out, p.Name, v)
			return out
		}
		if p.Style == "form" && p.Explode {
			out := make([]string, len(v))
			for i, e := range v {
				out[i] = name + "=" + esc(scalar(e))
			}
			return out
		}
		sep := ","
		switch p.Style {
		case "spaceDelimited":
			sep = "%20"
		case "pipeDelimited":
			sep = "|"
		case "tabDelimited":
			sep = "%09"
		}
		return []string{name + "=" + joinEscaped(v, sep, false, esc)}
	case map[string]any:
		switch {
		case p.Style == "deepObject":
			var out []string
			deepObject(&out, p.Name, v)
			return out
		case p.Explode:
			keys, vals := entries(v)
			out := make([]string, len(keys))
			for i, k := range keys {
				out[i] = esc(k) + "=" + esc(scalar(vals[i]))
			}
			return out
		default:
			return []string{name + "=" + joinEscaped(v, ",", false, esc)}
		}
	}
	return []string{name + "=" + esc(scalar(v))}
}

// deepObject writes name[key]=value pairs, recursing into nested objects and
// arrays the way Stripe and Rails-style servers expect (name[key][0]=...).
func deepObject(out *[]string, prefix string, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys, vals := entries(v)
		for i, k := range keys {
			deepObject(out, prefix+"["+k+"]", vals[i])
		}
	case []any:
		for i, e := range v {
			deepObject(out, prefix+"["+strconv.Itoa(i)+"]", e)
		}
	case nil:
	default:
		*out = append(*out, url.QueryEscape(prefix)+"="+url.QueryEscape(scalar(v)))
	}
}
