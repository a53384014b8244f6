package approvals_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

func fuzzF64(v float64) *float64 { return &v }

// fuzzSchema has one field of every type.
var fuzzSchema = approvals.Schema{Fields: []approvals.Field{
	{Key: "title", Label: "事由", Type: approvals.FieldText, Required: true},
	{Key: "notes", Label: "说明", Type: approvals.FieldLongText},
	{Key: "count", Label: "数量", Type: approvals.FieldNumber, Min: fuzzF64(1), Max: fuzzF64(10)},
	{Key: "amount", Label: "金额", Type: approvals.FieldMoney},
	{Key: "day", Label: "日期", Type: approvals.FieldDate},
	{Key: "period", Label: "时间段", Type: approvals.FieldDateRange},
	{Key: "at", Label: "时间", Type: approvals.FieldTime},
	{Key: "kind", Label: "类型", Type: approvals.FieldSelect, Options: []string{"annual", "sick"}},
	{Key: "tags", Label: "标签", Type: approvals.FieldMultiSelect, Options: []string{"a", "b", "c"}},
	{Key: "who", Label: "人员", Type: approvals.FieldPerson},
	{Key: "dept", Label: "科室", Type: approvals.FieldDepartment},
	{Key: "files", Label: "附件", Type: approvals.FieldAttachment},
	{Key: "items", Label: "明细", Type: approvals.FieldDetail, Columns: []approvals.Field{
		{Key: "name", Label: "名称", Type: approvals.FieldText, Required: true},
		{Key: "price", Label: "单价", Type: approvals.FieldMoney, Required: true},
	}},
	{Key: "days_off", Label: "天数", Type: approvals.FieldComputed, Formula: "days(period)"},
	{Key: "total", Label: "合计", Type: approvals.FieldComputed, Formula: "sum(items, \"price\") + amount"},
}}

func invalidNaming(t *testing.T, err error, prefix string) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != core.EInvalid || !strings.HasPrefix(ce.Field, prefix) || ce.Message == "" {
		t.Fatalf("refusal is not an EInvalid naming a %s… field: %#v", prefix, err)
	}
}

// FuzzFormValues: arbitrary submitted values never panic the validation; a
// refusal names a form field; accepted values are normalised so that
// validating them again gives the same values, and computed numbers are
// finite.
func FuzzFormValues(f *testing.F) {
	if err := fuzzSchema.Validate(); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"title":"年假","count":2,"amount":100.5,"day":"2026-03-01","period":{"start":"2026-03-01","end":"2026-03-03"},"at":"08:30","kind":"annual","tags":["a","b"],"who":"01890a5d-ac96-774b-b4a5-2f2a7b3c4d5e","files":[],"items":[{"name":"纱布","price":3}]}`,
		`{"title":"x","period":{"start":"2026-03-03","end":"2026-03-01"}}`,
		`{"title":"x","period":{"start":"0001-01-01","end":"9999-12-31"}}`,
		`{"title":"x","amount":1e308,"items":[{"name":"a","price":1e308},{"name":"b","price":1e308}]}`,
		`{"title":"x","count":0}`,
		`{"title":"x","days_off":3}`,
		`{"title":"x","admin":true}`,
		`{"title":"` + strings.Repeat("长", 201) + `"}`,
		`{"title":"x","tags":["a","a"]}`,
		`{"title":"x","at":"24:00"}`,
		`{"title":"x","items":[{"name":"a","price":-1,"extra":1}]}`,
		`{"title":null}`,
		`[]`,
		`null`,
		`{"title":"x","day":"2026-02-30"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		vals, err := fuzzSchema.ValidateValues(raw)
		if err != nil {
			invalidNaming(t, err, "form")
			return
		}
		for k, v := range vals {
			if n, ok := v.(float64); ok && (math.IsNaN(n) || math.IsInf(n, 0)) {
				t.Fatalf("%s is %v", k, n)
			}
		}
		sent := approvals.Values{}
		for k, v := range vals {
			if k != "days_off" && k != "total" {
				sent[k] = v
			}
		}
		b, err := json.Marshal(sent)
		if err != nil {
			t.Fatalf("accepted values do not encode: %v", err)
		}
		again, err := fuzzSchema.ValidateValues(b)
		if err != nil {
			t.Fatalf("accepted values are refused the second time: %v\n%s", err, b)
		}
		x, _ := json.Marshal(vals)
		y, _ := json.Marshal(again)
		if string(x) != string(y) {
			t.Fatalf("validation is not stable:\n%s\n%s", x, y)
		}
	})
}

