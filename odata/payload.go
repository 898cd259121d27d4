package odata

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// payloadMode says which request a payload belongs to.
type payloadMode uint8

const (
	modeUpdate payloadMode = iota // id may repeat the URL's key, else 400; server-set times are ignored
	modeCreate                    // id is ignored (the server makes keys); required properties must be given
	modeImport                    // ids are given (GUID keys) or checked (derived keys); server-set times are kept
)

// MalformedMessage is the text for a payload that is not JSON at all.
const MalformedMessage = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."

// ParsePatch reads a PATCH body into a validated partial update of the entity of type t addressed by key (in
// its canonical form, or as the URL wrote it when it is no valid key). Only the properties the body names are
// set; values for server-set properties are checked and ignored.
func ParsePatch(t *EntityType, body []byte, key string) (Patch, error) {
	p, _, err := parsePayload(t, body, modeUpdate, key)
	return p, err
}

// ParseCreate reads a POST body. A client "id" is ignored, and so are values for server-set properties;
// required properties must be present and not null.
func ParseCreate(t *EntityType, body []byte) (Patch, error) {
	p, _, err := parsePayload(t, body, modeCreate, "")
	return p, err
}

// utf8BOM may precede a body: RFC 8259 lets parsers ignore it, and some Windows tools write it.
var utf8BOM = []byte("\xef\xbb\xbf")

func parsePayload(t *EntityType, body []byte, mode payloadMode, key string) (Patch, string, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	r := jsonReader{b: body}
	r.ws()
	if r.i == len(r.b) {
		return Patch{}, "", badRequest("%s The request body is empty.", MalformedMessage)
	}
	if c := r.peek(); c != '{' {
		err := r.skip(0)
		if err == nil {
			err = r.end()
		}
		if err != nil {
			return Patch{}, "", payloadError(err)
		}
		return Patch{}, "", badRequest("The request body must be a JSON object, but %s was found.", jsonKind(c))
	}
	p, id, err := readEntity(&r, t, mode, key)
	if err == nil || !isSyntax(err) {
		// A body that is not JSON at all is reported as such, even when an earlier member already failed
		// validation: malformed input always wins, whatever order its mistakes come in.
		if endErr := r.end(); endErr != nil {
			err = endErr
		}
	}
	if err != nil {
		return Patch{}, "", payloadError(err)
	}
	return p, id, nil
}

func isSyntax(err error) bool {
	var se *syntaxError
	return errors.As(err, &se)
}

// payloadError turns a syntax error into the malformed-payload message; validation errors pass through.
func payloadError(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return badRequest("%s The JSON is malformed: %s.", MalformedMessage, se.Error())
	}
	return err
}

func duplicateMember(name string) *Error {
	return invalid("Multiple properties with the name '%s' were detected in a resource or a complex value. In OData, duplicate property names are not allowed.", quoteText(name))
}

// readEntity reads one entity object of type t. A syntax error stops it at once; a validation error is
// remembered while the rest of the object is still read, so that the caller can let a later syntax error win
// and, on success, finds the reader just past the object. id is the body's key as given (import only).
func readEntity(r *jsonReader, t *EntityType, mode payloadMode, key string) (Patch, string, error) {
	var (
		p    = NewPatch(t)
		id   string
		seen uint64 // properties already given
		anno map[string]struct{}
		verr error
	)
	member := func(name string) error {
		if strings.IndexByte(name, '@') >= 0 {
			if _, dup := anno[name]; dup {
				return duplicateMember(name)
			}
			if anno == nil {
				anno = make(map[string]struct{}, 2)
			}
			anno[name] = struct{}{}
			if name == "@odata.type" {
				return readTypeAnnotation(r, t)
			}
			// Instance and property annotations, and control information such as @odata.context or
			// @odata.etag: receivers must not fail on them.
			return r.skip(0)
		}
		prop, ok := t.Property(name)
		if !ok {
			return invalid("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", quoteText(name), t.Qualified)
		}
		if seen&(1<<prop.ID) != 0 {
			return duplicateMember(name)
		}
		seen |= 1 << prop.ID
		v, err := readValue(r, prop)
		if err != nil {
			return err
		}
		switch {
		case prop.Key:
			return checkKey(t, v, mode, key, &id)
		case prop.ServerSet != ClientSet && mode != modeImport:
			// Accepted and ignored: the server keeps these current.
			return nil
		}
		p.Set(prop.ID, v)
		return nil
	}
	err := r.object(func(name string) error {
		if verr != nil {
			return r.skip(0)
		}
		start := r.i
		err := member(name)
		if err == nil || isSyntax(err) {
			return err
		}
		// The member may have stopped anywhere inside its value: read the value again, for syntax only.
		verr = err
		r.i = start
		return r.skip(0)
	})
	if err == nil {
		err = verr
	}
	if err == nil && mode != modeUpdate {
		err = checkRequired(t, &p)
	}
	if err != nil {
		return Patch{}, "", err
	}
	if mode == modeImport && id == "" && t.KeyKind == KeyGUID {
		return Patch{}, "", invalid("The key property 'id' is required: an imported entity must carry its id.")
	}
	return p, id, nil
}

// checkRequired refuses a new entity without a value for a required property.
func checkRequired(t *EntityType, p *Patch) error {
	for i := range t.Properties {
		prop := &t.Properties[i]
		if prop.Required && (!p.Has(prop.ID) || p.Get(prop.ID).Null) {
			return invalid("The property '%s' is required when creating a %s and cannot be null.", prop.Name, t.Name)
		}
	}
	return nil
}

