package httpapi

import (
	"net/http"
	"strings"

	"github.com/graphd/graphd/odata"
)

// canonicalSegments resolves service-defined path segments case-insensitively, as Graph does:
// /BETA/DeviceManagement/CertificateConnectorDetails/$COUNT is /beta/deviceManagement/certificateConnectorDetails/$count.
// Segments the service defines are the version, $metadata, $batch, users, the containers, the entity sets,
// $count and action names (with or without the namespace); keys are the client's and keep their case. The router,
// responses and logs then see only the canonical spelling.
func (s *server) canonicalSegments(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, changed := canonicalPath(s.model, r.URL.Path); changed {
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalPath returns path with its service-defined segments in their canonical case, and whether any changed.
// Only a path that changes is joined again.
func canonicalPath(m *odata.Model, path string) (string, bool) {
	if len(path) < 5 || path[0] != '/' {
		return path, false
	}
	changed := false
	segs := strings.Split(path[1:], "/")
	fix := func(i int, canonical string) {
		if segs[i] != canonical {
			segs[i], changed = canonical, true
		}
	}
	if !strings.EqualFold(segs[0], "beta") {
		return path, false
	}
	fix(0, "beta")
	if len(segs) < 2 {
		return join(segs, path, changed)
	}
	i := 1
	var set *odata.EntitySet
	switch {
	case strings.EqualFold(segs[1], "$metadata"):
		fix(1, "$metadata")
	case strings.EqualFold(segs[1], "$batch"):
		fix(1, "$batch")
	case strings.EqualFold(segs[1], "users"):
		fix(1, "users")
	default:
		for _, x := range m.Sets {
			if x.Container != "" && strings.EqualFold(segs[1], x.Container) {
				fix(1, x.Container)
				if len(segs) > 2 {
					name, rest, _ := strings.Cut(segs[2], "(")
					if strings.EqualFold(name, x.Name) {
						set, i = x, 2
						if rest != "" || strings.Contains(segs[2], "(") {
							fix(2, x.Name+segs[2][len(name):])
						} else {
							fix(2, x.Name)
						}
						break
					}
				}
			}
			if x.Container == "" {
				name, _, _ := strings.Cut(segs[1], "(")
				if strings.EqualFold(name, x.Name) {
					set = x
					fix(1, x.Name+segs[1][len(name):])
					break
				}
			}
		}
	}
	if set == nil {
		return join(segs, path, changed)
	}
	next := i + 1
	if !strings.Contains(segs[i], "(") {
		// The segment after the set is $count or a key.
		if next < len(segs) && strings.EqualFold(segs[next], "$count") {
			fix(next, "$count")
			return join(segs, path, changed)
		}
		next++
	}
	if next < len(segs) {
		name := segs[next]
		prefix := ""
		if len(name) > len(odata.Namespace)+1 && strings.EqualFold(name[:len(odata.Namespace)+1], odata.Namespace+".") {
			prefix, name = odata.Namespace+".", name[len(odata.Namespace)+1:]
		}
		for _, a := range set.Actions {
			if strings.EqualFold(name, a.Name) {
				fix(next, prefix+a.Name)
			}
		}
	}
	return join(segs, path, changed)
}

func join(segs []string, path string, changed bool) (string, bool) {
	if !changed {
		return path, false
	}
	return "/" + strings.Join(segs, "/"), true
}
