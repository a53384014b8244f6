package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/roundshq/rounds/core"
)

// MaxBodyBytes is the default limit for a JSON request body.
const MaxBodyBytes = 1 << 20

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// Decode reads a JSON body into v strictly: at most MaxBodyBytes, unknown
// fields refused, wrong types named, trailing data refused. Errors are
// *core.Error with code invalid (field named) or too_large.
func Decode(r *http.Request, v any) error {
	return DecodeLimit(r, v, MaxBodyBytes)
}

// DecodeLimit is Decode with a custom size limit.
func DecodeLimit(r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return core.Invalid("content-type", "send JSON with Content-Type: application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return core.Invalid("body", "could not read the request body")
	}
	if int64(len(body)) > limit {
		return (&core.Error{Code: core.ETooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", limit)}).With("limit", limit)
	}
	return DecodeBytes(body, v)
}

// DecodeBytes decodes JSON strictly (see Decode).
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return core.Invalid("body", "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return core.Invalid("body", "unexpected data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return core.Invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return core.Invalid("body", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return core.Invalid(field, "%s must be %s, not %s", field, kindName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return core.Invalid("body", "the JSON ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if f == "" {
			// An empty key would name no field.
			return core.Invalid("body", "a key of the JSON object is empty")
		}
		return core.Invalid(f, "unknown field %q", f)
	}
	return core.Invalid("body", "malformed JSON: %v", err)
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	}
	return "a " + k
}

// Page reads ?cursor= and ?limit= from the query.
func Page(r *http.Request) (core.PageRequest, error) {
	p := core.PageRequest{Cursor: r.URL.Query().Get("cursor")}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > core.MaxPageLimit {
			return p, core.Invalid("limit", "limit must be a whole number from 1 to %d", core.MaxPageLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// List is the response shape of every paginated list.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func anyString(v any) string { return fmt.Sprint(v) }
