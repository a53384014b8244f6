package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// buildTestAppSpeaking builds testdata/testapp against the SDK with its
// ProtocolVersion set to version (through go build -overlay on the SDK's
// doc.go), as an ISV who built with a future SDK would ship it.
func buildTestAppSpeaking(t *testing.T, version int) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("sdk", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	decl := fmt.Sprintf("const ProtocolVersion = %d", sdk.ProtocolVersion)
	if !strings.Contains(string(b), decl) {
		t.Fatalf("%s does not declare %q", src, decl)
	}
	patched := filepath.Join(dir, "doc.go")
	if err := os.WriteFile(patched, []byte(strings.Replace(string(b), decl, fmt.Sprintf("const ProtocolVersion = %d", version), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{src: patched}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "testapp")
	cmd := exec.Command("go", "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", bin, "./testdata/testapp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestAppOfAnotherProtocolIsRefused starts the real test app built for
// protocol version 2 next to a well app: the host refuses it at the
// handshake with an error naming both versions, disables it at once (no
// restart loop) with an admin alert, and the host and the other app carry on.
func TestAppOfAnotherProtocolIsRefused(t *testing.T) {
	future := sdk.ProtocolVersion + 1
	bin := buildTestAppSpeaking(t, future)
	e := newEnv(t, nil)
	well := install(t, "well-app", "org1", "", allGrants()...)
	e.start(t, well)
	e.msgs.add("ward5", well.BotUserID)

	inst := install(t, "future-app", "org1", "", allGrants()...)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inst.Dir, "testapp"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	inst.Checksum = checksum(t, filepath.Join(inst.Dir, "testapp"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = e.host.Start(ctx, inst)
	var ce *core.Error
	if !core.IsCode(err, core.EInvalid) || !asCore(err, &ce) || ce.Field != "protocol_version" {
		t.Fatalf("err = %#v, want invalid protocol_version", err)
	}
	for _, v := range []string{fmt.Sprintf("app protocol version %d;", future), fmt.Sprintf("this server speaks app protocol version %d", sdk.ProtocolVersion)} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not say %q", err, v)
		}
	}
	t.Logf("refused: %v", err)

	// Disabled at once with the reason for the admin console; no restarts.
	time.Sleep(300 * time.Millisecond) // several back-off periods of this env
	st, err := e.host.Status(inst.ID)
	if err != nil || st.State != plugins.StateDisabled || st.Restarts != 0 || !strings.Contains(st.LastError, "protocol version") {
		t.Fatalf("status = %+v %v", st, err)
	}
	if d := e.alerts.Disabled(); len(d) != 1 || !strings.HasPrefix(d[0], "future-app: ") {
		t.Fatalf("alerts = %v", d)
	}
	// The host and the other app are unaffected.
	if got := e.command(t, well, "ping"); got != "pong u1" {
		t.Fatalf("well app ping = %q", got)
	}
	if err := e.host.MessagePosted(context.Background(), "org1", sdk.Message{ID: "m1", ConversationID: "ward5", SenderID: "nurse1", Text: "3床"}); err != nil {
		t.Fatal(err)
	}
	if sent := e.msgs.Sent(); len(sent) != 1 || !strings.Contains(sent[0], "echo: 3床") {
		t.Fatalf("sent = %v", sent)
	}
	if st, _ := e.host.Status(well.ID); st.State != plugins.StateRunning {
		t.Fatalf("well app = %+v", st)
	}
	// The refused app's command is not offered.
	if _, err := e.host.Command(context.Background(), core.Actor{UserID: "u1", OrgID: "org1", Kind: core.ActorUser}, "t-future-app", "ping", "conv"); err == nil {
		t.Fatal("the refused app answered a command")
	}
}
