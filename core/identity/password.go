package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/roundshq/rounds/core"
)

// Password policy limits (see the package doc).
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// Argon2Params are argon2id cost parameters. They are written into every
// hash, so raising them later still verifies old hashes (which are rehashed
// at the next successful sign-in).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 follows OWASP's minimum for argon2id (19 MiB, 2 passes, one
// lane): a small hospital server must survive the whole morning shift signing
// in within a few minutes without running out of memory.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key> for password.
func HashPassword(password string, p Argon2Params) string {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("identity: not an argon2id PHC hash")

// parseHash reads a PHC string made by HashPassword.
func parseHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	// Refuse absurd parameters from a tampered row rather than allocate them.
	if p.Memory == 0 || p.Memory > 4<<20 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return p, nil, nil, errBadHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) == 0 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC hash, comparing in
// constant time, and whether the hash was made with parameters other than
// want (so the caller can rehash). A malformed hash never matches.
func VerifyPassword(password, encoded string, want Argon2Params) (ok, rehash bool) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	return true, p != want
}

// CheckPassword applies the password policy. field names the request field
// in the error.
func CheckPassword(field, password, login string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return core.Invalid(field, "the password must be at least %d characters long", MinPasswordLength)
	case n > MaxPasswordLength:
		return core.Invalid(field, "the password must be at most %d characters long", MaxPasswordLength)
	case strings.EqualFold(password, login):
		return core.Invalid(field, "the password must not be the login")
	}
	return nil
}
