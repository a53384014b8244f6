package approvals_test

import (
	"encoding/json"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

func f64(v float64) *float64 { return &v }

var fullSchema = approvals.Schema{Fields: []approvals.Field{
	{Key: "title", Label: "Title", Type: approvals.FieldText, Required: true},
	{Key: "notes", Label: "Notes", Type: approvals.FieldLongText},
	{Key: "count", Label: "Count", Type: approvals.FieldNumber, Min: f64(1), Max: f64(10)},
	{Key: "amount", Label: "Amount", Type: approvals.FieldMoney},
	{Key: "day", Label: "Day", Type: approvals.FieldDate},
	{Key: "period", Label: "Period", Type: approvals.FieldDateRange},
	{Key: "at", Label: "At", Type: approvals.FieldTime},
	{Key: "kind", Label: "Kind", Type: approvals.FieldSelect, Options: []string{"annual", "sick"}},
	{Key: "tags", Label: "Tags", Type: approvals.FieldMultiSelect, Options: []string{"a", "b", "c"}},
	{Key: "who", Label: "Who", Type: approvals.FieldPerson},
	{Key: "dept", Label: "Dept", Type: approvals.FieldDepartment},
	{Key: "files", Label: "Files", Type: approvals.FieldAttachment},
	{Key: "items", Label: "Items", Type: approvals.FieldDetail, Columns: []approvals.Field{
		{Key: "name", Label: "Name", Type: approvals.FieldText, Required: true},
		{Key: "price", Label: "Price", Type: approvals.FieldMoney, Required: true},
	}},
	{Key: "days_off", Label: "Days off", Type: approvals.FieldComputed, Formula: "days(period)"},
	{Key: "total", Label: "Total", Type: approvals.FieldComputed, Formula: "sum(items, \"price\")"},
}}

func TestFormValues(t *testing.T) {
	if err := fullSchema.Validate(); err != nil {
		t.Fatal(err)
	}
	person, file := id(5), core.NewID()
	good := map[string]any{
		"title": "  Leave  ", "notes": "long", "count": 3, "amount": 12.5, "day": "2026-03-01",
		"period": map[string]any{"start": "2026-03-01", "end": "2026-03-04"}, "at": "08:30", "kind": "sick",
		"tags": []string{"a", "c"}, "who": person, "dept": deptWard, "files": []string{file},
		"items": []map[string]any{{"name": "gloves", "price": 10.25}, {"name": "masks", "price": 4}},
	}
	raw, _ := json.Marshal(good)
	v, err := fullSchema.ValidateValues(raw)
	if err != nil {
		t.Fatal(err)
	}
	if v["title"] != "Leave" || v["days_off"] != 4.0 || v["total"] != 14.25 || v["amount"] != 12.5 {
		t.Fatalf("values = %v", v)
	}

	bad := []struct {
		name  string
		key   string
		value any
		field string
	}{
		{"required text missing", "title", nil, "form.title"},
		{"text not a string", "title", 5, "form.title"},
		{"text too long", "title", string(make([]rune, 201)), "form.title"},
		{"long text too long", "notes", string(make([]byte, 5001)), "form.notes"},
		{"number not a number", "count", "three", "form.count"},
		{"number below min", "count", 0, "form.count"},
		{"number above max", "count", 11, "form.count"},
		{"money with 3 decimals", "amount", 1.234, "form.amount"},
		{"negative money", "amount", -5, "form.amount"},
		{"money too large", "amount", 1e13, "form.amount"},
		{"money as text", "amount", "12", "form.amount"},
		{"date malformed", "day", "01/03/2026", "form.day"},
		{"date impossible", "day", "2026-02-30", "form.day"},
		{"range end before start", "period", map[string]any{"start": "2026-03-04", "end": "2026-03-01"}, "form.period.end"},
		{"range bad start", "period", map[string]any{"start": "x", "end": "2026-03-01"}, "form.period.start"},
		{"range extra key", "period", map[string]any{"start": "2026-03-01", "end": "2026-03-01", "half": true}, "form.period"},
		{"range over a year", "period", map[string]any{"start": "2026-01-01", "end": "2027-06-01"}, "form.period.end"},
		{"time malformed", "at", "8:30", "form.at"},
		{"time out of range", "at", "25:00", "form.at"},
		{"select not an option", "kind", "holiday", "form.kind"},
		{"multi-select not an option", "tags", []string{"a", "z"}, "form.tags[1]"},
		{"multi-select duplicate", "tags", []string{"a", "a"}, "form.tags[1]"},
		{"person not an id", "who", "bob", "form.who"},
		{"department not an id", "dept", 7, "form.dept"},
		{"attachment not an id", "files", []string{"x"}, "form.files[0]"},
		{"attachment not a list", "files", "x", "form.files"},
		{"detail row missing column", "items", []map[string]any{{"name": "a"}}, "form.items[0].price"},
		{"detail row bad column", "items", []map[string]any{{"name": "a", "price": "x"}}, "form.items[0].price"},
		{"detail row unknown column", "items", []map[string]any{{"name": "a", "price": 1, "qty": 2}}, "form.items[0].qty"},
		{"computed field sent", "days_off", 3, "form.days_off"},
		{"unknown field", "salary", 3, "form.salary"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range good {
				m[k] = v
			}
			if c.value == nil {
				delete(m, c.key)
			} else {
				m[c.key] = c.value
			}
			raw, _ := json.Marshal(m)
			_, err := fullSchema.ValidateValues(raw)
			ce, ok := err.(*core.Error)
			if !ok || ce.Code != core.EInvalid || ce.Field != c.field {
				t.Fatalf("want invalid %s, got %v", c.field, err)
			}
		})
	}
}

