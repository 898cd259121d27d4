package httpapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// format is the representation a client negotiated with Accept.
type format struct {
	meta odata.Metadata
	// ieee754 reflects IEEE754Compatible=true. The entity has no Edm.Int64 or Edm.Decimal property, so only the
	// Content-Type says it; the parameter must still mirror what the client asked for.
	ieee754 bool
}

var contentTypes = [...][2]string{
	odata.MetadataMinimal: {
		"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
		"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=true;charset=utf-8",
	},
	odata.MetadataNone: {
		"application/json;odata.metadata=none;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
		"application/json;odata.metadata=none;odata.streaming=true;IEEE754Compatible=true;charset=utf-8",
	},
	odata.MetadataFull: {
		"application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
		"application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=true;charset=utf-8",
	},
}

func (f format) contentType() string {
	if f.ieee754 {
		return contentTypes[f.meta][1]
	}
	return contentTypes[f.meta][0]
}

// negotiate reads Accept: the response is JSON, so a client that accepts no JSON gets 406; the odata.metadata
// and IEEE754Compatible parameters on the JSON media range pick the metadata level and the number format.
func negotiate(r *http.Request) (format, error) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return format{}, nil
	}
	ok, ranges := false, 0
	var f format
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			rng = strings.TrimSpace(rng)
			if rng == "" {
				continue
			}
			ranges++
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				continue
			}
			if q, has := params["q"]; has {
				if qv, err := strconv.ParseFloat(q, 64); err == nil && qv == 0 {
					continue
				}
			}
			switch mt {
			case "application/json":
				switch strings.ToLower(params["odata.metadata"]) {
				case "none":
					f.meta = odata.MetadataNone
				case "full":
					f.meta = odata.MetadataFull
				}
				if strings.EqualFold(params["ieee754compatible"], "true") {
					f.ieee754 = true
				}
				ok = true
			case "*/*", "application/*":
				ok = true
			}
		}
	}
	// An Accept header without any media range ("Accept:") says nothing, like an absent one.
	if !ok && ranges > 0 {
		return format{}, errNotAcceptable
	}
	return f, nil
}

// preferReturn reads the return preference of Prefer: "minimal", "representation" or "" when there is none.
// A preference may carry parameters after ';', which say nothing here.
func preferReturn(r *http.Request) string {
	for _, line := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(line, ",") {
			p, _, _ = strings.Cut(p, ";")
			name, value, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "return") {
				continue
			}
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch {
			case strings.EqualFold(value, "minimal"):
				return "minimal"
			case strings.EqualFold(value, "representation"):
				return "representation"
			}
		}
	}
	return ""
}

// ifMatch reads If-Match into a precondition. Tags are weak or strong forms of W/"<version>"; a tag that
// cannot be one of ours can never match, and "*" matches any existing entity.
func ifMatch(r *http.Request) store.Precondition {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return store.Precondition{}
	}
	var cond store.Precondition
	for _, line := range values {
		for _, tag := range strings.Split(line, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return store.Precondition{}
			}
			// Even an empty If-Match is a condition: it lists no tag, so none matches (RFC 9110 §13.1.1).
			cond.Set = true
			if v, ok := parseETag(tag); ok {
				cond.Versions = append(cond.Versions, v)
			}
		}
	}
	return cond
}

// parseETag reads W/"n" or "n".
func parseETag(tag string) (int64, bool) {
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil && v > 0
}

// noneMatch reports whether If-None-Match names the entity's current version (or is "*").
func noneMatch(r *http.Request, version int64) bool {
	for _, line := range r.Header.Values("If-None-Match") {
		for _, tag := range strings.Split(line, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			if v, ok := parseETag(tag); ok && v == version {
				return true
			}
		}
	}
	return false
}
