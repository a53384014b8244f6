// Package ldapsync reads a hospital's LDAP or Active Directory into an
// orgchart.Roster and applies it through the org chart's import, on demand
// and on a schedule. Organisational units become departments (nested as in
// the directory, below BaseDN) and person entries become staff in the OU
// that holds them. It knows LDAP, not the rules of the org chart: the import
// plans, validates and applies the change all or nothing, exactly as for a
// CSV file.
package ldapsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/orgchart"
)

// Config is one organisation's directory server.
type Config struct {
	URL      string // ldap://host:389 or ldaps://host:636
	BindDN   string
	Password string
	BaseDN   string // the OU tree below it becomes the department tree
	// UserFilter selects staff (default (objectClass=inetOrgPerson); for AD
	// e.g. (&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))).
	UserFilter string
	// OUFilter selects departments (default (objectClass=organizationalUnit)).
	OUFilter string
	// Attributes maps staff fields to LDAP attributes; empty fields take the
	// defaults shown in DefaultAttributes.
	Attributes Attributes
	// Full (the usual setting) makes current staff missing from the
	// directory leavers. Without it, absent people are left alone.
	Full bool
	// StartTLS upgrades an ldap:// connection. TLSConfig (optional) is used
	// for StartTLS and ldaps://.
	StartTLS  bool
	TLSConfig *tls.Config
	// Timeout bounds connecting and each request (default 30 s).
	Timeout time.Duration
}

// Attributes names the LDAP attributes read for each staff field.
type Attributes struct {
	EmployeeNo string
	Name       string // display name; falls back to cn
	Email      string
	Phone      string
	Position   string
	Title      string
	// DepartmentHead is an attribute of an OU holding the DN of its head
	// (AD: managedBy; OpenLDAP: seeAlso). Empty: heads are not synced.
	DepartmentHead string
}

// DefaultAttributes are the inetOrgPerson attributes used when a mapping is
// left empty.
var DefaultAttributes = Attributes{EmployeeNo: "employeeNumber", Name: "displayName", Email: "mail", Phone: "telephoneNumber", Position: "employeeType", Title: "title"}

func (c Config) withDefaults() Config {
	if c.UserFilter == "" {
		c.UserFilter = "(objectClass=inetOrgPerson)"
	}
	if c.OUFilter == "" {
		c.OUFilter = "(objectClass=organizationalUnit)"
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	a, d := &c.Attributes, DefaultAttributes
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&a.EmployeeNo, d.EmployeeNo}, {&a.Name, d.Name}, {&a.Email, d.Email}, {&a.Phone, d.Phone}, {&a.Position, d.Position}, {&a.Title, d.Title},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	return c
}

// Importer is what the sync needs from the org chart (*orgchart.Service).
type Importer interface {
	CanImport(ctx context.Context, a core.Actor, orgID string) error
	Import(ctx context.Context, a core.Actor, orgID string, r orgchart.Roster, dryRun bool) (*orgchart.ImportPlan, error)
}

// Syncer syncs organisations from their directory servers.
type Syncer struct {
	imp     Importer
	mu      sync.Mutex
	configs map[string]Config // org id → server
	running map[string]*sync.Mutex
}

// New returns a syncer for the organisations in configs (org id → server).
func New(imp Importer, configs map[string]Config) *Syncer {
	s := &Syncer{imp: imp, configs: map[string]Config{}, running: map[string]*sync.Mutex{}}
	for id, c := range configs {
		s.configs[id] = c.withDefaults()
	}
	return s
}