func TestSchemaValidation(t *testing.T) {
	cases := []struct {
		name  string
		f     approvals.Field
		field string
	}{
		{"bad key", approvals.Field{Key: "Amount", Label: "A", Type: approvals.FieldText}, "schema.fields[0].key"},
		{"reserved key", approvals.Field{Key: "submitter", Label: "A", Type: approvals.FieldText}, "schema.fields[0].key"},
		{"no label", approvals.Field{Key: "a", Type: approvals.FieldText}, "schema.fields[0].label"},
		{"unknown type", approvals.Field{Key: "a", Label: "A", Type: "colour"}, "schema.fields[0].type"},
		{"select without options", approvals.Field{Key: "a", Label: "A", Type: approvals.FieldSelect}, "schema.fields[0].options"},
		{"detail without columns", approvals.Field{Key: "a", Label: "A", Type: approvals.FieldDetail}, "schema.fields[0].columns"},
		{"formula that does not compile", approvals.Field{Key: "a", Label: "A", Type: approvals.FieldComputed, Formula: "days(("}, "schema.fields[0].formula"},
		{"formula over unknown field", approvals.Field{Key: "a", Label: "A", Type: approvals.FieldComputed, Formula: "days(period)"}, "schema.fields[0].formula"},
		{"min above max", approvals.Field{Key: "a", Label: "A", Type: approvals.FieldNumber, Min: f64(3), Max: f64(1)}, "schema.fields[0].min"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := approvals.Schema{Fields: []approvals.Field{c.f}}.Validate()
			ce, ok := err.(*core.Error)
			if !ok || ce.Code != core.EInvalid || ce.Field != c.field {
				t.Fatalf("want invalid %s, got %v", c.field, err)
			}
		})
	}
}

func TestTemplateVersions(t *testing.T) {
	e := newEnv(t)
	v1 := e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(named(users(doctor), "a"))})
	req := e.submit(nurse, "t", map[string]any{})
	v2, err := e.svc.SaveFlow(as(admin), "t", flowOf(named(users(doctor2), "a")))
	if err != nil || v2.Version != 2 || v1.Version != 1 {
		t.Fatalf("v2 = %+v, %v", v2, err)
	}
	// The running request keeps version 1 and its approver.
	e.approve(doctor, req)
	if e.status(req) != approvals.StatusApproved || e.view(req).Request.TemplateVersion != 1 {
		t.Fatal("running request moved to the new version")
	}
	req2 := e.submit(nurse, "t", map[string]any{})
	if v := e.view(req2); v.Request.TemplateVersion != 2 || e.pending(req2)[0] != doctor2 {
		t.Fatalf("new request: version %d pending %v", v.Request.TemplateVersion, e.pending(req2))
	}
	// Submitting a bad form changes nothing.
	_, err = e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: aid(), TemplateCode: "t", Form: []byte(`{"amount": -1}`)})
	wantCode(t, err, core.EInvalid)
	items, _, _ := e.svc.List(as(nurse), approvals.ListSubmitted, approvals.Filter{}, core.PageRequest{})
	if len(items) != 2 {
		t.Fatalf("%d requests after a failed submit", len(items))
	}
	_, err = e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: aid(), TemplateCode: "nope", Form: []byte(`{}`)})
	wantCode(t, err, core.EInvalid)
}