func checkKey(t *EntityType, v Value, mode payloadMode, key string, id *string) error {
	switch mode {
	case modeCreate:
		return nil
	case modeImport:
		if v.Null {
			return invalid("The key property 'id' must not be null.")
		}
		if t.KeyKind == KeyGUID {
			g, ok := ParseGUID(v.Str)
			if !ok {
				return invalid("The key property 'id' must be a GUID, but '%s' was found.", quoteText(v.Str))
			}
			*id = g
			return nil
		}
		k, ok := t.Key(v.Str)
		if !ok {
			return invalid("The key property 'id' is not a valid key of a %s: '%s'.", t.Name, quoteText(v.Str))
		}
		*id = k
		return nil
	}
	if v.Null {
		return invalid("The key property 'id' cannot be changed: the request body has null, but the URL addresses '%s'.", quoteText(key))
	}
	if v.Str != key {
		// Keys are case-insensitive: the same key in another case is the same key, whichever side wrote it so.
		g, ok := t.Key(v.Str)
		k, kok := t.Key(key)
		if !ok || !kok || g != k {
			return invalid("The key property 'id' cannot be changed: the request body has '%s', but the URL addresses '%s'.", quoteText(v.Str), quoteText(key))
		}
	}
	*id = key
	return nil
}

// readTypeAnnotation checks @odata.type: it must name the entity's own type, since no type derives from it.
func readTypeAnnotation(r *jsonReader, t *EntityType) error {
	if r.peek() != '"' {
		c := r.peek()
		if err := r.skip(0); err != nil {
			return err
		}
		return invalid("The value of '@odata.type' must be a JSON string naming a type, but %s was found.", jsonKind(c))
	}
	s, _, err := r.str()
	if err != nil {
		return err
	}
	if strings.TrimPrefix(s, "#") != t.Qualified {
		return invalid("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", quoteText(s))
	}
	return nil
}

// dtoFormat tells a client how to write an Edm.DateTimeOffset.
const dtoFormat = "write YYYY-MM-DDThh:mm[:ss[.fffffff]] with an offset (Z or ±hh:mm) within ±14:00, at most 7 fraction digits, between 0001-01-01 and 9999-12-31"

func readValue(r *jsonReader, prop *Property) (Value, error) {
	c := r.peek()
	if c == 'n' {
		if err := r.literal("null"); err != nil {
			return Value{}, err
		}
		if !prop.Nullable && !prop.Key {
			return Value{}, invalid("A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", prop.Name, prop.typeName, prop.typeName)
		}
		return Null, nil
	}
	wrongKind := func() (Value, error) {
		if err := r.skip(0); err != nil {
			return Value{}, err
		}
		return Value{}, invalid("The property '%s' has the type '%s', but %s was found.", prop.Name, prop.typeName, jsonKind(c))
	}
	switch prop.Type {
	case EdmBoolean:
		switch c {
		case 't':
			return Bool(true), r.literal("true")
		case 'f':
			return Bool(false), r.literal("false")
		}
		return wrongKind()
	case EdmInt32, EdmInt64:
		return readInteger(r, prop)
	}
	if c != '"' {
		return wrongKind()
	}
	s, hasNUL, err := r.str()
	if err != nil {
		return Value{}, err
	}
	switch prop.Type {
	case EdmDateTimeOffset:
		d, ok := ParseDateTimeOffset(s)
		if !ok {
			return Value{}, invalid("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset' of the property '%s': %s.", quoteText(s), prop.Name, dtoFormat)
		}
		return Time(d), nil
	case EdmBinary:
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return Value{}, invalid("Cannot convert the literal '%s' to the expected type 'Edm.Binary' of the property '%s': write the bytes in standard base64 (RFC 4648 section 4, with padding).", quoteText(s), prop.Name)
		}
		return Str(string(b)), nil
	case EdmEnum:
		m, ok := prop.Enum.Member(s)
		if !ok {
			return Value{}, invalid("The value '%s' of the property '%s' is not a member of the enum type '%s' (%s).", quoteText(s), prop.Name, prop.Enum.Qualified, memberList(prop.Enum))
		}
		return Int(m.Value), nil
	}
	if hasNUL {
		return Value{}, invalid("The property '%s' contains the character U+0000, which cannot be stored.", prop.Name)
	}
	if prop.MaxLength > 0 && len(s) > prop.MaxLength && utf8.RuneCountInString(s) > prop.MaxLength {
		return Value{}, invalid("The property '%s' is %d characters long, more than its limit of %d.", prop.Name, utf8.RuneCountInString(s), prop.MaxLength)
	}
	return Str(s), nil
}

func memberList(e *EnumType) string {
	names := make([]string, len(e.Members))
	for i, m := range e.Members {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// readInteger reads an Int32 or Int64: a JSON number, or a string as IEEE754Compatible clients write Int64.
func readInteger(r *jsonReader, prop *Property) (Value, error) {
	var text string
	switch c := r.peek(); {
	case c == '"' && prop.Type == EdmInt64:
		s, _, err := r.str()
		if err != nil {
			return Value{}, err
		}
		text = s
	case c == '-' || (c >= '0' && c <= '9'):
		start := r.i
		if err := r.number(); err != nil {
			return Value{}, err
		}
		text = string(r.b[start:r.i])
	default:
		if err := r.skip(0); err != nil {
			return Value{}, err
		}
		return Value{}, invalid("The property '%s' has the type '%s', but %s was found.", prop.Name, prop.typeName, jsonKind(c))
	}
	bits := 64
	if prop.Type == EdmInt32 {
		bits = 32
	}
	v, err := strconv.ParseInt(text, 10, bits)
	if err != nil {
		return Value{}, invalid("Cannot convert the literal '%s' to the expected type '%s' of the property '%s'.", quoteText(text), prop.typeName, prop.Name)
	}
	return Int(v), nil
}
