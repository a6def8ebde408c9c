package openapi

import (
	"strings"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

// fromV3 converts an OpenAPI 3.0/3.1 document.
func (c *converter) fromV3(d *v3.Document) {
	if d.Info != nil {
		c.out.Title, c.out.Version = d.Info.Title, d.Info.Version
	}
	for _, s := range d.Servers {
		c.out.Servers = append(c.out.Servers, serverURL(s))
	}
	var comps map[string]*base.SchemaProxy
	if d.Components != nil {
		comps = componentMap("#/components/schemas/", d.Components.Schemas.FromOldest())
	}
	c.schemas = newSchemaConverter(comps, c.warnf)
	c.schemas.oas30, c.schemas.oas31 = c.oas30, !c.oas30
	if d.Webhooks != nil {
		c.unsupported(d.Webhooks.Len(), "webhooks", "not converted: they are requests the service sends, not operations a client calls")
	}
	if d.Components != nil {
		for _, ss := range d.Components.SecuritySchemes.FromOldest() {
			if ss != nil {
				c.securityScheme(ss.Type, ss.Scheme)
			}
		}
	}
	if d.Paths == nil {
		return
	}
	for path, item := range d.Paths.PathItems.FromOldest() {
		if item == nil {
			continue
		}
		for method, o := range item.GetOperations().FromOldest() {
			if !c.isOperation(path, method) {
				continue
			}
			c.operationV3(path, strings.ToUpper(method), item, o)
		}
	}
}

// serverURL substitutes server variables with their defaults.
func serverURL(s *v3.Server) string {
	u := s.URL
	for name, v := range s.Variables.FromOldest() {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	return u
}

func (c *converter) operationV3(path, method string, item *v3.PathItem, o *v3.Operation) {
	op := &Operation{
		Method:      method,
		Path:        path,
		OperationID: o.OperationId,
		Tags:        append([]string(nil), o.Tags...),
		Description: describe(o.Summary, o.Description),
	}
	if op.Description == "" {
		op.Description = describe(item.Summary, item.Description)
	}
	if o.Deprecated != nil && *o.Deprecated {
		op.Description = strings.TrimSpace(op.Description + "\n\nDeprecated: the API marks this operation as deprecated.")
	}
	if !c.classify(op) {
		return
	}
	var r refs
	var params []param
	c.schemas.where, c.schemas.path = method+" "+path, nil
	seen := make(map[string]int)
	for _, ps := range [][]*v3.Parameter{item.Parameters, o.Parameters} {
		for _, p := range ps {
			if p == nil || p.Name == "" {
				continue
			}
			if p.In == "header" && ignoredHeader(p.Name) {
				continue
			}
			if p.In != "path" && p.In != "query" && p.In != "header" && p.In != "cookie" {
				c.warnf("%s %s: parameter %q is in %q, which OpenAPI 3 does not define; skipped", method, path, p.Name, p.In)
				continue
			}
			cp := c.paramV3(p, &r)
			key := p.In + "\x00" + p.Name
			if i, ok := seen[key]; ok {
				params[i] = cp // operation level overrides path level
				continue
			}
			seen[key] = len(params)
			params = append(params, cp)
		}
	}
	// Path template names without a declared parameter are still required.
	for _, name := range pathParams(path) {
		if _, ok := seen["path\x00"+name]; !ok {
			c.warnf("%s %s: path parameter {%s} is not declared; treating it as a required string", method, path, name)
			s := newObject()
			s.set("type", "string")
			seen["path\x00"+name] = len(params)
			params = append(params, param{name: name, in: "path", required: true, schema: s, style: "simple"})
		}
	}
	if o.Callbacks != nil {
		c.unsupported(o.Callbacks.Len(), "callbacks", "not converted: the operation is a tool without them")
	}
	var b *body
	if rb := o.RequestBody; rb != nil && rb.Content != nil && rb.Content.Len() > 0 {
		mt, media := pickMedia(rb.Content)
		if rb.Content.Len() > 1 {
			c.unsupported(1, "request bodies offered in several media types", "one is used: JSON first, then form, then multipart, then the first listed")
		}
		if media != nil {
			required := rb.Required != nil && *rb.Required
			if media.Schema == nil {
				s := newObject()
				if isBinaryMedia(mt) {
					s.set("type", "string")
					s.set("format", "binary")
				} else if !IsJSONMedia(mt) {
					s.set("type", "string")
				}
				b = &body{contentType: mt, required: required, description: rb.Description, whole: s}
			} else {
				b = c.bodyFromSchema(media.Schema, mt, required, rb.Description, encodingsV3(media), &r)
			}
		}
	}
	c.buildInput(op, params, b, &r)
	c.buildOutput(op, successSchemaV3(o.Responses))
	op.ResponseType = successMediaV3(o.Responses)
	c.add(op)
}

// ignoredHeader reports whether OpenAPI says a header parameter is ignored.
func ignoredHeader(name string) bool {
	switch strings.ToLower(name) {
	case "accept", "content-type", "authorization":
		return true
	}
	return false
}

func (c *converter) paramV3(p *v3.Parameter, r *refs) param {
	style, explode := defaultStyle(p.In)
	if p.Style != "" {
		style = p.Style
		if p.Explode == nil {
			explode = style == "form"
		}
	}
	if p.Explode != nil {
		explode = *p.Explode
	}
	cp := param{
		name:        p.Name,
		in:          p.In,
		required:    p.In == "path" || (p.Required != nil && *p.Required),
		style:       style,
		explode:     explode,
		description: p.Description,
		deprecated:  p.Deprecated,
	}
	sp := p.Schema
	if sp == nil && p.Content != nil {
		if mt, media := pickMedia(p.Content); media != nil {
			sp = media.Schema
			cp.contentType = mt
		}
	}
	if sp == nil {
		s := newObject()
		s.set("type", "string")
		cp.schema = s
	} else {
		where := c.schemas.where
		c.schemas.where += " parameter " + p.Name
		cp.schema = c.schemas.proxy(sp, modeInput, r)
		c.schemas.where = where
	}
	if p.Example != nil {
		cp.examples = append(cp.examples, yamlValue(p.Example))
	}
	for _, ex := range p.Examples.FromOldest() {
		if ex != nil && ex.Value != nil {
			cp.examples = append(cp.examples, yamlValue(ex.Value))
		}
	}
	if so, ok := cp.schema.(*object); ok && len(cp.examples) > 0 {
		where := c.schemas.where
		c.schemas.where += " parameter " + p.Name
		for _, v := range cp.examples {
			c.schemas.checkValue("example", v, typesOf(so), so)
		}
		c.schemas.where = where
	}
	return cp
}

// pickMedia chooses the request media type: JSON first (plain JSON, then
// merge-patch, then other JSON types; JSON Patch last since it takes an
// array of operations), then form encodings, then whatever comes first.
func pickMedia(content *orderedmap.Map[string, *v3.MediaType]) (string, *v3.MediaType) {
	var firstForm, firstMultipart, first, bestJSON string
	best := 100
	for mt := range content.KeysFromOldest() {
		lmt := strings.ToLower(mt)
		switch {
		case IsJSONMedia(lmt) && lmt != "*/*" && lmt != "application/*":
			if r := jsonRank(lmt); r < best {
				best, bestJSON = r, mt
			}
		case strings.HasPrefix(lmt, "application/x-www-form-urlencoded") && firstForm == "":
			firstForm = mt
		case strings.HasPrefix(lmt, "multipart/form-data") && firstMultipart == "":
			firstMultipart = mt
		case first == "":
			first = mt
		}
	}
	for _, mt := range []string{bestJSON, firstForm, firstMultipart, first} {
		if mt != "" {
			ct := mt
			if ct == "*/*" || ct == "application/*" {
				ct = "application/json"
			}
			return ct, content.GetOrZero(mt)
		}
	}
	return "", nil
}

// jsonRank orders JSON media types by preference; lower is better.
func jsonRank(mt string) int {
	mt = strings.TrimSpace(strings.SplitN(mt, ";", 2)[0])
	switch {
	case mt == "application/json":
		return 0
	case mt == "application/merge-patch+json":
		return 1
	case mt == "application/json-patch+json":
		return 3
	}
	return 2
}

// successCodes is the order in which responses are tried for the output schema.
var successCodes = []string{"200", "201", "202", "203", "206", "2XX", "2xx"}

func successSchemaV3(rs *v3.Responses) *base.SchemaProxy {
	resp := successResponseV3(rs)
	if resp == nil || resp.Content == nil {
		return nil
	}
	for mt, media := range resp.Content.FromOldest() {
		if IsJSONMedia(mt) && media != nil && media.Schema != nil {
			return media.Schema
		}
	}
	return nil
}

// successMediaV3 is the media type the success response is sent in: a
// JSON one when offered, else the first listed.
func successMediaV3(rs *v3.Responses) string {
	resp := successResponseV3(rs)
	if resp == nil || resp.Content == nil {
		return ""
	}
	var mts []string
	for mt := range resp.Content.FromOldest() {
		mts = append(mts, mt)
	}
	return preferJSON(mts)
}

// preferJSON returns the first JSON media type of mts, else the first one;
// wildcards (*/*, image/*) name no type and are skipped.
func preferJSON(mts []string) string {
	first := ""
	for _, mt := range mts {
		if strings.Contains(mt, "*") {
			continue
		}
		if IsJSONMedia(mt) {
			return mt
		}
		if first == "" {
			first = mt
		}
	}
	return first
}

// successResponseV3 is the response the output schema is taken from.
func successResponseV3(rs *v3.Responses) *v3.Response {
	if rs == nil || rs.Codes == nil {
		return nil
	}
	var resp *v3.Response
	for _, code := range successCodes {
		if r := rs.Codes.GetOrZero(code); r != nil {
			resp = r
			break
		}
	}
	if resp == nil {
		for code, r := range rs.Codes.FromOldest() {
			if strings.HasPrefix(code, "2") && code != "204" {
				resp = r
				break
			}
		}
	}
	return resp
}

// encodingsV3 reads a media type's per-property encoding objects.
func encodingsV3(media *v3.MediaType) map[string]Encoding {
	if media.Encoding == nil || media.Encoding.Len() == 0 {
		return nil
	}
	out := make(map[string]Encoding)
	for name, e := range media.Encoding.FromOldest() {
		if e == nil {
			continue
		}
		enc := Encoding{ContentType: e.ContentType, Style: e.Style, Explode: e.Style == "" || e.Style == "form"}
		if e.Explode != nil {
			enc.Explode = *e.Explode
		}
		out[name] = enc
	}
	return out
}
