package approvals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/roundshq/rounds/core"
)

// FieldType is the kind of a form field.
type FieldType string

const (
	FieldText        FieldType = "text"
	FieldLongText    FieldType = "long_text"
	FieldNumber      FieldType = "number"
	FieldMoney       FieldType = "money"
	FieldDate        FieldType = "date"       // "2026-03-01"
	FieldDateRange   FieldType = "date_range" // {"start":"2026-03-01","end":"2026-03-03"}
	FieldTime        FieldType = "time"       // "08:30"
	FieldSelect      FieldType = "select"
	FieldMultiSelect FieldType = "multi_select"
	FieldPerson      FieldType = "person"     // a user id
	FieldDepartment  FieldType = "department" // a department id
	FieldAttachment  FieldType = "attachment" // a list of file ids
	FieldDetail      FieldType = "detail"     // rows of sub-fields
	FieldComputed    FieldType = "computed"   // a number computed by Rounds from other fields
)

var fieldTypes = map[FieldType]bool{
	FieldText: true, FieldLongText: true, FieldNumber: true, FieldMoney: true, FieldDate: true,
	FieldDateRange: true, FieldTime: true, FieldSelect: true, FieldMultiSelect: true, FieldPerson: true,
	FieldDepartment: true, FieldAttachment: true, FieldDetail: true, FieldComputed: true,
}

// Limits that keep one request small enough to render on a phone and to
// index for search.
const (
	MaxTextLen      = 200
	MaxLongTextLen  = 5000
	MaxAttachments  = 20
	MaxDetailRows   = 100
	MaxFields       = 60
	MaxMoney        = 1e12
	maxFormulaLen   = 500
	maxConditionLen = 500
)

