package httpapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

var contentTypes = [...]string{
	odata.MetadataMinimal: "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
	odata.MetadataNone:    "application/json;odata.metadata=none;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
	odata.MetadataFull:    "application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
}

func contentType(m odata.Metadata) string { return contentTypes[m] }

// negotiate reads Accept: the response is JSON, so a client that accepts no JSON gets 406; an odata.metadata
// parameter on the JSON media range picks the metadata level.
func negotiate(r *http.Request) (odata.Metadata, error) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return odata.MetadataMinimal, nil
	}
	ok := false
	meta := odata.MetadataMinimal
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			rng = strings.TrimSpace(rng)
			if rng == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				continue
			}
			if q, has := params["q"]; has {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			switch mt {
			case "application/json":
				switch strings.ToLower(params["odata.metadata"]) {
				case "none":
					meta = odata.MetadataNone
				case "full":
					meta = odata.MetadataFull
				}
				ok = true
			case "*/*", "application/*":
				ok = true
			}
		}
	}
	if !ok {
		return 0, errNotAcceptable
	}
	return meta, nil
}

// preferMinimal reports whether Prefer asks for return=minimal.
func preferMinimal(r *http.Request) bool {
	for _, line := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(line, ",") {
			if strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(p), " ", ""), "return=minimal") {
				return true
			}
		}
	}
	return false
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
