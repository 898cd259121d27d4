package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/graphd/graphd/odata"
)

// handleServiceDocument lists the service's top-level resources: the singletons that contain the entity sets,
// the sets at the top level, and users.
func (s *server) handleServiceDocument() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		b := []byte("{")
		if f.meta != odata.MetadataNone {
			b = append(b, `"@odata.context":`...)
			b = odata.AppendJSONString(b, s.serviceRoot(r)+"/$metadata")
			b = append(b, ',')
		}
		b = append(b, s.serviceValue...)
		writeRaw(w, r, f.contentType(), b)
	})
}

// handleMetadata serves the CSDL document.
func (s *server) handleMetadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, r, "application/xml;charset=utf-8", []byte(s.model.MetadataDocument()))
	})
}

// handleJWKS publishes graphd's own token verification keys.
func (s *server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, r, "application/json", s.cfg.JWKS)
	})
}

func writeRaw(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	writeBody(w, r, b)
}

// serviceDocumentValue is the service document's value member (OData JSON §5): the containers as singletons and
// the top-level entity sets.
func serviceDocumentValue(m *odata.Model) []byte {
	b := []byte(`"value":[`)
	var seen []string
	add := func(name, kind string) {
		if len(seen) > 0 {
			b = append(b, ',')
		}
		seen = append(seen, name)
		b = append(b, `{"name":`...)
		b = odata.AppendJSONString(b, name)
		b = append(b, `,"kind":"`+kind+`","url":`...)
		b = odata.AppendJSONString(b, name)
		b = append(b, '}')
	}
	for _, set := range m.Sets {
		if set.Container != "" && !slices.Contains(seen, set.Container) {
			add(set.Container, "Singleton")
		}
	}
	for _, set := range m.Sets {
		if set.Container == "" {
			add(set.Name, "EntitySet")
		}
	}
	return append(b, "]}"...)
}