// Sync reads the organisation's directory and imports it (plans only, when
// dryRun). The actor must be allowed to write staff and departments; the
// scheduler uses the system actor. Two syncs of one organisation never run
// at once. EUnavailable when the server cannot be reached or no server is
// configured for orgID.
func (s *Syncer) Sync(ctx context.Context, a core.Actor, orgID string, dryRun bool) (*orgchart.ImportPlan, error) {
	s.mu.Lock()
	cfg, ok := s.configs[orgID]
	m := s.running[orgID]
	if m == nil {
		m = &sync.Mutex{}
		s.running[orgID] = m
	}
	s.mu.Unlock()
	// Refuse before reaching out to the directory server.
	if err := s.imp.CanImport(ctx, a, orgID); err != nil {
		return nil, err
	}
	if !ok {
		return nil, core.Errorf(core.EUnavailable, "no LDAP server is configured for this organisation")
	}
	m.Lock()
	defer m.Unlock()
	r, err := Read(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return s.imp.Import(ctx, a, orgID, r, dryRun)
}

// Read fetches the directory and maps it to a roster. Entries that cannot be
// mapped (no employee number, outside any OU) come back as roster people the
// import reports by DN, so a bad entry fails the sync loudly rather than
// silently dropping someone.
func Read(ctx context.Context, cfg Config) (orgchart.Roster, error) {
	cfg = cfg.withDefaults()
	r := orgchart.Roster{Full: cfg.Full, Source: "ldap"}
	base, err := ldap.ParseDN(cfg.BaseDN)
	if err != nil {
		return r, core.Invalid("base_dn", "the base DN %q is not a DN: %v", cfg.BaseDN, err)
	}
	conn, err := dial(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer conn.Close()

	ouAttrs := []string{"ou"}
	if cfg.Attributes.DepartmentHead != "" {
		ouAttrs = append(ouAttrs, cfg.Attributes.DepartmentHead)
	}
	ous, err := conn.SearchWithPaging(ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, int(cfg.Timeout.Seconds()), false,
		cfg.OUFilter, ouAttrs, nil), 500)
	if err != nil {
		return r, ldapErr(err, "cannot list the organisational units")
	}
	heads := map[string][][]string{} // lower-cased head DN → department paths
	for _, e := range ous.Entries {
		path, ok := ouPath(base, e.DN, false)
		if !ok || len(path) == 0 {
			continue // the base itself, or something outside it
		}
		r.Departments = append(r.Departments, orgchart.RosterDepartment{Path: path})
		if cfg.Attributes.DepartmentHead != "" {
			for _, h := range e.GetAttributeValues(cfg.Attributes.DepartmentHead) {
				if dn, err := ldap.ParseDN(h); err == nil {
					heads[strings.ToLower(dn.String())] = append(heads[strings.ToLower(dn.String())], path)
				}
			}
		}
	}
	a := cfg.Attributes
	users, err := conn.SearchWithPaging(ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, int(cfg.Timeout.Seconds()), false,
		cfg.UserFilter, []string{a.EmployeeNo, a.Name, "cn", a.Email, a.Phone, a.Position, a.Title}, nil), 500)
	if err != nil {
		return r, ldapErr(err, "cannot list the staff")
	}
	for _, e := range users.Entries {
		p := orgchart.RosterPerson{Ref: e.DN,
			EmployeeNo: e.GetAttributeValue(a.EmployeeNo), Name: e.GetAttributeValue(a.Name), Email: e.GetAttributeValue(a.Email),
			Phone: e.GetAttributeValue(a.Phone), Position: e.GetAttributeValue(a.Position), Title: e.GetAttributeValue(a.Title)}
		if p.Name == "" {
			p.Name = e.GetAttributeValue("cn")
		}
		p.Department, _ = ouPath(base, e.DN, true)
		if dn, err := ldap.ParseDN(e.DN); err == nil {
			p.HeadOf = heads[strings.ToLower(dn.String())]
		}
		r.People = append(r.People, p)
	}
	return r, nil
}

// ouPath returns the OU names between base and dn, top first. For a person
// (skipFirst) the entry's own RDN is not part of the path.
func ouPath(base *ldap.DN, dnStr string, skipFirst bool) ([]string, bool) {
	dn, err := ldap.ParseDN(dnStr)
	if err != nil || !base.AncestorOfFold(dn) {
		return nil, false
	}
	rdns := dn.RDNs[:len(dn.RDNs)-len(base.RDNs)]
	if skipFirst {
		rdns = rdns[1:]
	}
	path := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		for _, av := range rdns[i].Attributes {
			if strings.EqualFold(av.Type, "ou") {
				path = append(path, av.Value)
			}
		}
	}
	return path, true
}

func dial(ctx context.Context, cfg Config) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	conn, err := ldap.DialURL(cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(cfg.TLSConfig))
	if err != nil {
		return nil, &core.Error{Code: core.EUnavailable, Message: "cannot reach the LDAP server " + cfg.URL, Err: err}
	}
	conn.SetTimeout(cfg.Timeout)
	if cfg.StartTLS {
		tc := cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{}
		}
		if err := conn.StartTLS(tc); err != nil {
			conn.Close()
			return nil, &core.Error{Code: core.EUnavailable, Message: "StartTLS with the LDAP server failed", Err: err}
		}
	}
	if cfg.BindDN != "" {
		if err := conn.Bind(cfg.BindDN, cfg.Password); err != nil {
			conn.Close()
			return nil, ldapErr(err, "cannot sign in to the LDAP server as "+cfg.BindDN)
		}
	}
	return conn, nil
}

func ldapErr(err error, msg string) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInsufficientAccessRights:
			return &core.Error{Code: core.EUnavailable, Message: msg + ": the server refused the credentials", Err: err}
		case ldap.LDAPResultNoSuchObject:
			return &core.Error{Code: core.EUnavailable, Message: msg + ": the base DN does not exist on the server", Err: err}
		}
	}
	return &core.Error{Code: core.EUnavailable, Message: msg, Err: err}
}

// Scheduler runs a sync at a fixed interval until stopped.
type Scheduler struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Schedule syncs orgID every interval as the system actor, the first time
// after one interval. Failures are logged and retried at the next tick.
func (s *Syncer) Schedule(orgID string, every time.Duration, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	sc := &Scheduler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sc.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-sc.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			plan, err := s.Sync(ctx, core.SystemActor, orgID, false)
			cancel()
			if err != nil {
				log.Error("ldap sync failed", "org", orgID, "err", err)
				continue
			}
			log.Info("ldap sync", "org", orgID, "adds", len(plan.Adds), "updates", len(plan.Updates), "moves", len(plan.Moves), "leavers", len(plan.Leavers))
		}
	}()
	return sc
}

// Stop ends the schedule and waits for a running sync to finish.
func (sc *Scheduler) Stop() {
	sc.once.Do(func() { close(sc.stop) })
	<-sc.done
}

// String describes the config without the password, for logs.
func (c Config) String() string {
	return fmt.Sprintf("ldap %s as %s under %s", c.URL, c.BindDN, c.BaseDN)
}
