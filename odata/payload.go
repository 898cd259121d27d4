package odata

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// payloadMode says which request a payload belongs to; they differ only in how they treat "id".
type payloadMode uint8

const (
	modeUpdate payloadMode = iota // id may repeat the URL's key, else 400
	modeCreate                    // id is ignored: the server assigns it
	modeImport                    // id is required: fixtures carry their ids
)

// MalformedMessage is the text for a payload that is not JSON at all.
const MalformedMessage = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."

// ParsePatch reads a PATCH body into a validated partial update of the entity addressed by key (a lower-case
// GUID). Only the properties the body names are set.
func ParsePatch(body []byte, key string) (Patch, error) {
	p, _, err := parsePayload(body, modeUpdate, key)
	return p, err
}

// ParseCreate reads a POST body. A client "id" is ignored.
func ParseCreate(body []byte) (Patch, error) {
	p, _, err := parsePayload(body, modeCreate, "")
	return p, err
}

// utf8BOM may precede a body: RFC 8259 lets parsers ignore it, and some Windows tools write it.
var utf8BOM = []byte("\xef\xbb\xbf")

func parsePayload(body []byte, mode payloadMode, key string) (Patch, string, error) {
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
	p, id, err := readEntity(&r, mode, key)
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

// readEntity reads one entity object. A syntax error stops it at once; a validation error is remembered while
// the rest of the object is still read, so that the caller can let a later syntax error win and, on success,
// finds the reader just past the object.
func readEntity(r *jsonReader, mode payloadMode, key string) (Patch, string, error) {
	var (
		p    Patch
		id   string
		verr error
		seen = make(map[string]struct{}, 8)
	)
	member := func(name string) error {
		if _, dup := seen[name]; dup {
			return invalid("Multiple properties with the name '%s' were detected in a resource or a complex value. In OData, duplicate property names are not allowed.", name)
		}
		seen[name] = struct{}{}
		if name == "@odata.type" {
			return readTypeAnnotation(r)
		}
		if strings.IndexByte(name, '@') >= 0 {
			// Instance and property annotations, and control information such as @odata.context or
			// @odata.etag: receivers must not fail on them.
			return r.skip(0)
		}
		prop, ok := LookupProperty(name)
		if !ok {
			return invalid("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", name, QualifiedType)
		}
		v, err := readValue(r, prop)
		if err != nil {
			return err
		}
		if prop.Key {
			return checkKey(v, mode, key, &id)
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
	if err != nil {
		return Patch{}, "", err
	}
	if mode == modeImport && id == "" {
		return Patch{}, "", invalid("The key property 'id' is required: an imported entity must carry its id.")
	}
	return p, id, nil
}

func checkKey(v Value, mode payloadMode, key string, id *string) error {
	switch mode {
	case modeCreate:
		return nil
	case modeImport:
		if v.Null {
			return invalid("The key property 'id' must be a GUID, but null was found.")
		}
		g, ok := ParseGUID(v.Str)
		if !ok {
			return invalid("The key property 'id' must be a GUID, but '%s' was found.", v.Str)
		}
		*id = g
		return nil
	}
	if v.Null {
		return invalid("The key property 'id' cannot be changed: the request body has null, but the URL addresses '%s'.", key)
	}
	if v.Str != key {
		// GUIDs are case-insensitive: the same key in another case is the same key, whichever side wrote it so.
		g, ok := ParseGUID(v.Str)
		k, kok := ParseGUID(key)
		if !ok || !kok || g != k {
			return invalid("The key property 'id' cannot be changed: the request body has '%s', but the URL addresses '%s'.", v.Str, key)
		}
	}
	*id = key
	return nil
}

// readTypeAnnotation checks @odata.type: the only type in the model is the entity itself, so any other name is
// one the model cannot resolve.
func readTypeAnnotation(r *jsonReader) error {
	if r.peek() != '"' {
		return invalid("The value of '@odata.type' must be a JSON string naming a type, but %s was found.", jsonKind(r.peek()))
	}
	s, _, err := r.str()
	if err != nil {
		return err
	}
	if strings.TrimPrefix(s, "#") != QualifiedType {
		return invalid("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", s)
	}
	return nil
}

func readValue(r *jsonReader, prop *Property) (Value, error) {
	c := r.peek()
	if c == 'n' {
		if err := r.literal("null"); err != nil {
			return Value{}, err
		}
		if !prop.Nullable && !prop.Key {
			return Value{}, invalid("A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", prop.Name, prop.Type, prop.Type)
		}
		return Value{Null: true}, nil
	}
	if c != '"' {
		if err := r.skip(0); err != nil {
			return Value{}, err
		}
		return Value{}, invalid("The property '%s' has the type '%s', but %s was found.", prop.Name, prop.Type, jsonKind(c))
	}
	s, hasNUL, err := r.str()
	if err != nil {
		return Value{}, err
	}
	switch prop.Type {
	case EdmDateTimeOffset:
		t, ok := ParseDateTimeOffset(s)
		if !ok {
			return Value{}, invalid("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset' of the property '%s': write YYYY-MM-DDThh:mm[:ss[.fffffff]] with an offset (Z or ±hh:mm) within ±14:00, at most 7 fraction digits, between 0001-01-01 and 9999-12-31.", s, prop.Name)
		}
		return Value{Time: t}, nil
	default:
		if hasNUL {
			return Value{}, invalid("The property '%s' contains the character U+0000, which cannot be stored.", prop.Name)
		}
		return Value{Str: s}, nil
	}
}

// ImportSet is what a fixture file holds.
type ImportSet struct {
	Connectors []Connector
	Samples    []MetricSample
}

// ParseImport reads a fixture file: a JSON array of entities with their ids, or a collection response
// {"value": [...]}. Every entity is validated as the API validates a payload; omitted properties take the create
// defaults, so re-importing an id replaces the row as the file states it. An id given twice is refused, since
// the file would contradict itself. Errors about one entity name its index in the array.
func ParseImport(data []byte) (ImportSet, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var (
		set   ImportSet
		verr  error // the first validation error; syntax errors anywhere still win over it
		n     int   // index of the next entity
		index = map[string]int{}
	)
	fail := func(err error) {
		if verr == nil {
			verr = err
		}
	}
	r := jsonReader{b: data}
	r.ws()
	// entities reads the array of entities; the reader is at a '['.
	entities := func() error {
		return r.array(func() error {
			i := n
			n++
			if c := r.peek(); c != '{' {
				if err := r.skip(0); err != nil {
					return err
				}
				fail(withIndex(i, invalid("An entity must be a JSON object, but %s was found.", jsonKind(c))))
				return nil
			}
			p, id, err := readEntity(&r, modeImport, "")
			if err != nil {
				if isSyntax(err) {
					return err
				}
				fail(withIndex(i, err))
				return nil
			}
			if prev, dup := index[id]; dup {
				fail(withIndex(i, invalid("The id '%s' was already given by entity %d.", id, prev)))
				return nil
			}
			index[id] = i
			set.Connectors = append(set.Connectors, NewConnector(id, &p))
			return nil
		})
	}
	var err error
	switch c := r.peek(); {
	case r.i == len(r.b):
		err = badRequest("The fixture file is empty: it must hold an array of entities or an object {\"value\": [...]}.")
	case c == '[':
		err = entities()
	case c == '{':
		found := false
		seen := map[string]struct{}{}
		err = r.object(func(name string) error {
			if _, dup := seen[name]; dup {
				fail(invalid("The member '%s' is given twice.", name))
				return r.skip(0)
			}
			seen[name] = struct{}{}
			switch {
			case name == "healthMetricSamples":
				found = true
				if c := r.peek(); c != '[' {
					if err := r.skip(0); err != nil {
						return err
					}
					fail(invalid("The member 'healthMetricSamples' must be a JSON array, but %s was found.", jsonKind(c)))
					return nil
				}
				return readSamples(&r, &set, fail)
			case name == "value" || name == "certificateConnectorDetails":
				if _, both := seen["value"]; both && name == "certificateConnectorDetails" {
					fail(invalid("Give the entities either as 'value' or as 'certificateConnectorDetails', not both."))
				}
				if _, both := seen["certificateConnectorDetails"]; both && name == "value" {
					fail(invalid("Give the entities either as 'value' or as 'certificateConnectorDetails', not both."))
				}
				found = true
				if c := r.peek(); c != '[' {
					if err := r.skip(0); err != nil {
						return err
					}
					fail(invalid("The member '%s' must be a JSON array of entities, but %s was found.", name, jsonKind(c)))
					return nil
				}
				return entities()
			case strings.IndexByte(name, '@') >= 0:
				return r.skip(0)
			}
			fail(invalid("Unknown member '%s': a fixture file is an array of entities, an object {\"value\": [...]}, or an object {\"certificateConnectorDetails\": [...], \"healthMetricSamples\": [...]}.", name))
			return r.skip(0)
		})
		if !found {
			fail(invalid("The fixture object has no 'value', 'certificateConnectorDetails' or 'healthMetricSamples' array."))
		}
	default:
		if err = r.skip(0); err == nil {
			err = invalid("A fixture file is an array of entities or an object {\"value\": [...]}, but %s was found.", jsonKind(c))
		}
	}
	if err == nil || !isSyntax(err) {
		if endErr := r.end(); endErr != nil {
			err = endErr
		}
	}
	if err == nil {
		err = verr
	}
	if err != nil {
		if isSyntax(err) {
			return ImportSet{}, badRequest("The fixture file is not valid JSON: %s.", err.Error())
		}
		return ImportSet{}, err
	}
	return set, nil
}

func withIndex(n int, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Kind: e.Kind, Code: e.Code, Message: "entity " + strconv.Itoa(n) + ": " + e.Message}
	}
	return err
}

// readSamples reads the healthMetricSamples array of a fixture file; the reader is at a '['.
func readSamples(r *jsonReader, set *ImportSet, fail func(error)) error {
	type sampleKey struct {
		connector, metric string
		ticks             int64
	}
	seen := map[sampleKey]int{}
	n := 0
	return r.array(func() error {
		i := n
		n++
		where := func(err error) error {
			var e *Error
			if errors.As(err, &e) {
				return &Error{Kind: e.Kind, Code: e.Code, Message: "healthMetricSamples " + strconv.Itoa(i) + ": " + e.Message}
			}
			return err
		}
		if c := r.peek(); c != '{' {
			if err := r.skip(0); err != nil {
				return err
			}
			fail(where(invalid("A sample must be a JSON object, but %s was found.", jsonKind(c))))
			return nil
		}
		var m MetricSample
		var has [5]bool
		var verr error
		err := readMembers(r, func(name string) error {
			var err error
			switch name {
			case "connectorId":
				var v Value
				if v, err = readValue(r, &Property{Name: name, Type: EdmString}); err == nil {
					g, ok := ParseGUID(v.Str)
					if !ok {
						err = invalid("The property 'connectorId' must be a GUID, but '%s' was found.", v.Str)
					}
					m.ConnectorID, has[0] = g, true
				}
			case "metricName":
				var v Value
				if v, err = readValue(r, &Property{Name: name, Type: EdmString}); err == nil {
					m.MetricName, has[1] = v.Str, true
				}
			case "dateTime":
				var v Value
				if v, err = readValue(r, &Property{Name: name, Type: EdmDateTimeOffset}); err == nil {
					m.DateTime, has[2] = v.Time, true
				}
			case "successCount":
				m.SuccessCount, err = readCount(r, name)
				has[3] = true
			case "failureCount":
				m.FailureCount, err = readCount(r, name)
				has[4] = true
			default:
				if strings.IndexByte(name, '@') >= 0 {
					return r.skip(0)
				}
				err = r.skip(0)
				if err == nil {
					err = invalid("The property '%s' does not exist on a health-metric sample (connectorId, metricName, dateTime, successCount, failureCount).", name)
				}
			}
			if err != nil && !isSyntax(err) {
				if verr == nil {
					verr = err
				}
				return nil
			}
			return err
		})
		if err != nil {
			if isSyntax(err) {
				return err
			}
			fail(where(err))
			return nil
		}
		if verr != nil {
			fail(where(verr))
			return nil
		}
		for k, name := range []string{"connectorId", "metricName", "dateTime", "successCount", "failureCount"} {
			if !has[k] {
				fail(where(invalid("The property '%s' is required.", name)))
				return nil
			}
		}
		key := sampleKey{m.ConnectorID, m.MetricName, m.DateTime.Ticks}
		if prev, dup := seen[key]; dup {
			fail(where(invalid("It repeats sample %d: the same connector, metric and time.", prev)))
			return nil
		}
		seen[key] = i
		set.Samples = append(set.Samples, m)
		return nil
	})
}

// readCount reads a non-negative Int64, as a JSON number or, as IEEE754Compatible clients write it, a string.
func readCount(r *jsonReader, name string) (int64, error) {
	var text string
	switch c := r.peek(); {
	case c == '"':
		s, _, err := r.str()
		if err != nil {
			return 0, err
		}
		text = s
	case c == '-' || (c >= '0' && c <= '9'):
		start := r.i
		if err := r.number(); err != nil {
			return 0, err
		}
		text = string(r.b[start:r.i])
	default:
		if err := r.skip(0); err != nil {
			return 0, err
		}
		return 0, invalid("The property '%s' has the type 'Edm.Int64', but %s was found.", name, jsonKind(c))
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil || v < 0 {
		return 0, invalid("The property '%s' must be a non-negative Edm.Int64, but '%s' was found.", name, text)
	}
	return v, nil
}
