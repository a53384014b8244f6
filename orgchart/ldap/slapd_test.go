package ldapsync_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// slapd is a real OpenLDAP server started for one test.
type slapd struct {
	URL, Suffix, RootDN, RootPW string
}

const slapdBin = "/usr/sbin/slapd"

// startSlapd runs slapd with an mdb database for dc=hospital,dc=test on a
// free loopback port, and stops it when the test ends. It skips the test
// when slapd is not installed (and fails instead when
// ROUNDS_TEST_REQUIRE_SERVICES=1).
func startSlapd(t *testing.T) *slapd {
	t.Helper()
	if _, err := os.Stat(slapdBin); err != nil {
		if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("slapd is required: %v (apt-get install slapd ldap-utils)", err)
		}
		t.Skip("slapd not installed: LDAP tests skipped")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &slapd{Suffix: "dc=hospital,dc=test", RootDN: "cn=admin,dc=hospital,dc=test", RootPW: "secret"}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "%s"
rootdn "%s"
rootpw %s
directory %s
`, dir, s.Suffix, s.RootDN, s.RootPW, data)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s.URL = "ldap://" + addr
	// -d 0 keeps slapd in the foreground so the test owns the process.
	cmd := exec.Command(slapdBin, "-h", s.URL+"/", "-f", confPath, "-d", "0")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// ldif renders entries (each a list of "attr", "value" pairs, dn first),
// base64-encoding values that are not plain ASCII, as LDIF requires.
func ldif(entries ...[]string) string {
	var b strings.Builder
	for _, e := range entries {
		for i := 0; i+1 < len(e); i += 2 {
			v := e[i+1]
			if !isSafe(v) {
				fmt.Fprintf(&b, "%s:: %s\n", e[i], base64.StdEncoding.EncodeToString([]byte(v)))
			} else {
				fmt.Fprintf(&b, "%s: %s\n", e[i], v)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func isSafe(v string) bool {
	if v == "" || v[0] == ' ' || v[0] == ':' || v[0] == '<' {
		return v == ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf || v[i] == '\n' || v[i] == '\r' {
			return false
		}
	}
	return true
}

// add loads LDIF with ldapadd, as an administrator would.
func (s *slapd) add(t *testing.T, data string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "data.ldif")
	if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldapadd", "-x", "-H", s.URL, "-D", s.RootDN, "-w", s.RootPW, "-f", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, out)
	}
}
