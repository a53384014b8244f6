package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/roundshq/rounds/core/config"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

const usage = `Rounds — hospital collaboration on your own intranet.

Usage:
  rounds serve   [-config FILE] [-demo]   start the server (-demo loads the demo hospital group first)
  rounds demo    [-config FILE]           start the server with the demo hospital group loaded
  rounds reindex [-config FILE]           rebuild the message search index from the database
  rounds version                          print the version
  rounds config check [-config FILE]      check the configuration and name every bad key
  rounds config example                   print every configuration key with its documentation
  rounds admin create-user [-config FILE] -login L -name N [-org ORG] [-password P] [-role R]
                                          create a sign-in account (prompts are not used: pass -password
                                          or set ROUNDS_NEW_PASSWORD)
  rounds backup  [-config FILE] -out F    write a consistent backup (database and files) while the server runs
  rounds restore [-config FILE] [-check] F  restore a backup (stop every node first; -check only verifies)
` + appUsage + `
The configuration file is optional; ROUNDS_CONFIG names it too. Every key can be
overridden with a ROUNDS_* environment variable (see 'rounds config example').
`

// Main runs the command line and returns the exit code. Tests call it
// directly.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, false)
	case "demo":
		err = cmdServe(ctx, args[1:], stdout, true)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "rounds %s (%s)\n", Version, goVersion())
	case "config":
		err = cmdConfig(args[1:], stdout)
	case "admin":
		err = cmdAdmin(ctx, args[1:], stdout)
	case "reindex":
		err = cmdReindex(ctx, args[1:], stdout)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout)
	case "restore":
		err = cmdRestore(ctx, args[1:], stdout)
	case "app":
		err = cmdApp(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "rounds: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "rounds: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "rounds: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", os.Getenv("ROUNDS_CONFIG"), "configuration file (YAML)")
}

func loadConfig(path string) (config.Config, error) {
	return config.Load(path, os.Environ())
}

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"config needs check or example"}
	}
	switch args[0] {
	case "example":
		fmt.Fprint(stdout, config.Example())
		return nil
	case "check":
		fs := flag.NewFlagSet("config check", flag.ContinueOnError)
		path := configFlag(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		_, err := loadConfig(*path)
		var ps config.Problems
		if errors.As(err, &ps) {
			lines := make([]string, len(ps))
			for i, p := range ps {
				lines[i] = "  " + p.String()
			}
			return fmt.Errorf("%d bad key(s):\n%s", len(ps), strings.Join(lines, "\n"))
		}
		if err != nil {
			return err
		}
		src := *path
		if src == "" {
			src = "embedded defaults"
		}
		fmt.Fprintf(stdout, "configuration OK (%s)\n", src)
		return nil
	}
	return usageError{fmt.Sprintf("unknown config command %q", args[0])}
}
