package authz

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
)

// Adapter is the casbin persist.Adapter of Rounds over core/sqldb. It serves
// the embedded built-in policy together with the rules stored in the
// authz_rules table, and saves rule changes one by one (casbin auto-save).
// Built-in rules are never written to the database.
//
// Enforcer runs every change inside one database transaction (the role row,
// its rules and the audit entry commit together): while a change is under
// way, the adapter writes through that transaction. Casbin's Adapter methods
// take no context, hence the bound transaction instead of a parameter.
type Adapter struct {
	db      *sqldb.DB
	builtin [][]string // "p"/"g" followed by the rule's values
	isBuilt map[string]bool

	// Set only while Enforcer holds its write lock.
	ctx context.Context
	tx  *sqldb.Tx
}

var (
	_ persist.Adapter      = (*Adapter)(nil)
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter over db serving the built-in policy too.
func NewAdapter(db *sqldb.DB) (*Adapter, error) {
	a := &Adapter{db: db, isBuilt: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(builtinPolicy))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		a.builtin = append(a.builtin, parts)
		a.isBuilt[ruleKey(parts[0], parts[1:])] = true
	}
	if len(a.builtin) == 0 {
		return nil, fmt.Errorf("authz: the built-in policy is empty")
	}
	return a, nil
}

func ruleKey(ptype string, rule []string) string {
	return ptype + "\x00" + strings.Join(trimRule(rule), "\x00")
}

func trimRule(rule []string) []string {
	n := len(rule)
	for n > 0 && rule[n-1] == "" {
		n--
	}
	return rule[:n]
}

func (a *Adapter) q() (context.Context, sqldb.Querier) {
	if a.tx != nil {
		return a.ctx, a.tx
	}
	return context.Background(), a.db
}

// bind makes the adapter write through tx until unbind.
func (a *Adapter) bind(ctx context.Context, tx *sqldb.Tx) { a.ctx, a.tx = ctx, tx }
func (a *Adapter) unbind()                                { a.ctx, a.tx = nil, nil }

// LoadPolicy loads the built-in policy and every stored rule.
func (a *Adapter) LoadPolicy(m model.Model) error {
	for _, r := range a.builtin {
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return fmt.Errorf("authz: built-in policy %v: %w", r, err)
		}
	}
	ctx, q := a.q()
	rows, err := q.QueryContext(ctx, `SELECT ptype, v0, v1, v2, v3, v4, v5 FROM authz_rules ORDER BY id`)
	if err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v := make([]string, 7)
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
			return fmt.Errorf("authz: load policy: %w", err)
		}
		if err := persist.LoadPolicyArray(trimRule(v), m); err != nil {
			return fmt.Errorf("authz: stored rule %v: %w", v, err)
		}
	}
	return rows.Err()
}

// SavePolicy replaces every stored rule with the model's non-built-in rules.
func (a *Adapter) SavePolicy(m model.Model) error {
	var all [][]string
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, r := range ast.Policy {
				if a.isBuilt[ruleKey(ptype, r)] {
					continue
				}
				all = append(all, append([]string{ptype}, r...))
			}
		}
	}
	save := func(ctx context.Context, tx sqldb.Querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM authz_rules`); err != nil {
			return err
		}
		for _, r := range all {
			if err := insertRule(ctx, tx, r[0], r[1:]); err != nil {
				return err
			}
		}
		return nil
	}
	if a.tx != nil {
		return save(a.ctx, a.tx)
	}
	return a.db.InTx(context.Background(), func(tx *sqldb.Tx) error { return save(context.Background(), tx) })
}

func insertRule(ctx context.Context, q sqldb.Querier, ptype string, rule []string) error {
	if len(rule) > 6 {
		return core.Errorf(core.EInvalid, "a rule has at most 6 values, not %d", len(rule))
	}
	v := make([]any, 6)
	for i := range v {
		v[i] = ""
		if i < len(rule) {
			v[i] = rule[i]
		}
	}
	// Already stored (by another node this one has not reloaded from) is
	// fine: adding is idempotent. ON CONFLICT rather than catching the
	// error, which would abort the whole transaction on PostgreSQL.
	_, err := q.ExecContext(ctx, `INSERT INTO authz_rules (id, ptype, v0, v1, v2, v3, v4, v5) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, core.NewID(), ptype, v[0], v[1], v[2], v[3], v[4], v[5])
	return err
}

func (a *Adapter) refuseBuiltin(ptype string, rule []string) error {
	if a.isBuilt[ruleKey(ptype, rule)] {
		return core.Errorf(core.EInvalid, "the built-in policy cannot be changed")
	}
	return nil
}

// AddPolicy stores one rule.
func (a *Adapter) AddPolicy(sec, ptype string, rule []string) error {
	return a.AddPolicies(sec, ptype, [][]string{rule})
}

// AddPolicies stores rules in one transaction (or the bound one).
func (a *Adapter) AddPolicies(sec, ptype string, rules [][]string) error {
	for _, r := range rules {
		if err := a.refuseBuiltin(ptype, r); err != nil {
			return err
		}
	}
	return a.write(func(ctx context.Context, q sqldb.Querier) error {
		for _, r := range rules {
			if err := insertRule(ctx, q, ptype, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemovePolicy deletes one stored rule.
func (a *Adapter) RemovePolicy(sec, ptype string, rule []string) error {
	return a.RemovePolicies(sec, ptype, [][]string{rule})
}

// RemovePolicies deletes stored rules in one transaction (or the bound one).
func (a *Adapter) RemovePolicies(sec, ptype string, rules [][]string) error {
	for _, r := range rules {
		if err := a.refuseBuiltin(ptype, r); err != nil {
			return err
		}
	}
	return a.write(func(ctx context.Context, q sqldb.Querier) error {
		for _, r := range rules {
			if len(r) > 6 {
				return core.Errorf(core.EInvalid, "a rule has at most 6 values, not %d", len(r))
			}
			where := []string{"ptype = ?"}
			args := []any{ptype}
			for i := 0; i < 6; i++ {
				v := ""
				if i < len(r) {
					v = r[i]
				}
				where = append(where, fmt.Sprintf("v%d = ?", i))
				args = append(args, v)
			}
			if _, err := q.ExecContext(ctx, `DELETE FROM authz_rules WHERE `+strings.Join(where, " AND "), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveFilteredPolicy deletes stored rules whose values from fieldIndex on
// equal fieldValues; an empty value matches anything, as in casbin.
func (a *Adapter) RemoveFilteredPolicy(sec, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return core.Errorf(core.EInvalid, "filter out of range")
	}
	where := []string{"ptype = ?"}
	args := []any{ptype}
	for i, v := range fieldValues {
		if v == "" {
			continue
		}
		where = append(where, fmt.Sprintf("v%d = ?", fieldIndex+i))
		args = append(args, v)
	}
	return a.write(func(ctx context.Context, q sqldb.Querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM authz_rules WHERE `+strings.Join(where, " AND "), args...)
		return err
	})
}

func (a *Adapter) write(fn func(ctx context.Context, q sqldb.Querier) error) error {
	if a.tx != nil {
		return fn(a.ctx, a.tx)
	}
	ctx := context.Background()
	return a.db.InTx(ctx, func(tx *sqldb.Tx) error { return fn(ctx, tx) })
}
