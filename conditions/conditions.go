// Package conditions keeps status conditions at one entry per type, so that a
// status written again and again stays the size of its types. The webhook collapses raw JSON-shaped lists with Collapse; the
// operator upserts typed conditions with Set. Both compare types case-insensitively,
// as the platform does, and cap messages the same way.
package conditions

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxMessageBytes caps a condition message; longer messages are cut at a UTF-8
	// boundary. Equal to metav1.Condition's schema limit, so typed and raw agree.
	MaxMessageBytes = 32768
	// MaxTypes is the most distinct condition types an object may carry; the
	// platform writes eight, so more means a writer is minting types in a loop.
	MaxTypes = 64
)

// TruncateMessage cuts msg to at most MaxMessageBytes without splitting a UTF-8
// sequence, and reports whether it cut anything.
func TruncateMessage(msg string) (string, bool) {
	if len(msg) <= MaxMessageBytes {
		return msg, false
	}
	end := MaxMessageBytes
	// Back up to the first byte of the rune that straddles the cap; a rune is at
	// most 4 bytes, so this loop runs at most 3 times on valid UTF-8.
	for end > 0 && !utf8.RuneStart(msg[end]) {
		end--
	}
	return msg[:end], true
}

// SameType reports whether two condition types name the same condition.
func SameType(a, b string) bool { return strings.EqualFold(a, b) }

// foldKey maps a type to a key equal for exactly the types SameType matches:
// strings.EqualFold compares rune by rune over unicode.SimpleFold orbits, so each
// rune is replaced by the smallest rune of its orbit. buf avoids an allocation for
// map lookups; the caller copies the key only when it stores it.
func foldKey(buf []byte, s string) []byte {
	buf = buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldKeySlow(buf[:0], s)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A' // the upper-case letter is the smallest of an ASCII orbit
		}
		buf = append(buf, c)
	}
	return buf
}

func foldKeySlow(buf []byte, s string) []byte {
	for _, r := range s {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < low {
				low = f
			}
		}
		buf = utf8.AppendRune(buf, low)
	}
	return buf
}
