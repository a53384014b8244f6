package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/roundshq/rounds/marketplace/bundle"
)

// appUsage is the part of the usage text for publishers of apps.
const appUsage = `  rounds app keygen  -out NAME                make a publisher key pair: NAME.key (secret) and NAME.pub
  rounds app package -dir DIR -out FILE.tgz   pack an app folder (manifest.json, bin/<os>-<arch>/, web/, screenshots/)
  rounds app sign    -key NAME.key -in FILE.tgz [-out SIGNED.tgz]
                                              sign a bundle (per-file SHA-256 and ed25519; -out defaults to -in)
  rounds app verify  -pub NAME.pub FILE.tgz   check a bundle as a hospital would before installing it
`

// cmdApp runs the publisher's commands. They need no server or
// configuration: an ISV runs them on its own build machine.
func cmdApp(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"app needs keygen, package, sign or verify\n" + appUsage}
	}
	switch args[0] {
	case "keygen":
		return appKeygen(args[1:], stdout)
	case "package":
		return appPackage(args[1:], stdout)
	case "sign":
		return appSign(args[1:], stdout)
	case "verify":
		return appVerify(args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown app command %q\n%s", args[0], appUsage)}
}

func appKeygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("app keygen", flag.ContinueOnError)
	out := fs.String("out", "", "path and base name of the key files; required")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"app keygen needs -out NAME"}
	}
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		return err
	}
	// O_EXCL: never overwrite a key that bundles were already signed with.
	f, err := os.OpenFile(*out+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, priv.String()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pub", []byte(pub.String()+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key id %s\npublic key %s\nwrote %s.key (keep it secret) and %s.pub (give it to hospitals)\n", pub.ID(), pub, *out, *out)
	return nil
}

func appPackage(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("app package", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the app's folder")
	out := fs.String("out", "", "bundle to write (.tgz); required")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"app package needs -out FILE.tgz"}
	}
	var b bytes.Buffer
	if err := bundle.Pack(*dir, &b); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes, unsigned; run 'rounds app sign')\n", *out, b.Len())
	return nil
}

func appSign(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("app sign", flag.ContinueOnError)
	keyPath := fs.String("key", "", "private key file from 'rounds app keygen'; required")
	in := fs.String("in", "", "bundle to sign; required")
	out := fs.String("out", "", "signed bundle to write (default: replace -in)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyPath == "" || *in == "" {
		return usageError{"app sign needs -key NAME.key and -in FILE.tgz"}
	}
	if *out == "" {
		*out = *in
	}
	keyText, err := os.ReadFile(*keyPath)
	if err != nil {
		return err
	}
	key, err := bundle.ParsePrivateKey(string(keyText))
	if err != nil {
		return err
	}
	src, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer src.Close()
	var b bytes.Buffer
	if err := bundle.Sign(src, &b, key); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %s with key %s\n", *out, key.Public().ID())
	return nil
}

func appVerify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("app verify", flag.ContinueOnError)
	pubPath := fs.String("pub", "", "publisher's public key file; required")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *pubPath == "" || fs.NArg() != 1 {
		return usageError{"app verify needs -pub NAME.pub FILE.tgz"}
	}
	pubText, err := os.ReadFile(*pubPath)
	if err != nil {
		return err
	}
	pub, err := bundle.ParsePublicKey(string(pubText))
	if err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	tmp, err := os.MkdirTemp("", "rounds-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	v, err := bundle.Unpack(f, filepath.Join(tmp, "app"), bundle.Limits{}, []bundle.PublicKey{pub})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %s %s by %s, signed with key %s, %d files, scopes %v\n",
		v.Manifest.ID, v.Manifest.Version, v.Manifest.Publisher, v.KeyID, len(v.Files), v.Manifest.Scopes)
	return nil
}

// writeFileAtomic writes through a temporary file in the same folder so a
// failed write never leaves half a bundle under the final name.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rounds-app-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
