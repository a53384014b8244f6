package httpapi

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// OpenAPI builds the OpenAPI 3 document of the registered routes.
func (rt *Router) OpenAPI(version string) map[string]any {
	paths := map[string]any{}
	schemas := map[string]any{}
	for _, r := range rt.Routes() {
		p, _ := paths[r.Path].(map[string]any)
		if p == nil {
			p = map[string]any{}
			paths[r.Path] = p
		}
		op := map[string]any{
			"summary":     r.Summary,
			"tags":        []string{r.Tag},
			"operationId": strings.ToLower(r.Method) + opName(r.Path),
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.Access == Public {
			op["security"] = []any{}
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Request), schemas)}}}
		}
		resp := map[string]any{"description": http.StatusText(r.Status)}
		if r.Response != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response), schemas)}}
		}
		op["responses"] = map[string]any{
			strconv.Itoa(r.Status): resp,
			"default": map[string]any{"description": "Error", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
		}
		p[strings.ToLower(r.Method)] = op
	}
	schemas["Error"] = schemaOf(reflect.TypeOf(ErrorBody{}), schemas)
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Rounds API", "version": version},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": "rounds_session"},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}},
	}
}

func opName(path string) string {
	var b strings.Builder
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1"), "/") {
		seg = strings.Trim(seg, "{}.")
		if seg == "" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]))
		b.WriteString(strings.ReplaceAll(seg[1:], "-", ""))
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case reflect.Struct:
		name := schemaName(t)
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if _, ok := schemas[name]; ok {
			return ref
		}
		schemas[name] = map[string]any{} // placeholder against recursion
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			n := strings.Split(tag, ",")[0]
			if f.Anonymous && n == "" {
				if s, ok := schemaOf(f.Type, schemas)["$ref"].(string); ok {
					if inner, ok := schemas[strings.TrimPrefix(s, "#/components/schemas/")].(map[string]any); ok {
						if ip, ok := inner["properties"].(map[string]any); ok {
							for k, v := range ip {
								props[k] = v
							}
						}
					}
				}
				continue
			}
			if n == "" {
				n = f.Name
			}
			props[n] = schemaOf(f.Type, schemas)
		}
		schemas[name] = map[string]any{"type": "object", "properties": props}
		return ref
	}
	return map[string]any{}
}

func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 { // generic instantiation
		inner := n[i+1 : len(n)-1]
		if j := strings.LastIndexByte(inner, '.'); j >= 0 {
			inner = inner[j+1:]
		}
		n = n[:i] + "Of" + inner
	}
	pkg := t.PkgPath()
	if j := strings.LastIndexByte(pkg, '/'); j >= 0 {
		pkg = pkg[j+1:]
	}
	if pkg != "" && pkg != "httpapi" {
		return strings.ToUpper(pkg[:1]) + pkg[1:] + n
	}
	return n
}
