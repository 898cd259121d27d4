package odata

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader is a small strict JSON reader for request payloads. encoding/json is not used for them because it
// silently accepts what the contract refuses: it folds duplicate member names into the last one and replaces
// invalid UTF-8 and lone surrogates with U+FFFD, which would store something the client never sent.
type jsonReader struct {
	b []byte
	i int
}

// maxJSONDepth bounds nesting in values that are skipped (annotations), so a hostile body cannot exhaust the stack.
const maxJSONDepth = 64

// syntaxError is a malformed payload; its offset helps the client find the mistake.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return e.msg + " at offset " + strconv.Itoa(e.offset) }

func (r *jsonReader) fail(msg string) error { return &syntaxError{msg: msg, offset: r.i} }

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) peek() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// jsonKind names a JSON value's type for messages.
func jsonKind(c byte) string {
	switch c {
	case '"':
		return "a JSON string"
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	default:
		return "a JSON number"
	}
}

// str reads a string at the current position (which must be '"'). hasNUL reports a \u0000 escape, which
// PostgreSQL text cannot hold; the caller decides whether that matters (it does for values, not for skipped ones).
func (r *jsonReader) str() (s string, hasNUL bool, err error) {
	if r.peek() != '"' {
		return "", false, r.fail("expected a string")
	}
	r.i++
	start := r.i
	// Fast path: no escapes.
	for r.i < len(r.b) {
		c := r.b[r.i]
		if c == '"' {
			raw := r.b[start:r.i]
			if !utf8.Valid(raw) {
				return "", false, r.fail("invalid UTF-8 in string")
			}
			r.i++
			return string(raw), false, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false, r.fail("control character in string")
		}
		r.i++
	}
	buf := make([]byte, 0, r.i-start+16)
	buf = append(buf, r.b[start:r.i]...)
	for {
		if r.i >= len(r.b) {
			return "", false, r.fail("unterminated string")
		}
		c := r.b[r.i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", false, r.fail("invalid UTF-8 in string")
			}
			r.i++
			return string(buf), hasNUL, nil
		case c < 0x20:
			return "", false, r.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			r.i++
			continue
		}
		// An escape.
		if r.i+1 >= len(r.b) {
			return "", false, r.fail("unterminated escape")
		}
		e := r.b[r.i+1]
		r.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r1, ok := r.hex4()
			if !ok {
				return "", false, r.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r1) {
				if r1 >= 0xDC00 || r.i+1 >= len(r.b) || r.b[r.i] != '\\' || r.b[r.i+1] != 'u' {
					return "", false, r.fail("lone surrogate in \\u escape")
				}
				r.i += 2
				r2, ok := r.hex4()
				if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
					return "", false, r.fail("lone surrogate in \\u escape")
				}
				r1 = utf16.DecodeRune(r1, r2)
			}
			if r1 == 0 {
				hasNUL = true
			}
			buf = utf8.AppendRune(buf, r1)
		default:
			r.i -= 2
			return "", false, r.fail("invalid escape")
		}
	}
}

func (r *jsonReader) hex4() (rune, bool) {
	if r.i+4 > len(r.b) {
		return 0, false
	}
	var v rune
	for _, c := range r.b[r.i : r.i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return v, true
}

// literal consumes one of true, false, null.
func (r *jsonReader) literal(word string) error {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return r.fail("invalid literal")
	}
	r.i += len(word)
	return nil
}

func (r *jsonReader) number() error {
	start := r.i
	if r.peek() == '-' {
		r.i++
	}
	switch c := r.peek(); {
	case c == '0':
		r.i++
	case c >= '1' && c <= '9':
		for c := r.peek(); c >= '0' && c <= '9'; c = r.peek() {
			r.i++
		}
	default:
		r.i = start
		return r.fail("invalid value")
	}
	if r.peek() == '.' {
		r.i++
		if c := r.peek(); c < '0' || c > '9' {
			return r.fail("invalid number")
		}
		for c := r.peek(); c >= '0' && c <= '9'; c = r.peek() {
			r.i++
		}
	}
	if c := r.peek(); c == 'e' || c == 'E' {
		r.i++
		if c := r.peek(); c == '+' || c == '-' {
			r.i++
		}
		if c := r.peek(); c < '0' || c > '9' {
			return r.fail("invalid number")
		}
		for c := r.peek(); c >= '0' && c <= '9'; c = r.peek() {
			r.i++
		}
	}
	return nil
}

// skip consumes any value, checking its syntax.
func (r *jsonReader) skip(depth int) error {
	if depth > maxJSONDepth {
		return r.fail("nesting too deep")
	}
	r.ws()
	switch r.peek() {
	case '"':
		_, _, err := r.str()
		return err
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	case '{':
		return r.object(func(string) error { return r.skip(depth + 1) })
	case '[':
		return r.array(func() error { return r.skip(depth + 1) })
	default:
		return r.number()
	}
}

// object reads an object, calling member for each name with the reader positioned at the member's value;
// member must consume the value.
func (r *jsonReader) object(member func(name string) error) error {
	r.ws()
	if r.peek() != '{' {
		return r.fail("expected an object")
	}
	r.i++
	r.ws()
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		r.ws()
		name, _, err := r.str()
		if err != nil {
			return err
		}
		r.ws()
		if r.peek() != ':' {
			return r.fail("expected ':'")
		}
		r.i++
		r.ws()
		if err := member(name); err != nil {
			return err
		}
		r.ws()
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.fail("expected ',' or '}'")
		}
	}
}

// array reads an array, calling elem with the reader positioned at each element; elem must consume it.
func (r *jsonReader) array(elem func() error) error {
	r.ws()
	if r.peek() != '[' {
		return r.fail("expected an array")
	}
	r.i++
	r.ws()
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		r.ws()
		if err := elem(); err != nil {
			return err
		}
		r.ws()
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.fail("expected ',' or ']'")
		}
	}
}

// end checks that only whitespace follows.
func (r *jsonReader) end() error {
	r.ws()
	if r.i != len(r.b) {
		return r.fail("unexpected data after the top-level value")
	}
	return nil
}
