// Command testapp is the app the host's tests run. Its behaviour comes from
// the install setting "mode": well (default), panic, hang, exit, leak,
// crash-on-start.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/plugins/sdk"
)

type app struct {
	host sdk.Host
	inst sdk.Install
	leak [][]byte

	proc string       // this process, in delivery records
	n    atomic.Int64 // deliveries recorded by this process
}

// delivered records one delivery under delivered/<hook>/<event>/, one key
// per delivery, so the host's tests count how often each event arrived
// across every process of the install (two nodes share the storage).
func (a *app) delivered(ctx context.Context, hook, event string) error {
	return a.host.KVSet(ctx, fmt.Sprintf("delivered/%s/%s/%s-%d", hook, event, a.proc, a.n.Add(1)), []byte("1"))
}

func (a *app) Activate(ctx context.Context, host sdk.Host, inst sdk.Install) error {
	a.host, a.inst = host, inst
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	a.proc = hex.EncodeToString(b)
	if inst.Settings["mode"] == "crash-on-start" {
		os.Exit(3)
	}
	fmt.Println("activated", inst.AppID)
	return nil
}

func (a *app) misbehave() {
	switch a.inst.Settings["mode"] {
	case "panic":
		panic("testapp told to panic")
	case "hang":
		select {}
	case "exit":
		os.Exit(1)
	case "spin":
		for {
		}
	case "leak":
		for i := 0; i < 8; i++ {
			b := make([]byte, 16<<20)
			for j := range b {
				b[j] = byte(j)
			}
			a.leak = append(a.leak, b)
		}
	}
}

func (a *app) OnMessagePosted(ctx context.Context, m sdk.Message) error {
	a.misbehave()
	if err := a.delivered(ctx, "message", m.ID); err != nil {
		return err
	}
	_, err := a.host.SendMessage(ctx, m.ConversationID, "echo: "+m.Text)
	return err
}

func (a *app) OnApprovalFinished(ctx context.Context, e sdk.ApprovalFinished) error {
	if err := a.delivered(ctx, "approval", e.ApprovalID); err != nil {
		return err
	}
	return a.host.KVSet(ctx, "event/approval", []byte(e.ApprovalID+" "+e.Outcome))
}

func (a *app) OnRosterPublished(ctx context.Context, e sdk.RosterPublished) error {
	if err := a.delivered(ctx, "roster", e.RosterID); err != nil {
		return err
	}
	return a.host.KVSet(ctx, "event/roster", []byte(e.DepartmentID+" "+e.Month))
}

func (a *app) OnStaffChanged(ctx context.Context, e sdk.StaffChange) error {
	if err := a.delivered(ctx, "staff", e.UserID); err != nil {
		return err
	}
	return a.host.KVSet(ctx, "event/staff", []byte(fmt.Sprintf("%s %s %v", e.UserID, e.DepartmentID, e.Joined)))
}

func (a *app) OnJob(ctx context.Context, j sdk.Job) error {
	if err := a.delivered(ctx, "job", j.Name+"@"+strconv.FormatInt(j.At.UnixMilli(), 10)); err != nil {
		return err
	}
	return a.host.KVSet(ctx, "job/"+j.Name, []byte(j.At.String()))
}

func code(err error) string {
	if err == nil {
		return "ok"
	}
	return string(sdk.ErrorCode(err))
}

func (a *app) OnCommand(ctx context.Context, c sdk.Command) (string, error) {
	args := strings.Fields(c.Args)
	if len(args) == 0 {
		return "", sdk.Errorf(sdk.CodeInvalid, "say what to do")
	}
	sub := args[0]
	args = args[1:]
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch sub {
	case "ping":
		return "pong " + c.Actor.UserID, nil
	case "kvset":
		return code(a.host.KVSet(ctx, arg(0), []byte(arg(1)))), nil
	case "kvget":
		v, ok, err := a.host.KVGet(ctx, arg(0))
		return fmt.Sprintf("%s %v %s", code(err), ok, v), nil
	case "kvbig":
		n, _ := strconv.Atoi(arg(0))
		return code(a.host.KVSet(ctx, "big", make([]byte, n))), nil
	case "staff":
		s, err := a.host.Staff(ctx, arg(0))
		return fmt.Sprintf("%s %d", code(err), len(s)), nil
	case "depts":
		d, err := a.host.Departments(ctx, arg(0))
		return fmt.Sprintf("%s %d", code(err), len(d)), nil
	case "send":
		_, err := a.host.SendMessage(ctx, arg(0), strings.Join(args[1:], " "))
		return code(err), nil
	case "sendbig":
		n, _ := strconv.Atoi(arg(1))
		_, err := a.host.SendMessage(ctx, arg(0), strings.Repeat("x", n))
		return code(err), nil
	case "dm":
		_, err := a.host.SendDirectMessage(ctx, arg(0), strings.Join(args[1:], " "))
		return code(err), nil
	case "setup":
		// The whole answer as JSON, so the host's test sees every field
		// cross the wire.
		s, err := a.host.RosterSetup(ctx, arg(0), arg(1))
		if err != nil {
			return code(err), nil
		}
		b, _ := json.Marshal(s)
		return "ok " + string(b), nil
	case "approval":
		_, err := a.host.Approval(ctx, arg(0))
		return code(err), nil
	case "flood":
		n, _ := strconv.Atoi(arg(0))
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			_, _, err := a.host.KVGet(ctx, "x")
			counts[code(err)]++
		}
		return fmt.Sprintf("ok=%d rate_limited=%d", counts["ok"], counts["rate_limited"]), nil
	case "bench":
		// Times n host-API calls that pass the permission check and
		// reports p50 and p99 in nanoseconds.
		n, _ := strconv.Atoi(arg(0))
		d := make([]time.Duration, n)
		for i := range d {
			t0 := time.Now()
			if _, err := a.host.Staff(ctx, "icu"); err != nil {
				return code(err), nil
			}
			d[i] = time.Since(t0)
		}
		slices.Sort(d)
		return fmt.Sprintf("%d %d", d[n/2], d[n*99/100]), nil
	case "misbehave":
		a.misbehave()
		return "survived", nil
	}
	return "", sdk.Errorf(sdk.CodeNotFound, "unknown command %s", sub)
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	actor, _ := sdk.ActorFromRequest(r)
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "%s %s user=%s cookie=%q body=%s", r.Method, r.URL.Path, actor.UserID, r.Header.Get("Cookie"), body)
}

func main() { sdk.Serve(&app{}) }
