package odata

import (
	"bytes"
	"strconv"
	"strings"
)

// The two bound actions of the entity (contract §2.6, §2.7): their request bodies and their results.

const (
	keyLongValuePairType = Namespace + ".keyLongValuePair"
	healthMetricType     = Namespace + ".certificateConnectorHealthMetricValue"
	timeSeriesParamType  = Namespace + ".timeSeriesParameter"
)

// TimeSeriesRequest is the timeSeries parameter of getHealthMetricTimeSeries.
type TimeSeriesRequest struct {
	MetricName string
	Start      DateTimeOffset
	End        DateTimeOffset
	HasEnd     bool // false: the caller uses now, as the documentation says
}

// ParseHealthMetricsRequest reads {"metricNames": ["…", …]}; the list is required and must not be empty.
func ParseHealthMetricsRequest(body []byte) ([]string, error) {
	var names []string
	given := false
	err := readParameters(body, func(r *jsonReader, name string) error {
		if name != "metricNames" {
			return invalid("The parameter '%s' is not a parameter of the action getHealthMetrics; its only parameter is metricNames.", name)
		}
		given = true
		if r.peek() == 'n' {
			return r.literal("null")
		}
		if r.peek() != '[' {
			c := r.peek()
			if err := r.skip(0); err != nil {
				return err
			}
			return invalid("The parameter 'metricNames' must be a JSON array of strings, but %s was found.", jsonKind(c))
		}
		names = []string{}
		return r.array(func() error {
			if r.peek() != '"' {
				c := r.peek()
				if err := r.skip(0); err != nil {
					return err
				}
				return invalid("The parameter 'metricNames' must hold strings, but %s was found.", jsonKind(c))
			}
			s, hasNUL, err := r.str()
			if err == nil && hasNUL {
				err = invalid("A metric name contains the character U+0000, which cannot be stored.")
			}
			names = append(names, s)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if !given || len(names) == 0 {
		return nil, invalid("The parameter 'metricNames' is required: name at least one metric.")
	}
	return names, nil
}

// ParseTimeSeriesRequest reads {"timeSeries": {"metricName", "startDateTime", "endDateTime"}}.
func ParseTimeSeriesRequest(body []byte) (TimeSeriesRequest, error) {
	var req TimeSeriesRequest
	given, hasName, hasStart := false, false, false
	err := readParameters(body, func(r *jsonReader, name string) error {
		if name != "timeSeries" {
			return invalid("The parameter '%s' is not a parameter of the action getHealthMetricTimeSeries; its only parameter is timeSeries.", name)
		}
		given = true
		if r.peek() != '{' {
			c := r.peek()
			if err := r.skip(0); err != nil {
				return err
			}
			return invalid("The parameter 'timeSeries' must be a JSON object of type %s, but %s was found.", timeSeriesParamType, jsonKind(c))
		}
		return readMembers(r, func(member string) error {
			switch member {
			case "@odata.type":
				s, err := readTypeName(r)
				if err == nil && strings.TrimPrefix(s, "#") != timeSeriesParamType {
					err = invalid("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", s)
				}
				return err
			case "metricName":
				v, err := readValue(r, &Property{Name: member, Type: EdmString, Nullable: true})
				req.MetricName, hasName = v.Str, !v.Null
				return err
			case "startDateTime", "endDateTime":
				v, err := readValue(r, &Property{Name: member, Type: EdmDateTimeOffset, Nullable: member == "endDateTime"})
				if member == "startDateTime" {
					req.Start, hasStart = v.Time, true
				} else if !v.Null {
					req.End, req.HasEnd = v.Time, true
				}
				return err
			}
			if strings.IndexByte(member, '@') >= 0 {
				return r.skip(0)
			}
			return invalid("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", member, timeSeriesParamType)
		})
	})
	switch {
	case err != nil:
		return TimeSeriesRequest{}, err
	case !given:
		return TimeSeriesRequest{}, invalid("The parameter 'timeSeries' is required.")
	case !hasName:
		return TimeSeriesRequest{}, invalid("The property 'metricName' of 'timeSeries' is required: name the metric.")
	case !hasStart:
		return TimeSeriesRequest{}, invalid("The property 'startDateTime' of 'timeSeries' is required.")
	case req.HasEnd && req.End.Ticks < req.Start.Ticks:
		return TimeSeriesRequest{}, invalid("The endDateTime of 'timeSeries' is before its startDateTime.")
	}
	return req, nil
}

// readParameters reads an action's JSON object of parameters. The body is first checked as JSON as a whole, so
// a malformed body is always a BadRequest and validation may stop at its first error.
func readParameters(body []byte, param func(r *jsonReader, name string) error) error {
	body = bytes.TrimPrefix(body, utf8BOM)
	r := jsonReader{b: body}
	r.ws()
	if r.i == len(r.b) {
		return badRequest("%s The request body is empty.", MalformedMessage)
	}
	c := r.peek()
	if err := r.skip(0); err != nil {
		return payloadError(err)
	}
	if err := r.end(); err != nil {
		return payloadError(err)
	}
	if c != '{' {
		return badRequest("The request body must be a JSON object, but %s was found.", jsonKind(c))
	}
	r = jsonReader{b: body}
	r.ws()
	return readMembers(&r, func(name string) error {
		if strings.IndexByte(name, '@') >= 0 {
			return r.skip(0)
		}
		return param(&r, name)
	})
}

// readMembers reads an object, refusing duplicate member names.
func readMembers(r *jsonReader, member func(name string) error) error {
	seen := make(map[string]struct{}, 4)
	return r.object(func(name string) error {
		if _, dup := seen[name]; dup {
			return invalid("Multiple properties with the name '%s' were detected in a resource or a complex value. In OData, duplicate property names are not allowed.", name)
		}
		seen[name] = struct{}{}
		return member(name)
	})
}

func readTypeName(r *jsonReader) (string, error) {
	if r.peek() != '"' {
		c := r.peek()
		if err := r.skip(0); err != nil {
			return "", err
		}
		return "", invalid("The value of '@odata.type' must be a JSON string naming a type, but %s was found.", jsonKind(c))
	}
	s, _, err := r.str()
	return s, err
}

// ValueOptions say how to encode action results.
type ValueOptions struct {
	ServiceRoot string
	Metadata    Metadata
	// IEEE754Compatible writes Int64 values as strings, for clients whose numbers are doubles.
	IEEE754Compatible bool
}

func appendCollectionStart(b []byte, o ValueOptions, typ string) []byte {
	b = append(b, '{')
	if o.Metadata != MetadataNone {
		b = append(b, `"@odata.context":"`...)
		b = appendEscaped(b, o.ServiceRoot)
		b = append(b, `/$metadata#Collection(`+typ+`)",`...)
	}
	return append(b, `"value":[`...)
}

func appendInt64(b []byte, v int64, o ValueOptions) []byte {
	if o.IEEE754Compatible {
		b = append(b, '"')
		b = strconv.AppendInt(b, v, 10)
		return append(b, '"')
	}
	return strconv.AppendInt(b, v, 10)
}

// AppendKeyLongValuePairs writes getHealthMetrics' result: one {name, value} per requested name.
func AppendKeyLongValuePairs(b []byte, names []string, values []int64, o ValueOptions) []byte {
	b = appendCollectionStart(b, o, keyLongValuePairType)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.type":"#`+keyLongValuePairType+`",`...)
		}
		b = append(b, `"name":`...)
		b = AppendJSONString(b, name)
		b = append(b, `,"value":`...)
		b = appendInt64(b, values[i], o)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// AppendHealthMetricValues writes getHealthMetricTimeSeries' result.
func AppendHealthMetricValues(b []byte, samples []MetricSample, o ValueOptions) []byte {
	b = appendCollectionStart(b, o, healthMetricType)
	for i := range samples {
		m := &samples[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if o.Metadata == MetadataFull {
			b = append(b, `"@odata.type":"#`+healthMetricType+`",`...)
		}
		b = append(b, `"dateTime":"`...)
		b = m.DateTime.AppendText(b)
		b = append(b, `","successCount":`...)
		b = appendInt64(b, m.SuccessCount, o)
		b = append(b, `,"failureCount":`...)
		b = appendInt64(b, m.FailureCount, o)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
