package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/roundshq/rounds/core"
)

// SignaturesFile is the name of the signature list in a bundle.
const SignaturesFile = "SIGNATURES.json"

// keyPrefix marks the text form of keys so a public key is never mistaken
// for a private one.
const (
	publicPrefix  = "ed25519-pub:"
	privatePrefix = "ed25519-priv:"
)

// PublicKey is a publisher's ed25519 public key.
type PublicKey ed25519.PublicKey

// ID is the key's short identifier: the first 16 hex digits of the SHA-256
// of the key. It is derived, so a signature cannot claim another key's id.
func (k PublicKey) ID() string {
	s := sha256.Sum256(k)
	return hex.EncodeToString(s[:8])
}

// String is the text form "ed25519-pub:<base64>" admins paste.
func (k PublicKey) String() string { return publicPrefix + base64.StdEncoding.EncodeToString(k) }

// ParsePublicKey reads the text form of a public key.
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, publicPrefix) {
		return nil, core.Invalid("public_key", "public key must start with %q", publicPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, publicPrefix))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, core.Invalid("public_key", "public key is not a base64 ed25519 key of %d bytes", ed25519.PublicKeySize)
	}
	return PublicKey(b), nil
}

// PrivateKey is a publisher's signing key.
type PrivateKey ed25519.PrivateKey

// Public returns the matching public key.
func (k PrivateKey) Public() PublicKey {
	return PublicKey(ed25519.PrivateKey(k).Public().(ed25519.PublicKey))
}

// String is the text form "ed25519-priv:<base64 seed>".
func (k PrivateKey) String() string {
	return privatePrefix + base64.StdEncoding.EncodeToString(ed25519.PrivateKey(k).Seed())
}

// ParsePrivateKey reads the text form of a private key.
func ParsePrivateKey(s string) (PrivateKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, privatePrefix) {
		return nil, core.Invalid("private_key", "private key must start with %q", privatePrefix)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, privatePrefix))
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, core.Invalid("private_key", "private key is not a base64 ed25519 seed of %d bytes", ed25519.SeedSize)
	}
	return PrivateKey(ed25519.NewKeyFromSeed(b)), nil
}

// GenerateKey makes a new publisher key pair.
func GenerateKey() (PublicKey, PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, core.Wrap(err, "generate key")
	}
	return PublicKey(pub), PrivateKey(priv), nil
}

// FileSum is one file's checksum in SIGNATURES.json.
type FileSum struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Signatures is the content of SIGNATURES.json.
type Signatures struct {
	Format    int       `json:"format"` // 1
	KeyID     string    `json:"key_id"`
	Files     []FileSum `json:"files"`     // sorted by path
	Signature string    `json:"signature"` // base64 ed25519 over Canonical()
}

// Canonical is the byte string that is signed: a format line, the key id and
// one line per file in path order. Paths are checked before they get here
// and hold no newline.
func (s Signatures) Canonical() []byte {
	files := append([]FileSum(nil), s.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var b bytes.Buffer
	fmt.Fprintf(&b, "rounds-app-bundle-v1\nkey %s\n", s.KeyID)
	for _, f := range files {
		fmt.Fprintf(&b, "%s %d %s\n", f.SHA256, f.Size, f.Path)
	}
	return b.Bytes()
}

func sign(files []FileSum, key PrivateKey) Signatures {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	s := Signatures{Format: 1, KeyID: key.Public().ID(), Files: files}
	s.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(ed25519.PrivateKey(key), s.Canonical()))
	return s
}

// verify checks the signature with whichever trusted key has the list's id.
func (s Signatures) verify(trusted []PublicKey) error {
	if s.Format != 1 {
		return refuse(core.EInvalid, "signatures", "SIGNATURES.json format %d is not supported", s.Format)
	}
	var key PublicKey
	for _, k := range trusted {
		if k.ID() == s.KeyID {
			key = k
			break
		}
	}
	if key == nil {
		return refuse(core.EForbidden, "key_id", "the bundle is signed by key %s, which this organisation does not trust", s.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(ed25519.PublicKey(key), s.Canonical(), sig) {
		return refuse(core.EInvalid, "signature", "the bundle's signature does not match its file list (tampered or corrupt)")
	}
	return nil
}

func parseSignatures(data []byte) (Signatures, error) {
	var s Signatures
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Signatures{}, refuse(core.EInvalid, "signatures", "SIGNATURES.json is not valid: %v", err)
	}
	return s, nil
}

// refuse builds a refusal; Details["refusal"] lets callers audit the reason
// without parsing messages.
func refuse(code core.Code, field, format string, args ...any) *core.Error {
	e := core.Errorf(code, format, args...)
	e.Field = field
	e.Details = map[string]any{"refusal": field}
	return e
}
