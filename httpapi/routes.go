package httpapi

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

const (
	serviceRootPath = "/beta"
	collectionPath  = serviceRootPath + "/deviceManagement/certificateConnectorDetails"
)

// routes is the whole API surface. Each path is registered once with a method table, so a known path with an
// unsupported verb is answered 405 with its real Allow list, and anything else reaches notFound.
func (s *server) routes() http.Handler {
	r := mux.NewRouter()
	// mux would answer "//" and "/./" with a 301 even for PATCH; Graph paths are never cleaned.
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(s.handleUnknownSegment)

	r.Handle("/healthz", s.methods(map[string]http.Handler{http.MethodGet: s.handleHealthz()}))
	r.Handle("/readyz", s.methods(map[string]http.Handler{http.MethodGet: s.handleReadyz()}))
	r.Handle("/metrics", s.methods(map[string]http.Handler{http.MethodGet: s.handleMetrics()}))
	if len(s.cfg.JWKS) > 0 {
		r.Handle("/.well-known/jwks.json", s.methods(map[string]http.Handler{http.MethodGet: s.handleJWKS()}))
	}

	// As on Graph, the model and the service document need no token.
	r.Handle(serviceRootPath, s.methods(map[string]http.Handler{http.MethodGet: s.handleServiceDocument()}))
	r.Handle(serviceRootPath+"/$metadata", s.methods(map[string]http.Handler{http.MethodGet: s.handleMetadata()}))

	read := func(h http.Handler) http.Handler { return s.authorized(auth.AccessRead, h) }
	write := func(h http.Handler) http.Handler { return s.authorized(auth.AccessWrite, h) }
	r.Handle(collectionPath, s.methods(map[string]http.Handler{
		http.MethodGet:  read(s.handleListConnectors()),
		http.MethodPost: write(s.handleCreateConnector()),
	}))
	r.Handle(collectionPath+"/$count", s.methods(map[string]http.Handler{http.MethodGet: read(s.handleCountConnectors())}))
	item := s.methods(map[string]http.Handler{
		http.MethodGet:    read(s.handleGetConnector()),
		http.MethodPatch:  write(s.handleUpdateConnector()),
		http.MethodDelete: write(s.handleDeleteConnector()),
	})
	healthMetrics := s.methods(map[string]http.Handler{http.MethodPost: read(s.handleGetHealthMetrics())})
	timeSeries := s.methods(map[string]http.Handler{http.MethodPost: read(s.handleGetHealthMetricTimeSeries())})
	// Both key forms; the key may be empty in parentheses, so that "('')" is a key that is not a GUID (404)
	// rather than an unknown segment. Actions are bound with and without the namespace.
	for _, key := range []string{"/{id}", "('{id:[^/]*}')"} {
		r.Handle(collectionPath+key, item)
		for _, ns := range []string{"", odata.Namespace + "."} {
			r.Handle(collectionPath+key+"/"+ns+"getHealthMetrics", healthMetrics)
			r.Handle(collectionPath+key+"/"+ns+"getHealthMetricTimeSeries", timeSeries)
		}
	}

	r.Use(s.recordRoute)
	return trimTrailingSlash(r)
}

// trimTrailingSlash lets "…/certificateConnectorDetails/" and "…/{id}/" address what they address without the
// slash, as OData services do, instead of naming an empty unknown segment. A doubled slash is left alone: it
// stays an empty segment, answered 400.
func trimTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' && p[len(p)-2] != '/' {
			u := *r.URL
			u.Path = p[:len(p)-1]
			u.RawPath = strings.TrimSuffix(u.RawPath, "/")
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// methods dispatches on the HTTP method, answering 405 with an Allow header for the others. HEAD is served by
// the GET handler wherever there is one; net/http drops the body and keeps the headers.
func (s *server) methods(handlers map[string]http.Handler) http.Handler {
	if get := handlers[http.MethodGet]; get != nil && handlers[http.MethodHead] == nil {
		handlers[http.MethodHead] = get
	}
	allowed := make([]string, 0, len(handlers))
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if handlers[m] != nil {
			allowed = append(allowed, m)
		}
	}
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handlers[r.Method]; h != nil {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		s.error(w, r, errMethodNotAllowed(r.Method))
	})
}

// knownPath is the tree of segments graphd serves, for naming the first one it does not.
var knownPath = []string{"beta", "deviceManagement", "certificateConnectorDetails"}

// handleUnknownSegment answers a path nothing serves as Graph does: 400 naming the first unknown segment.
func (s *server) handleUnknownSegment(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, errUnknownSegment(firstUnknownSegment(r.URL.Path)))
}

func firstUnknownSegment(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	last := len(knownPath) - 1
	for i, seg := range segs {
		switch {
		case i <= last && seg == knownPath[i]:
		case i == last && strings.HasPrefix(seg, knownPath[last]+"("):
			// The key is inside this segment, so whatever follows is unknown.
			if i+1 < len(segs) {
				return segs[i+1]
			}
			return seg
		case i == last+1 && seg != "":
			// The key segment; an empty one ("…certificateConnectorDetails//id") is itself the unknown segment.
		default:
			return seg
		}
	}
	return segs[len(segs)-1]
}