// FuzzFormSchema: an arbitrary schema (as an admin might upload it) never
// panics Validate, and a refusal names a schema field.
func FuzzFormSchema(f *testing.F) {
	b, _ := json.Marshal(fuzzSchema)
	f.Add(b)
	for _, seed := range []string{
		`{"fields":[{"key":"a","label":"A","type":"computed","formula":"1..1000000000 | len()"}]}`,
		`{"fields":[{"key":"a","label":"A","type":"computed","formula":"b"},{"key":"b","label":"B","type":"number"}]}`,
		`{"fields":[{"key":"d","label":"D","type":"detail","columns":[{"key":"e","label":"E","type":"detail","columns":[]}]}]}`,
		`{"fields":[{"key":"s","label":"S","type":"select","options":["",""]}]}`,
		`{"fields":[{"key":"n","label":"N","type":"number","min":5,"max":1}]}`,
		`{"fields":[{"key":"days","label":"X","type":"text"}]}`,
		`{"fields":[{"key":"c","label":"C","type":"computed","formula":"days(c)"}]}`,
		`{"fields":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var s approvals.Schema
		if json.Unmarshal(raw, &s) != nil {
			return
		}
		if err := s.Validate(); err != nil {
			invalidNaming(t, err, "schema")
			return
		}
		// A valid schema accepts an empty form unless something is required.
		if _, err := s.ValidateValues([]byte(`{}`)); err != nil {
			invalidNaming(t, err, "form")
		}
	})
}

// FuzzFlowCondition compiles arbitrary branch conditions (and a computed
// field's formula) and routes sample forms through them: Compile and Route
// never panic, a refused condition is named, and routing ends on a path of
// the flow's nodes.
func FuzzFlowCondition(f *testing.F) {
	for _, seed := range []struct{ cond, formula, form string }{
		{"amount > 10000", "amount * 2", `{"title":"x","amount":20000}`},
		{`days_off > 3 && submitter_department in ["x"]`, "days(period)", `{"title":"x","period":{"start":"2026-03-01","end":"2026-03-09"}}`},
		{`kind == "sick" || "a" in tags`, "count + 1", `{"title":"x","kind":"sick","tags":["a"]}`},
		{`len(items) > 0 && sum(items, "price") > 100`, `sum(items, "price")`, `{"title":"x","items":[{"name":"a","price":200}]}`},
		{"len(map(1..100000000, #)) > 0", "1", `{"title":"x"}`},
		{"count / 0 > 1", "count / 0", `{"title":"x","count":1}`},
		{`title matches "(a+)+$"`, "0", `{"title":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}`},
		{"amount", "amount", `{"title":"x"}`},
		{`{"a":1}.a == 1`, "1", `{"title":"x"}`},
		{"submitter == who", "-amount", `{"title":"x"}`},
	} {
		f.Add(seed.cond, seed.formula, []byte(seed.form))
	}
	f.Fuzz(func(t *testing.T, cond, formula string, form []byte) {
		schema := approvals.Schema{Fields: append(append([]approvals.Field{}, fuzzSchema.Fields...),
			approvals.Field{Key: "extra", Label: "附加", Type: approvals.FieldComputed, Formula: formula})}
		if err := schema.Validate(); err != nil {
			invalidNaming(t, err, "schema")
			schema = fuzzSchema
		}
		flow := approvals.Flow{Nodes: []approvals.Node{
			{ID: "start", Kind: approvals.NodeStart, Next: "b"},
			{ID: "b", Kind: approvals.NodeBranch, Next: "low", Branches: []approvals.Branch{{Condition: cond, Next: "high"}}},
			{ID: "high", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 2, Next: "end"},
			{ID: "low", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1, Next: "end"},
			{ID: "end", Kind: approvals.NodeEnd},
		}}
		cf, err := flow.Compile(schema)
		if err != nil {
			invalidNaming(t, err, "flow")
			return
		}
		vals, err := schema.ValidateValues(form)
		if err != nil {
			invalidNaming(t, err, "form")
			return
		}
		env := schema.Env()
		for k, v := range vals {
			env[k] = v
		}
		env["submitter"], env["submitter_department"], env["submitter_departments"] = "u1", "d1", []string{"d1"}
		path, err := cf.Route(env)
		if err != nil {
			invalidNaming(t, err, "form")
			return
		}
		if len(path) != 1 || (path[0] != "high" && path[0] != "low") {
			t.Fatalf("route %v", path)
		}
	})
}
