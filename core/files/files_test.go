package files_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
)

func TestCheckKey(t *testing.T) {
	good := []string{"a", "org1/chat/c1/f.png", "..x", "x..", ".hidden", "a-b_c.d/E9", strings.Repeat("s", files.MaxSegmentLen), strings.Repeat("a/", files.MaxKeyLen/2-1) + "zz"}
	for _, k := range good {
		if err := files.CheckKey(k); err != nil {
			t.Errorf("CheckKey(%.40q) = %v, want nil", k, err)
		}
	}
	bad := []string{"", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a b", "a~b", "a\\b", "é", "a\x00", strings.Repeat("s", files.MaxSegmentLen+1), strings.Repeat("a/", files.MaxKeyLen/2) + "z"}
	for _, k := range bad {
		err := files.CheckKey(k)
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != core.EInvalid || ce.Field != "key" {
			t.Errorf("CheckKey(%.40q) = %v, want invalid naming key", k, err)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, c := range []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"a", true},
		{"a/", true},
		{"org1/chat/", true},
		{"org1/ch", true},
		{".", true},    // may begin ".hidden"
		{"a/..", true}, // may begin "a/..x"
		{"/", false},
		{"/a", false},
		{"a//", false},
		{"../", false},
		{"a/./b", false},
		{"a b", false},
		{"a~", false},
	} {
		err := files.CheckPrefix(c.prefix)
		if c.ok != (err == nil) {
			t.Errorf("CheckPrefix(%q) = %v, want ok=%v", c.prefix, err, c.ok)
		}
		if err != nil && !core.IsCode(err, core.EInvalid) {
			t.Errorf("CheckPrefix(%q) code = %s", c.prefix, core.ErrorCode(err))
		}
	}
}
