package main

import (
	"net"
	"os"
	"testing"
)

func TestSummarize(t *testing.T) {
	ms := make([]float64, 0, 1000)
	for i := 1000; i >= 1; i-- { // unsorted on purpose
		ms = append(ms, float64(i))
	}
	got := summarize(ms)
	want := percentiles{Count: 1000, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000, Mean: 500.5}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if z := summarize(nil); z != (percentiles{}) {
		t.Fatalf("summarize(nil) = %+v", z)
	}
}

func TestSentAt(t *testing.T) {
	for _, tc := range []struct {
		text string
		ns   int64
		ok   bool
	}{
		{"lb t=1795718694591594261 第0条 查房记录", 1795718694591594261, true},
		{"lb t=12", 12, true},
		{"lb t=", 0, false},
		{"lb t=abc rest", 0, false},
		{"交班记录 lb t=12", 0, false},
	} {
		t.Run(tc.text, func(t *testing.T) {
			ns, ok := sentAt(tc.text)
			if ns != tc.ns || ok != tc.ok {
				t.Fatalf("sentAt(%q) = %d, %v; want %d, %v", tc.text, ns, ok, tc.ns, tc.ok)
			}
		})
	}
}

func TestListenerPIDFindsThisProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	if got := listenerPID(l.Addr().String()); got != os.Getpid() {
		t.Fatalf("listenerPID(%s) = %d, want %d", l.Addr(), got, os.Getpid())
	}
	peak, now := rssKB(os.Getpid())
	if peak <= 0 || now <= 0 || now > peak {
		t.Fatalf("rssKB = peak %d, now %d", peak, now)
	}
}
