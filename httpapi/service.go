package httpapi

import (
	"net/http"
	"strconv"

	"github.com/graphd/graphd/odata"
)

// handleServiceDocument lists the service's one top-level resource, the deviceManagement singleton.
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
		b = append(b, `"value":[{"name":"deviceManagement","kind":"Singleton","url":"deviceManagement"}]}`...)
		writeRaw(w, r, f.contentType(), b)
	})
}

// handleMetadata serves the CSDL document.
func (s *server) handleMetadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, r, "application/xml;charset=utf-8", []byte(odata.MetadataDocument))
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
