package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
)

func cmdServe(ctx context.Context, args []string, stdout io.Writer, demo bool) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := configFlag(fs)
	withDemo := fs.Bool("demo", demo, "load the demo hospital group (skipped when already loaded)")
	listen := fs.String("listen", "", "override server.listen (host:port; :0 picks a free port)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	app, err := Build(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer app.Close()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Listen, err)
	}
	url := publicURL(cfg.Server.PublicURL, ln.Addr().String(), cfg.Server.TLSCertFile != "")
	var logins []demoLogin
	if *withDemo {
		if logins, err = app.LoadDemo(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("demo: %w", err)
		}
	}
	printWelcome(stdout, url, logins)
	return app.Serve(ctx, ln)
}

func publicURL(configured, addr string, tls bool) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func printWelcome(w io.Writer, url string, logins []demoLogin) {
	fmt.Fprintf(w, "\nRounds is running. Open %s/ to sign in.\n", url)
	if len(logins) > 0 {
		fmt.Fprintf(w, "\nDemo accounts (password for all: %s):\n", demoPassword)
		for _, l := range logins {
			fmt.Fprintf(w, "  %-22s %s\n", l.Login, l.Role)
		}
	}
	fmt.Fprintf(w, "\nHealth: %s/readyz   API: %s/api/v1/openapi.json\n\n", url, url)
}
