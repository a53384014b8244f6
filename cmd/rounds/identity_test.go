package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoginContract(t *testing.T) {
	s := startServer(t)
	if _, err := s.app.CreateAccount(context.Background(), "", "root.admin", "系统管理员", "correct horse battery", "system_admin"); err != nil {
		t.Fatal(err)
	}
	var bad struct{ Code string }
	if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": "root.admin", "password": "wrong password!"}, &bad); code != 401 || bad.Code != "unauthenticated" {
		t.Fatalf("wrong password: %d %+v", code, bad)
	}
	if code := s.do("POST", "/api/v1/sessions", "", map[string]any{"login": "root.admin", "password": 7}, &bad); code != 400 || bad.Code != "invalid" {
		t.Fatalf("wrong type: %d %+v", code, bad)
	}
	if code := s.do("POST", "/api/v1/sessions", "", map[string]any{"login": "root.admin", "password": "x", "remember": true}, &bad); code != 400 {
		t.Fatalf("unknown field: %d", code)
	}
	var ok struct {
		Token string `json:"token"`
	}
	if code := s.do("POST", "/api/v1/sessions", "", map[string]string{"login": "root.admin", "password": "correct horse battery"}, &ok); code != 201 && code != 200 || ok.Token == "" {
		t.Fatalf("login: %d %+v", code, ok)
	}
	var me map[string]any
	if code := s.do("GET", "/api/v1/me", ok.Token, nil, &me); code != 200 {
		t.Fatalf("me: %d %v", code, me)
	}
	if code := s.do("GET", "/api/v1/me", "", nil, nil); code != 401 {
		t.Fatalf("me without a token: %d", code)
	}
}

func TestAdminCreateUserCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rounds.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+dir+"\ndatabase:\n  sqlite_synchronous: normal\n"), 0o600)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"admin", "create-user", "-config", cfg, "-login", "it.zhang", "-name", "张工", "-password", "a long enough secret"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "it.zhang") || !strings.Contains(out.String(), "system_admin") {
		t.Fatalf("code %d out %q err %q", code, out.String(), errb.String())
	}
	code = Main(context.Background(), []string{"admin", "create-user", "-config", cfg, "-login", "it.zhang", "-name", "张工", "-password", "a long enough secret"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "conflict") {
		t.Fatalf("duplicate: code %d err %q", code, errb.String())
	}
}

func TestReindexCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rounds.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+dir+"\ndatabase:\n  sqlite_synchronous: normal\n"), 0o600)
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"reindex", "-config", cfg}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "reindexed 0 messages") {
		t.Fatalf("code %d out %q err %q", code, out.String(), errb.String())
	}
}
