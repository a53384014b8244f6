package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
)

type fuzzInner struct {
	On    bool     `json:"on"`
	Level *int     `json:"level,omitempty"`
	Codes []string `json:"codes"`
}

type fuzzItem struct {
	ID string `json:"id"`
}

// fuzzBody has the shapes request bodies have: scalars, a nested object, a
// list of objects, a pointer.
type fuzzBody struct {
	Name  string     `json:"name"`
	Count int        `json:"count"`
	Ratio float64    `json:"ratio"`
	Tags  []string   `json:"tags"`
	Inner fuzzInner  `json:"inner"`
	Items []fuzzItem `json:"items"`
	Note  *string    `json:"note,omitempty"`
}

var fuzzKnown = map[string][]string{
	"":      {"name", "count", "ratio", "tags", "inner", "items", "note"},
	"inner": {"on", "level", "codes"},
	"items": {"id"},
}

// FuzzDecodeBytes: strict decoding never panics; a refusal is always an
// EInvalid *core.Error naming a field; an accepted body never carried a key
// the type does not have, at any depth we model.
func FuzzDecodeBytes(f *testing.F) {
	for _, seed := range []string{
		`{"name":"王","count":3,"tags":["a"],"inner":{"on":true,"codes":["x"]},"items":[{"id":"1"}]}`,
		`{"name":"x","admin":true}`,
		`{"inner":{"on":true,"sudo":1}}`,
		`{"items":[{"id":"1","owner":"me"}]}`,
		`{"count":"3"}`,
		`{"count":1e400}`,
		`{"name":"a"}{"name":"b"}`,
		`{"name":"a"} trailing`,
		`[1,2,3]`,
		`null`,
		`{"NAME":"case","Name":"folded"}`,
		`{"note":null,"inner":null}`,
		`{"name":"\ud800"}`,
		"   ",
		`{"items":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzBody
		err := httpapi.DecodeBytes(body, &v)
		if err != nil {
			var ce *core.Error
			if !asCore(err, &ce) || ce.Code != core.EInvalid || ce.Field == "" || ce.Message == "" {
				t.Fatalf("refusal is not an EInvalid naming a field: %#v", err)
			}
			return
		}
		// Accepted: every key must be one of the type's (encoding/json
		// folds case, so compare folded).
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) != nil {
			if strings.TrimSpace(string(body)) == "null" {
				return
			}
			t.Fatalf("accepted a body that is not an object: %q", body)
		}
		checkKeys(t, "", top)
		if raw, ok := lookupFold(top, "inner"); ok {
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				checkKeys(t, "inner", m)
			}
		}
		if raw, ok := lookupFold(top, "items"); ok {
			var list []map[string]json.RawMessage
			if json.Unmarshal(raw, &list) == nil {
				for _, m := range list {
					checkKeys(t, "items", m)
				}
			}
		}
	})
}

func asCore(err error, target **core.Error) bool {
	e, ok := err.(*core.Error)
	if ok {
		*target = e
	}
	return ok
}

func lookupFold(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func checkKeys(t *testing.T, where string, m map[string]json.RawMessage) {
	t.Helper()
	for k := range m {
		ok := false
		for _, want := range fuzzKnown[where] {
			if strings.EqualFold(k, want) {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("accepted an unknown key %q in %q", k, where)
		}
	}
}
