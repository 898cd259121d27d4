package odata

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ImportSet is what a fixture file holds: entities per entity set (indexed by EntitySet.Index) and the
// connectors' health-metric samples.
type ImportSet struct {
	Entities [][]Entity
	Samples  []MetricSample
	// Tenant is the file's own "tenant" member, a lower-case GUID, or "" when it names none.
	Tenant string
}

// Count is the number of entities the file gives for a set.
func (s *ImportSet) Count(set *EntitySet) int { return len(s.Entities[set.Index]) }

// ParseImport reads a fixture file of model m. It is a JSON array of entities of the model's first set
// (certificateConnectorDetails), a collection response {"value": [...]} of them, or an object with a member per
// entity set, by the set's name, "healthMetricSamples" and optionally "tenant", the tenant the file belongs to.
// Every entity is validated as the API validates a
// create; omitted properties take the create defaults, so re-importing a key replaces the entity as the file
// states it. GUID keys must be given; derived keys (userPfxCertificates) may be given and must then equal the key
// the values make. Server-set times are kept as given, and are now when omitted. A key given twice is refused,
// since the file would contradict itself. Errors about one entity name its set and index.
func ParseImport(m *Model, data []byte, now DateTimeOffset) (ImportSet, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	set := ImportSet{Entities: make([][]Entity, len(m.Sets))}
	var verr error // the first validation error; syntax errors anywhere still win over it
	fail := func(err error) {
		if verr == nil {
			verr = err
		}
	}
	r := jsonReader{b: data}
	r.ws()
	// entities reads an array of entities of es; the reader is at a '['.
	entities := func(es *EntitySet, label string) error {
		t := es.Type
		n := 0
		index := map[string]int{}
		return r.array(func() error {
			i := n
			n++
			where := func(err error) error { return withPrefix(label+" "+strconv.Itoa(i)+": ", err) }
			if c := r.peek(); c != '{' {
				if err := r.skip(0); err != nil {
					return err
				}
				fail(where(invalid("An entity must be a JSON object, but %s was found.", jsonKind(c))))
				return nil
			}
			p, id, err := readEntity(&r, t, modeImport, "")
			if err != nil {
				if isSyntax(err) {
					return err
				}
				fail(where(err))
				return nil
			}
			key := id
			if t.KeyKind == KeyString {
				e := NewEntity(t, "", &p, now)
				derived, err := t.DeriveKey(e.Values)
				if err != nil {
					fail(where(err))
					return nil
				}
				if id != "" && id != derived {
					fail(where(invalid("The id '%s' is not the key its values make: '%s'.", quoteText(id), quoteText(derived))))
					return nil
				}
				key = derived
			}
			if prev, dup := index[key]; dup {
				fail(where(invalid("The id '%s' was already given by entity %d.", quoteText(key), prev)))
				return nil
			}
			index[key] = i
			set.Entities[es.Index] = append(set.Entities[es.Index], NewEntity(t, key, &p, now))
			return nil
		})
	}
	first := m.Sets[0]
	var err error
	switch c := r.peek(); {
	case r.i == len(r.b):
		err = badRequest("The fixture file is empty: it must hold an array of entities or an object such as {\"value\": [...]}.")
	case c == '[':
		err = entities(first, "entity")
	case c == '{':
		found := false
		seen := map[string]struct{}{}
		err = r.object(func(name string) error {
			if _, dup := seen[name]; dup {
				fail(invalid("The member '%s' is given twice.", quoteText(name)))
				return r.skip(0)
			}
			seen[name] = struct{}{}
			array := func(read func() error) error {
				found = true
				if c := r.peek(); c != '[' {
					if err := r.skip(0); err != nil {
						return err
					}
					fail(invalid("The member '%s' must be a JSON array, but %s was found.", quoteText(name), jsonKind(c)))
					return nil
				}
				return read()
			}
			if name == "healthMetricSamples" {
				return array(func() error { return readSamples(&r, &set, fail) })
			}
			if name == "tenant" {
				// The tenant the file belongs to, as graphd export writes it; a command's own tenant wins.
				if c := r.peek(); c != '"' {
					if err := r.skip(0); err != nil {
						return err
					}
					fail(invalid("The member 'tenant' must be a GUID string, but %s was found.", jsonKind(c)))
					return nil
				}
				v, _, err := r.str()
				if err != nil {
					return err
				}
				g, ok := ParseGUID(v)
				if !ok {
					fail(invalid("The member 'tenant' must be a GUID, but '%s' was found.", quoteText(v)))
					return nil
				}
				set.Tenant = g
				return nil
			}
			if name == "value" {
				if _, both := seen[first.Name]; both {
					fail(invalid("Give the entities either as 'value' or as '%s', not both.", first.Name))
				}
				return array(func() error { return entities(first, "entity") })
			}
			for _, es := range m.Sets {
				if name == es.Name {
					if _, both := seen["value"]; both && es == first {
						fail(invalid("Give the entities either as 'value' or as '%s', not both.", first.Name))
					}
					return array(func() error { return entities(es, es.Name) })
				}
			}
			if strings.IndexByte(name, '@') >= 0 {
				return r.skip(0)
			}
			fail(invalid("Unknown member '%s': a fixture file is an array of entities, an object {\"value\": [...]}, or an object with the members %s and healthMetricSamples.", quoteText(name), setNames(m)))
			return r.skip(0)
		})
		if err == nil && !found {
			fail(invalid("The fixture object has none of the members value, %s or healthMetricSamples.", setNames(m)))
		}
	default:
		if err = r.skip(0); err == nil {
			err = invalid("A fixture file is an array of entities or an object, but %s was found.", jsonKind(c))
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

func setNames(m *Model) string {
	names := make([]string, len(m.Sets))
	for i, s := range m.Sets {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func withPrefix(prefix string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Kind: e.Kind, Code: e.Code, Message: prefix + e.Message}
	}
	return err
}

// MaxMetricNameLength bounds a health-metric sample's metricName in characters: names are identifiers such as
// pfxImport, and the bound keeps the samples' primary key within an index row.
const MaxMetricNameLength = 256

// readSamples reads the healthMetricSamples array of a fixture file; the reader is at a '['.
func readSamples(r *jsonReader, set *ImportSet, fail func(error)) error {
	type sampleKey struct {
		connector, metric string
		ticks             int64
	}
	seen := map[sampleKey]int{}
	n := 0
	stringProp := &Property{Name: "metricName", Type: EdmString, typeName: "Edm.String"}
	connProp := &Property{Name: "connectorId", Type: EdmString, typeName: "Edm.String"}
	timeProp := &Property{Name: "dateTime", Type: EdmDateTimeOffset, typeName: "Edm.DateTimeOffset"}
	return r.array(func() error {
		i := n
		n++
		where := func(err error) error { return withPrefix("healthMetricSamples "+strconv.Itoa(i)+": ", err) }
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
				if v, err = readValue(r, connProp); err == nil {
					g, ok := ParseGUID(v.Str)
					if !ok {
						err = invalid("The property 'connectorId' must be a GUID, but '%s' was found.", quoteText(v.Str))
					}
					m.ConnectorID, has[0] = g, true
				}
			case "metricName":
				var v Value
				if v, err = readValue(r, stringProp); err == nil {
					if v.Null {
						err = invalid("The property 'metricName' must not be null.")
					} else if utf8.RuneCountInString(v.Str) > MaxMetricNameLength {
						err = invalid("The property 'metricName' is %d characters long, more than its limit of %d.", utf8.RuneCountInString(v.Str), MaxMetricNameLength)
					}
					m.MetricName, has[1] = v.Str, true
				}
			case "dateTime":
				var v Value
				if v, err = readValue(r, timeProp); err == nil {
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
					err = invalid("The property '%s' does not exist on a health-metric sample (connectorId, metricName, dateTime, successCount, failureCount).", quoteText(name))
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
		return 0, invalid("The property '%s' must be a non-negative Edm.Int64, but '%s' was found.", name, quoteText(text))
	}
	return v, nil
}
