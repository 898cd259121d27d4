package odata

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Metadata is the odata.metadata level a client asked for.
type Metadata uint8

const (
	MetadataMinimal Metadata = iota
	MetadataNone
	MetadataFull
)

// EntityOptions says how to encode one entity.
type EntityOptions struct {
	// ServiceRoot is the absolute service root, e.g. "https://graph.example.test/beta"; it prefixes the context URL
	// and, with full metadata, the entity's id and edit link.
	ServiceRoot string
	Metadata    Metadata
	// Context adds @odata.context: true for an entity at the top of a response, false inside a collection.
	Context bool
	// Select limits the properties written to the key and those in the bit set (1<<PropertyID); 0 writes all.
	Select uint64
	// Redact writes the Redacted value of Secret properties, as reads (GET) show them; creates and updates echo
	// what was stored.
	Redact bool
	// IEEE754Compatible writes Int64 values as strings.
	IEEE754Compatible bool
	// NoETag leaves out @odata.etag (exports: a version is the server's own).
	NoETag bool
}

// ContextURL is the context URL of a single entity of a set.
func ContextURL(serviceRoot string, set *EntitySet) string {
	return serviceRoot + "/$metadata#" + set.Path + "/$entity"
}

// ETag is the entity tag of a version, weak because it names a version rather than the bytes.
func ETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// EntityURL is the URL of an entity that Location and OData-EntityId carry: the key as a path segment for GUID
// keys, and in parentheses, quoted, for string keys (which may hold any character).
func EntityURL(serviceRoot string, set *EntitySet, key string) string {
	if set.Type.KeyKind == KeyGUID {
		return serviceRoot + "/" + set.Path + "/" + key
	}
	return CanonicalURL(serviceRoot, set, key)
}

// CanonicalURL is the canonical URL of an entity, the key in parentheses as OData writes it (contract §5.2). A
// string key has its quotes doubled and is then percent-encoded like a path segment (url.PathEscape); a GUID key
// is written as it is.
func CanonicalURL(serviceRoot string, set *EntitySet, key string) string {
	b := make([]byte, 0, len(serviceRoot)+len(set.Path)+len(key)+8)
	b = append(b, serviceRoot...)
	return string(appendKeyPath(b, set, key, false))
}

// appendKeyPath appends "/{set path}('{key}')", the part of the canonical URL after the service root; with
// jsonEscape, a GUID-kind key is escaped for a JSON string (a percent-encoded key needs no escaping). It does not
// allocate, so that AppendEntity does not for full metadata.
func appendKeyPath(b []byte, set *EntitySet, key string, jsonEscape bool) []byte {
	b = append(b, '/')
	b = append(b, set.Path...)
	b = append(b, "('"...)
	switch {
	case set.Type.KeyKind != KeyGUID:
		b = appendKeyEscaped(b, key)
	case jsonEscape:
		b = appendEscaped(b, key)
	default:
		b = append(b, key...)
	}
	return append(b, "')"...)
}

// appendKeyEscaped appends the key with each quote doubled, then percent-encoded as url.PathEscape does: every
// byte but the unreserved characters and $&+:=@ as %XX, so a quote as %27%27.
func appendKeyEscaped(b []byte, key string) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.~$&+:=@", c) >= 0:
			b = append(b, c)
		case c == '\'':
			b = append(b, "%27%27"...)
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xF])
		}
	}
	return b
}

// AppendEntity appends e, an entity of set, as an OData JSON object: control information first, then the
// properties in model order (all of them, or the key plus those o.Select names), nulls included. It does no
// reflection and, given a buffer with room, no allocation.
func AppendEntity(b []byte, set *EntitySet, e *Entity, o EntityOptions) []byte {
	t := set.Type
	b = append(b, '{')
	if o.Metadata != MetadataNone {
		if o.Context {
			b = append(b, `"@odata.context":"`...)
			b = appendEscaped(b, o.ServiceRoot)
			b = append(b, "/$metadata#"...)
			b = append(b, set.Path...)
			if o.Select != 0 {
				b = append(b, '(')
				b = appendSelectList(b, t, o.Select)
				b = append(b, ')')
			}
			b = append(b, `/$entity",`...)
		}
		b = append(b, t.annotation...)
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.id":"`...)
			b = appendEscaped(b, o.ServiceRoot)
			b = appendKeyPath(b, set, e.Key(), true)
			b = append(b, `",`...)
		}
		if !o.NoETag {
			b = append(b, `"@odata.etag":"W/\"`...)
			b = strconv.AppendInt(b, e.Version, 10)
			b = append(b, `\"",`...)
		}
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.editLink":"`...)
			b = appendEscaped(b, o.ServiceRoot)
			b = appendKeyPath(b, set, e.Key(), true)
			b = append(b, `",`...)
		}
	}
	b = append(b, `"id":`...)
	b = AppendJSONString(b, e.Key())
	for i := 1; i < len(t.Properties); i++ {
		if o.Select != 0 && o.Select&(1<<uint(i)) == 0 {
			continue
		}
		p := &t.Properties[i]
		b = append(b, ',')
		b = append(b, p.memberKey...)
		v := e.Values[i]
		if p.Secret && o.Redact {
			v = p.Redacted
		}
		b = appendValue(b, p, v, o.IEEE754Compatible)
	}
	return append(b, '}')
}

// appendValue writes one property value in OData JSON.
func appendValue(b []byte, p *Property, v Value, ieee754 bool) []byte {
	if v.Null {
		return append(b, "null"...)
	}
	switch p.Type {
	case EdmString:
		return AppendJSONString(b, v.Str)
	case EdmDateTimeOffset:
		b = append(b, '"')
		b = v.Time.AppendText(b)
		return append(b, '"')
	case EdmBinary:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, []byte(v.Str))
		return append(b, '"')
	case EdmBoolean:
		if v.Int != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case EdmInt64:
		if ieee754 {
			b = append(b, '"')
			b = strconv.AppendInt(b, v.Int, 10)
			return append(b, '"')
		}
		return strconv.AppendInt(b, v.Int, 10)
	case EdmEnum:
		b = append(b, '"')
		if name, ok := p.Enum.NameOf(v.Int); ok {
			b = append(b, name...)
		} else {
			b = strconv.AppendInt(b, v.Int, 10)
		}
		return append(b, '"')
	}
	return strconv.AppendInt(b, v.Int, 10)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Unlike encoding/json it does not escape <, > and &, as Graph does
// not; it escapes control characters, and U+2028/U+2029 so the output is also valid JavaScript.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
