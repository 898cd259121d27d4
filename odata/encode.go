package odata

import (
	"strconv"
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
	// Select limits the properties written to id and those in the bit set (1<<PropertyID); 0 writes all.
	Select uint16
}

// ContextURL is the context URL of a single entity of the set.
func ContextURL(serviceRoot string) string {
	return serviceRoot + "/$metadata#" + EntitySetPath + "/$entity"
}

// ETag is the entity tag of a version, weak because it names a version rather than the bytes.
func ETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// EntityURL is the canonical URL of an entity.
func EntityURL(serviceRoot, id string) string {
	return serviceRoot + "/" + EntitySetPath + "/" + id
}

const typeAnnotation = "#" + QualifiedType

// AppendConnector appends c as an OData JSON object: control information first, then the properties in model
// order (all of them, or id plus those o.Select names), nulls included. It does no reflection and, given a
// buffer with room, no allocation.
func AppendConnector(b []byte, c *Connector, o EntityOptions) []byte {
	b = append(b, '{')
	if o.Metadata != MetadataNone {
		if o.Context {
			b = append(b, `"@odata.context":"`...)
			b = appendEscaped(b, o.ServiceRoot)
			b = append(b, `/$metadata#`+EntitySetPath...)
			if o.Select != 0 {
				b = append(b, '(')
				b = append(b, SelectList(o.Select)...)
				b = append(b, ')')
			}
			b = append(b, `/$entity",`...)
		}
		b = append(b, `"@odata.type":"`+typeAnnotation+`",`...)
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.id":`...)
			b = appendCanonicalURL(b, o.ServiceRoot, c.ID)
			b = append(b, ',')
		}
		b = append(b, `"@odata.etag":"W/\"`...)
		b = strconv.AppendInt(b, c.Version, 10)
		b = append(b, `\"",`...)
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.editLink":`...)
			b = appendCanonicalURL(b, o.ServiceRoot, c.ID)
			b = append(b, ',')
		}
	}
	b = append(b, `"id":`...)
	b = AppendJSONString(b, c.ID)
	sel := func(p PropertyID) bool { return o.Select == 0 || o.Select&(1<<p) != 0 }
	if sel(PropConnectorName) {
		b = append(b, `,"connectorName":`...)
		b = appendNullString(b, c.ConnectorName)
	}
	if sel(PropMachineName) {
		b = append(b, `,"machineName":`...)
		b = appendNullString(b, c.MachineName)
	}
	if sel(PropEnrollmentDateTime) {
		b = append(b, `,"enrollmentDateTime":"`...)
		b = c.EnrollmentDateTime.AppendText(b)
		b = append(b, '"')
	}
	if sel(PropLastCheckinDateTime) {
		b = append(b, `,"lastCheckinDateTime":"`...)
		b = c.LastCheckinDateTime.AppendText(b)
		b = append(b, '"')
	}
	if sel(PropConnectorVersion) {
		b = append(b, `,"connectorVersion":`...)
		b = appendNullString(b, c.ConnectorVersion)
	}
	return append(b, '}')
}

// appendCanonicalURL appends the entity's canonical URL, the key in parentheses as OData writes it (contract
// §5.2), as a JSON string; both key forms address the entity.
func appendCanonicalURL(b []byte, root, id string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, root)
	b = append(b, "/"+EntitySetPath+"('"...)
	b = appendEscaped(b, id)
	return append(b, `')"`...)
}

func appendNullString(b []byte, s NullString) []byte {
	if !s.Valid {
		return append(b, "null"...)
	}
	return AppendJSONString(b, s.Value)
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