// Field is one field of a form schema.
type Field struct {
	Key      string    `json:"key"`
	Label    string    `json:"label"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
	// Min and Max bound numbers and money; for text they bound the length.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Options lists the allowed values of select and multi-select fields.
	Options []string `json:"options,omitempty"`
	// Columns are the sub-fields of each row of a detail field.
	Columns []Field `json:"columns,omitempty"`
	// Formula computes a computed field, in the expression language used by
	// flow conditions, with the other fields as variables and the helpers
	// days(range) (calendar days, both ends counted) and sum(rows, "column").
	Formula string `json:"formula,omitempty"`
}

// Schema is the list of fields of a form template.
type Schema struct {
	Fields []Field `json:"fields"`
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// reserved names are variables every condition can use besides the fields.
var reserved = map[string]bool{"submitter": true, "submitter_department": true, "submitter_departments": true, "days": true, "sum": true}

// Validate checks the schema itself: keys, types, options, formulas.
func (s Schema) Validate() error {
	if len(s.Fields) == 0 {
		return core.Invalid("schema.fields", "a form needs at least one field")
	}
	if len(s.Fields) > MaxFields {
		return core.Invalid("schema.fields", "a form has at most %d fields", MaxFields)
	}
	seen := map[string]bool{}
	for i, f := range s.Fields {
		path := fmt.Sprintf("schema.fields[%d]", i)
		if err := f.validate(path, false); err != nil {
			return err
		}
		if seen[f.Key] {
			return core.Invalid(path+".key", "the field key %q is used twice", f.Key)
		}
		seen[f.Key] = true
	}
	// Formulas see the fields declared before them, so computed fields can
	// build on each other without cycles.
	for i, f := range s.Fields {
		if f.Type != FieldComputed {
			continue
		}
		env := s.envBefore(i)
		if _, err := compileFormula(f.Formula, env); err != nil {
			return core.Invalid(fmt.Sprintf("schema.fields[%d].formula", i), "the formula does not compile: %v", firstLine(err))
		}
	}
	return nil
}

func (f Field) validate(path string, inDetail bool) error {
	if !keyRE.MatchString(f.Key) || reserved[f.Key] {
		return core.Invalid(path+".key", "a field key is 1-40 lower-case letters, digits or _, starting with a letter, and not a reserved name (got %q)", f.Key)
	}
	if strings.TrimSpace(f.Label) == "" || len([]rune(f.Label)) > 100 {
		return core.Invalid(path+".label", "a field needs a label of 1-100 characters")
	}
	if !fieldTypes[f.Type] {
		return core.Invalid(path+".type", "unknown field type %q", f.Type)
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		return core.Invalid(path+".min", "min is greater than max")
	}
	switch f.Type {
	case FieldSelect, FieldMultiSelect:
		if len(f.Options) == 0 {
			return core.Invalid(path+".options", "a select field needs options")
		}
		seen := map[string]bool{}
		for _, o := range f.Options {
			if strings.TrimSpace(o) == "" || seen[o] {
				return core.Invalid(path+".options", "options must be non-empty and distinct")
			}
			seen[o] = true
		}
	case FieldDetail:
		if inDetail {
			return core.Invalid(path+".type", "detail rows cannot nest")
		}
		if len(f.Columns) == 0 {
			return core.Invalid(path+".columns", "a detail field needs columns")
		}
		seen := map[string]bool{}
		for j, c := range f.Columns {
			if c.Type == FieldComputed {
				return core.Invalid(fmt.Sprintf("%s.columns[%d].type", path, j), "computed columns are not supported")
			}
			if err := c.validate(fmt.Sprintf("%s.columns[%d]", path, j), true); err != nil {
				return err
			}
			if seen[c.Key] {
				return core.Invalid(fmt.Sprintf("%s.columns[%d].key", path, j), "the column key %q is used twice", c.Key)
			}
			seen[c.Key] = true
		}
	case FieldComputed:
		if strings.TrimSpace(f.Formula) == "" || len(f.Formula) > maxFormulaLen {
			return core.Invalid(path+".formula", "a computed field needs a formula of at most %d characters", maxFormulaLen)
		}
		if f.Required {
			return core.Invalid(path+".required", "a computed field is filled by Rounds and cannot be required")
		}
	}
	if f.Type != FieldDetail && len(f.Columns) > 0 {
		return core.Invalid(path+".columns", "only detail fields have columns")
	}
	if f.Type != FieldComputed && f.Formula != "" {
		return core.Invalid(path+".formula", "only computed fields have a formula")
	}
	return nil
}

// DateRange is the value of a date_range field.
type DateRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// sampleValue is a typed zero of the Go value a field has in expressions, so
// expr can type-check conditions and formulas when they are saved.
func sampleValue(f Field) any {
	switch f.Type {
	case FieldNumber, FieldMoney, FieldComputed:
		return float64(0)
	case FieldMultiSelect, FieldAttachment:
		return []string{}
	case FieldDateRange:
		return map[string]any{"start": "", "end": ""}
	case FieldDetail:
		return []map[string]any{}
	default:
		return ""
	}
}

// Env returns the typed variables conditions are checked against: every
// field plus submitter, submitter_department and submitter_departments.
func (s Schema) Env() map[string]any {
	env := s.envBefore(len(s.Fields))
	return env
}

func (s Schema) envBefore(n int) map[string]any {
	env := map[string]any{"submitter": "", "submitter_department": "", "submitter_departments": []string{}}
	for i, f := range s.Fields {
		if i >= n {
			break
		}
		env[f.Key] = sampleValue(f)
	}
	return env
}

func helpers() expr.Option {
	return expr.Function("days", func(params ...any) (any, error) {
		return rangeDays(params[0])
	}, new(func(map[string]any) float64))
}

func sumHelper() expr.Option {
	return expr.Function("sum", func(params ...any) (any, error) {
		rows, _ := params[0].([]map[string]any)
		col, _ := params[1].(string)
		total := 0.0
		for _, r := range rows {
			if v, ok := r[col].(float64); ok {
				total += v
			}
		}
		return total, nil
	}, new(func([]map[string]any, string) float64))
}

func rangeDays(v any) (float64, error) {
	m, _ := v.(map[string]any)
	if m == nil {
		return 0, nil
	}
	s, _ := m["start"].(string)
	e, _ := m["end"].(string)
	if s == "" || e == "" {
		return 0, nil
	}
	st, err1 := time.Parse(time.DateOnly, s)
	en, err2 := time.Parse(time.DateOnly, e)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("not a date range")
	}
	return math.Round(en.Sub(st).Hours()/24) + 1, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Values are validated form values keyed by field key: strings, float64,
// []string, map[string]any (date ranges) and []map[string]any (detail rows).
type Values map[string]any

// ValidateValues checks raw form values (as decoded from JSON) against the
// schema and returns them normalised, with computed fields filled in. The
// error names the offending field ("form.amount", "form.items[2].price").
func (s Schema) ValidateValues(raw json.RawMessage) (Values, error) {
	in := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, core.Invalid("form", "the form must be a JSON object")
		}
	}
	known := map[string]bool{}
	for _, f := range s.Fields {
		known[f.Key] = true
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			return nil, core.Invalid("form."+k, "the form has no field %q", k)
		}
	}
	out := Values{}
	for _, f := range s.Fields {
		path := "form." + f.Key
		rv, ok := in[f.Key]
		if f.Type == FieldComputed {
			if ok {
				return nil, core.Invalid(path, "%s is computed by Rounds; do not send it", f.Label)
			}
			continue
		}
		if !ok || isNull(rv) {
			if f.Required {
				return nil, core.Invalid(path, "%s is required", f.Label)
			}
			continue
		}
		v, err := f.value(path, rv)
		if err != nil {
			return nil, err
		}
		if v == nil {
			if f.Required {
				return nil, core.Invalid(path, "%s is required", f.Label)
			}
			continue
		}
		out[f.Key] = v
	}
	for _, f := range s.Fields {
		if f.Type != FieldComputed {
			continue
		}
		env := s.Env()
		prog, err := s.formula(f.Formula, env)
		for k, v := range out {
			env[k] = v
		}
		if err != nil {
			return nil, core.Invalid("form."+f.Key, "cannot compute %s: %v", f.Label, firstLine(err))
		}
		res, err := vm.Run(prog, env)
		if err != nil {
			return nil, core.Invalid("form."+f.Key, "cannot compute %s: %v", f.Label, firstLine(err))
		}
		out[f.Key], _ = res.(float64)
	}
	return out, nil
}

// formulas caches compiled formulas by formula and the field types they
// were checked against (a template version never changes, so its entries
// stay valid).
var formulas sync.Map

func (s Schema) formula(formula string, sample map[string]any) (*vm.Program, error) {
	var sig strings.Builder
	sig.WriteString(formula)
	for _, f := range s.Fields {
		sig.WriteString("\x00" + f.Key + ":" + string(f.Type))
	}
	key := sig.String()
	if p, ok := formulas.Load(key); ok {
		return p.(*vm.Program), nil
	}
	p, err := compileFormula(formula, sample)
	if err != nil {
		return nil, err
	}
	formulas.Store(key, p)
	return p, nil
}

func compileFormula(formula string, env map[string]any) (*vm.Program, error) {
	return expr.Compile(formula, expr.Env(env), expr.AsFloat64(), helpers(), sumHelper())
}

func isNull(rv json.RawMessage) bool { return string(bytes.TrimSpace(rv)) == "null" }

func (f Field) value(path string, rv json.RawMessage) (any, error) {
	switch f.Type {
	case FieldText, FieldLongText:
		var s string
		if json.Unmarshal(rv, &s) != nil {
			return nil, core.Invalid(path, "%s must be text", f.Label)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		max := MaxTextLen
		if f.Type == FieldLongText {
			max = MaxLongTextLen
		}
		if f.Max != nil && int(*f.Max) < max {
			max = int(*f.Max)
		}
		n := len([]rune(s))
		if n > max {
			return nil, core.Invalid(path, "%s is at most %d characters", f.Label, max)
		}
		if f.Min != nil && n < int(*f.Min) {
			return nil, core.Invalid(path, "%s is at least %d characters", f.Label, int(*f.Min))
		}
		return s, nil
	case FieldNumber, FieldMoney:
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(rv))
		dec.UseNumber()
		if t := bytes.TrimSpace(rv); len(t) == 0 || t[0] == '"' || dec.Decode(&n) != nil {
			return nil, core.Invalid(path, "%s must be a number", f.Label)
		}
		x, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, core.Invalid(path, "%s must be a number", f.Label)
		}
		if f.Type == FieldMoney {
			if i := strings.IndexAny(n.String(), "eE"); i >= 0 {
				return nil, core.Invalid(path, "%s must be written as a plain amount", f.Label)
			}
			if i := strings.IndexByte(n.String(), '.'); i >= 0 && len(n.String())-i-1 > 2 {
				return nil, core.Invalid(path, "%s has at most 2 decimal places", f.Label)
			}
			if x < 0 && f.Min == nil {
				return nil, core.Invalid(path, "%s cannot be negative", f.Label)
			}
			if math.Abs(x) > MaxMoney {
				return nil, core.Invalid(path, "%s is too large", f.Label)
			}
		}
		if f.Min != nil && x < *f.Min {
			return nil, core.Invalid(path, "%s must be at least %v", f.Label, *f.Min)
		}
		if f.Max != nil && x > *f.Max {
			return nil, core.Invalid(path, "%s must be at most %v", f.Label, *f.Max)
		}
		return x, nil
	case FieldDate:
		var s string
		if json.Unmarshal(rv, &s) != nil {
			return nil, core.Invalid(path, "%s must be a date like 2026-03-01", f.Label)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, core.Invalid(path, "%s must be a date like 2026-03-01", f.Label)
		}
		return s, nil
	case FieldDateRange:
		var r DateRange
		dec := json.NewDecoder(bytes.NewReader(rv))
		dec.DisallowUnknownFields()
		if dec.Decode(&r) != nil {
			return nil, core.Invalid(path, `%s must be {"start": "2026-03-01", "end": "2026-03-03"}`, f.Label)
		}
		st, err1 := time.Parse(time.DateOnly, r.Start)
		en, err2 := time.Parse(time.DateOnly, r.End)
		if err1 != nil {
			return nil, core.Invalid(path+".start", "%s: the start must be a date like 2026-03-01", f.Label)
		}
		if err2 != nil {
			return nil, core.Invalid(path+".end", "%s: the end must be a date like 2026-03-01", f.Label)
		}
		if en.Before(st) {
			return nil, core.Invalid(path+".end", "%s: the end is before the start", f.Label)
		}
		if en.Sub(st) > 366*24*time.Hour {
			return nil, core.Invalid(path+".end", "%s spans more than a year", f.Label)
		}
		return map[string]any{"start": r.Start, "end": r.End}, nil
	case FieldTime:
		var s string
		if json.Unmarshal(rv, &s) != nil {
			return nil, core.Invalid(path, "%s must be a time like 08:30", f.Label)
		}
		if _, err := time.Parse("15:04", s); err != nil || len(s) != 5 {
			return nil, core.Invalid(path, "%s must be a time like 08:30", f.Label)
		}
		return s, nil
	case FieldSelect:
		var s string
		if json.Unmarshal(rv, &s) != nil || !contains(f.Options, s) {
			return nil, core.Invalid(path, "%s must be one of %s", f.Label, strings.Join(f.Options, ", "))
		}
		return s, nil
	case FieldMultiSelect:
		var ss []string
		if json.Unmarshal(rv, &ss) != nil {
			return nil, core.Invalid(path, "%s must be a list of options", f.Label)
		}
		seen := map[string]bool{}
		for i, s := range ss {
			if !contains(f.Options, s) {
				return nil, core.Invalid(fmt.Sprintf("%s[%d]", path, i), "%s: %q is not one of %s", f.Label, s, strings.Join(f.Options, ", "))
			}
			if seen[s] {
				return nil, core.Invalid(fmt.Sprintf("%s[%d]", path, i), "%s: %q is chosen twice", f.Label, s)
			}
			seen[s] = true
		}
		if len(ss) == 0 {
			return nil, nil
		}
		return ss, nil
	case FieldPerson, FieldDepartment:
		var s string
		if json.Unmarshal(rv, &s) != nil || !core.ValidID(s) {
			return nil, core.Invalid(path, "%s must be an id", f.Label)
		}
		return s, nil
	case FieldAttachment:
		var ss []string
		if json.Unmarshal(rv, &ss) != nil {
			return nil, core.Invalid(path, "%s must be a list of file ids", f.Label)
		}
		if len(ss) > MaxAttachments {
			return nil, core.Invalid(path, "%s has at most %d files", f.Label, MaxAttachments)
		}
		for i, s := range ss {
			if !core.ValidID(s) {
				return nil, core.Invalid(fmt.Sprintf("%s[%d]", path, i), "%s: not a file id", f.Label)
			}
		}
		if len(ss) == 0 {
			return nil, nil
		}
		return ss, nil
	case FieldDetail:
		var rows []json.RawMessage
		if json.Unmarshal(rv, &rows) != nil {
			return nil, core.Invalid(path, "%s must be a list of rows", f.Label)
		}
		if len(rows) > MaxDetailRows {
			return nil, core.Invalid(path, "%s has at most %d rows", f.Label, MaxDetailRows)
		}
		if f.Min != nil && len(rows) < int(*f.Min) {
			return nil, core.Invalid(path, "%s needs at least %d rows", f.Label, int(*f.Min))
		}
		sub := Schema{Fields: f.Columns}
		out := make([]map[string]any, 0, len(rows))
		for i, r := range rows {
			v, err := sub.ValidateValues(r)
			if err != nil {
				e := err.(*core.Error)
				c := *e
				c.Field = fmt.Sprintf("%s[%d].%s", path, i, strings.TrimPrefix(e.Field, "form."))
				return nil, &c
			}
			out = append(out, map[string]any(v))
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return nil, core.Invalid(path, "unknown field type")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
