package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace"
	"github.com/roundshq/rounds/plugins/sdk"
)

// startRealApp builds the app in plugins/apps/<src>, lays it out as an
// installed bundle (the executable named appID plus files) and starts it in
// f's node the way the marketplace does. It returns the install id; the app
// stops when the test ends.
func startRealApp(t *testing.T, f *demoFixture, appID, src string, files []string, grants []marketplace.Grant, settings map[string]string) string {
	t.Helper()
	return startRealAppAs(t, f, core.NewID(), appID, src, files, grants, settings)
}

// startRealAppAs is startRealApp for a chosen install id.
func startRealAppAs(t *testing.T, f *demoFixture, installID, appID, src string, files []string, grants []marketplace.Grant, settings map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	srcDir := filepath.Join("../../plugins/apps", src)
	exe := filepath.Join(dir, appID)
	if out, err := exec.Command("go", "build", "-o", exe, srcDir).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(srcDir, name))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin, _ := os.ReadFile(exe)
	sum := sha256.Sum256(bin)
	var m sdk.Manifest
	if b, err := os.ReadFile(filepath.Join(srcDir, "manifest.json")); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	s := f.s
	runner := appRunner{app: s.app, host: s.app.areas.apps, store: s.app.areas.appStore}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runner.Start(ctx, marketplace.RunningApp{InstallID: installID, OrgID: f.org, AppID: appID, AppName: m.Name, Version: m.Version,
		BotUserID: installID, Dir: dir, Executable: exe, Checksum: hex.EncodeToString(sum[:]), Grants: grants, Settings: settings}); err != nil {
		t.Fatalf("start the app: %v", err)
	}
	t.Cleanup(func() { _ = runner.Stop(context.Background(), installID) })
	return installID
}
