// Package bundle is the app bundle format of the marketplace: one .tar.gz
// holding manifest.json, bin/<os>-<arch>/<executable>, web/… and
// screenshots/…, plus SIGNATURES.json with every other file's SHA-256 and
// size and the publisher's ed25519 signature over that canonical list.
//
// It owns packing, signing, and defensive unpacking (no absolute paths, no
// "..", no links or device files, per-file, total and file-count limits, a
// decompression-ratio limit against bombs) with verification against a set
// of trusted keys. It refuses to know who trusts which key, where bundles
// are kept or how an app is run: callers pass the keys and a directory.
package bundle
