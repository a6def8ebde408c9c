package openapi

import (
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v2 "github.com/pb33f/libopenapi/datamodel/high/v2"
)

// fromV2 converts a Swagger 2.0 document.
func (c *converter) fromV2(d *v2.Swagger) {
	if d.Info != nil {
		c.out.Title, c.out.Version = d.Info.Title, d.Info.Version
	}
	if d.Host != "" {
		scheme := "https"
		if len(d.Schemes) > 0 && !contains(d.Schemes, "https") {
			scheme = d.Schemes[0]
		}
		c.out.Servers = append(c.out.Servers, scheme+"://"+d.Host+strings.TrimRight(d.BasePath, "/"))
	} else if bp := strings.TrimRight(d.BasePath, "/"); bp != "" {
		c.out.Servers = append(c.out.Servers, bp)
	}
	var comps map[string]*base.SchemaProxy
	if d.Definitions != nil {
		comps = componentMap("#/definitions/", d.Definitions.Definitions.FromOldest())
	}
	c.schemas = newSchemaConverter(comps, c.warnf)
	c.schemas.oas30, c.schemas.oas31 = c.oas30, !c.oas30
	if d.SecurityDefinitions != nil {
		for _, ss := range d.SecurityDefinitions.Definitions.FromOldest() {
			if ss != nil {
				c.securityScheme(ss.Type, "")
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
			c.operationV2(d, path, strings.ToUpper(method), item, o)
		}
	}
}

func (c *converter) operationV2(d *v2.Swagger, path, method string, item *v2.PathItem, o *v2.Operation) {
	op := &Operation{
		Method:      method,
		Path:        path,
		OperationID: o.OperationId,
		Tags:        append([]string(nil), o.Tags...),
		Description: describe(o.Summary, o.Description),
	}
	if o.Deprecated {
		op.Description = strings.TrimSpace(op.Description + "\n\nDeprecated: the API marks this operation as deprecated.")
	}
	if !c.classify(op) {
		return
	}
	consumes := o.Consumes
	if len(consumes) == 0 {
		consumes = d.Consumes
	}
	var r refs
	var params []param
	c.schemas.where, c.schemas.path = method+" "+path, nil
	var bodyParam *v2.Parameter
	var formParams []*v2.Parameter
	seen := make(map[string]int)
	for _, ps := range [][]*v2.Parameter{item.Parameters, o.Parameters} {
		for _, p := range ps {
			if p == nil || p.Name == "" {
				continue
			}
			switch p.In {
			case "body":
				bodyParam = p
				continue
			case "formData":
				formParams = append(formParams, p)
				continue
			case "header":
				if ignoredHeader(p.Name) {
					continue
				}
			case "path", "query":
			default:
				c.warnf("%s %s: parameter %q is in %q, which Swagger 2.0 does not define; skipped", method, path, p.Name, p.In)
				continue
			}
			cp := c.paramV2(p, &r)
			key := p.In + "\x00" + p.Name
			if i, ok := seen[key]; ok {
				params[i] = cp
				continue
			}
			seen[key] = len(params)
			params = append(params, cp)
		}
	}
	if len(consumes) > 1 && (bodyParam != nil || len(formParams) > 0) {
		c.unsupported(1, "request bodies offered in several media types", "one is used: JSON first, then form, then multipart, then the first listed")
	}
	var b *body
	switch {
	case bodyParam != nil:
		ct, best := "application/json", 100
		for _, mt := range consumes {
			lmt := strings.ToLower(mt)
			if IsJSONMedia(lmt) && lmt != "*/*" && lmt != "application/*" {
				if r := jsonRank(lmt); r < best {
					ct, best = mt, r
				}
			}
		}
		required := bodyParam.Required != nil && *bodyParam.Required
		b = c.bodyFromSchema(bodyParam.Schema, ct, required, bodyParam.Description, nil, &r)
	case len(formParams) > 0:
		ct := "application/x-www-form-urlencoded"
		for _, p := range formParams {
			if p.Type == "file" {
				ct = "multipart/form-data"
			}
		}
		for _, mt := range consumes {
			if strings.HasPrefix(strings.ToLower(mt), "multipart/form-data") {
				ct = "multipart/form-data"
			}
		}
		b = &body{contentType: ct, flat: true}
		for _, p := range formParams {
			cp := c.paramV2(p, &r)
			if p.Type == "array" && p.CollectionFormat != "multi" {
				style, explode := collectionStyle("query", p.CollectionFormat, "form", false)
				if b.encoding == nil {
					b.encoding = make(map[string]Encoding)
				}
				b.encoding[p.Name] = Encoding{Style: style, Explode: explode}
			}
			if so, ok := cp.schema.(*object); ok && p.Description != "" {
				so.set("description", p.Description)
			}
			req := p.Required != nil && *p.Required
			if req {
				b.required = true
			}
			b.props = append(b.props, bodyProp{name: p.Name, schema: cp.schema, required: req})
		}
	}
	c.buildInput(op, params, b, &r)
	c.buildOutput(op, successSchemaV2(o.Responses))
	produces := o.Produces
	if len(produces) == 0 {
		produces = d.Produces
	}
	op.ResponseType = preferJSON(produces)
	c.add(op)
}

// paramV2 converts a non-body Swagger 2.0 parameter, synthesising its schema.
func (c *converter) paramV2(p *v2.Parameter, r *refs) param {
	style, explode := defaultStyle(p.In)
	if p.In != "formData" {
		style, explode = collectionStyle(p.In, p.CollectionFormat, style, explode)
	} else {
		style, explode = "form", p.CollectionFormat == "multi"
		if p.CollectionFormat == "" {
			explode = true
		}
	}
	cp := param{
		name:        p.Name,
		in:          p.In,
		required:    p.In == "path" || (p.Required != nil && *p.Required),
		style:       style,
		explode:     explode,
		description: p.Description,
	}
	if p.Schema != nil {
		cp.schema = c.schemas.proxy(p.Schema, modeInput, r)
		return cp
	}
	s := newObject()
	switch p.Type {
	case "":
		s.set("type", "string")
	case "file":
		s.set("type", "string")
		s.set("format", "binary")
	default:
		s.set("type", p.Type)
	}
	if p.Format != "" {
		s.set("format", p.Format)
	}
	if p.Items != nil {
		s.set("items", itemsV2(p.Items, 0))
	}
	if len(p.Enum) > 0 {
		vals := make([]any, 0, len(p.Enum))
		for _, n := range p.Enum {
			vals = append(vals, yamlValue(n))
		}
		s.set("enum", vals)
	}
	// libopenapi finds "default" anywhere below the parameter, so an items
	// default shows up here too; keep it on the items only.
	if p.Default != nil && !(p.Items != nil && sameNode(p.Items.Default, p.Default)) {
		s.set("default", yamlValue(p.Default))
	}
	if p.Minimum != nil {
		if p.ExclusiveMinimum != nil && *p.ExclusiveMinimum {
			s.set("exclusiveMinimum", *p.Minimum)
		} else {
			s.set("minimum", *p.Minimum)
		}
	}
	if p.Maximum != nil {
		if p.ExclusiveMaximum != nil && *p.ExclusiveMaximum {
			s.set("exclusiveMaximum", *p.Maximum)
		} else {
			s.set("maximum", *p.Maximum)
		}
	}
	if p.MinLength != nil {
		s.set("minLength", *p.MinLength)
	}
	if p.MaxLength != nil {
		s.set("maxLength", *p.MaxLength)
	}
	if p.Pattern != "" {
		s.set("pattern", p.Pattern)
	}
	if p.MinItems != nil {
		s.set("minItems", *p.MinItems)
	}
	if p.MaxItems != nil {
		s.set("maxItems", *p.MaxItems)
	}
	if p.UniqueItems != nil && *p.UniqueItems {
		s.set("uniqueItems", true)
	}
	if p.MultipleOf != nil {
		s.set("multipleOf", *p.MultipleOf)
	}
	cp.schema = s
	return cp
}

func itemsV2(it *v2.Items, depth int) *object {
	s := newObject()
	if it.Type != "" {
		s.set("type", it.Type)
	}
	if it.Format != "" {
		s.set("format", it.Format)
	}
	if it.Items != nil && depth < 8 {
		s.set("items", itemsV2(it.Items, depth+1))
	}
	if len(it.Enum) > 0 {
		vals := make([]any, 0, len(it.Enum))
		for _, n := range it.Enum {
			vals = append(vals, yamlValue(n))
		}
		s.set("enum", vals)
	}
	if it.Default != nil {
		s.set("default", yamlValue(it.Default))
	}
	if it.Pattern != "" {
		s.set("pattern", it.Pattern)
	}
	return s
}

// collectionStyle maps a Swagger 2.0 collectionFormat to an OpenAPI 3 style.
func collectionStyle(in, format, style string, explode bool) (string, bool) {
	switch format {
	case "", "csv":
		if in == "query" || in == "cookie" {
			return "form", false
		}
		return "simple", false
	case "multi":
		return "form", true
	case "ssv":
		return "spaceDelimited", false
	case "pipes":
		return "pipeDelimited", false
	case "tsv":
		return "tabDelimited", false
	}
	return style, explode
}

func successSchemaV2(rs *v2.Responses) *base.SchemaProxy {
	if rs == nil || rs.Codes == nil {
		return nil
	}
	for _, code := range successCodes {
		if r := rs.Codes.GetOrZero(code); r != nil {
			return r.Schema
		}
	}
	for code, r := range rs.Codes.FromOldest() {
		if strings.HasPrefix(code, "2") && r != nil {
			return r.Schema
		}
	}
	return nil
}

// sameNode reports whether a and b hold the same YAML value.
func sameNode(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return false
	}
	return a == b || (a.Line == b.Line && a.Column == b.Column && a.Value == b.Value)
}
