package httpapi

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/graphd/graphd/odata"
)

const serviceRootPath = "/beta"

// routes is the whole API surface, generated from the model: for every entity set its collection, /$count, the
// entity in the key forms OData and Intune's clients write, and its bound actions. Each path is registered once
// with a method table, so a known path with an unsupported verb is answered 405 with its real Allow list, and
// anything else reaches handleUnknownSegment.
func (s *server) routes() http.Handler {
	r := mux.NewRouter()
	// mux would answer "//" and "/./" with a 301 even for PATCH; Graph paths are never cleaned.
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(s.handleUnknownSegment)
	// handle registers a path with its method table; the template names the route in the access log and metrics.
	handle := func(tpl string, handlers map[string]http.Handler) {
		r.Handle(tpl, s.named(tpl, s.methods(handlers)))
	}

	// The entity sets first: mux tries routes in order, and these carry almost all the traffic.
	actions := s.actionHandlers()
	for _, set := range s.model.Sets {
		read := func(h http.Handler) http.Handler { return s.authorized(set.Permissions.Read, h) }
		write := func(h http.Handler) http.Handler { return s.authorized(set.Permissions.Write, h) }
		collection := serviceRootPath + "/" + set.Path
		// Both key forms; the key may be empty in parentheses, so that "('')" is a key no entity has (404)
		// rather than an unknown segment; string keys also take the unquoted form Intune's PowerShell module
		// writes.
		keys := []string{"/{" + keyPath + "}", "('{" + keyQuoted + ":[^/]*}')"}
		if set.Type.KeyKind == odata.KeyString {
			keys = append(keys, "({"+keyBare+":[^/']*})")
		}
		// $count before the path-form key, which would take it for a key.
		handle(collection+"/$count", map[string]http.Handler{http.MethodGet: read(s.handleCount(set))})
		for _, key := range keys {
			handle(collection+key, map[string]http.Handler{
				http.MethodGet:    read(s.handleGet(set)),
				http.MethodPatch:  write(s.handleUpdate(set)),
				http.MethodDelete: write(s.handleDelete(set)),
			})
		}
		handle(collection, map[string]http.Handler{
			http.MethodGet:  read(s.handleList(set)),
			http.MethodPost: write(s.handleCreate(set)),
		})
		// Bound actions, with and without the namespace.
		for _, a := range set.Actions {
			h, ok := actions[set.Name+"/"+a.Name]
			if !ok {
				panic("httpapi: no handler for the action " + a.Name + " of " + set.Name)
			}
			access := read
			if a.Write {
				access = write
			}
			for _, key := range keys {
				for _, name := range []string{a.Name, odata.Namespace + "." + a.Name} {
					handle(collection+key+"/"+name, map[string]http.Handler{http.MethodPost: access(h(set))})
				}
			}
		}
	}

	open := func(h http.Handler) http.Handler { return s.withRequestLimits(h) }
	handle("/healthz", map[string]http.Handler{http.MethodGet: s.handleHealthz()})
	handle("/readyz", map[string]http.Handler{http.MethodGet: s.handleReadyz()})
	handle("/metrics", map[string]http.Handler{http.MethodGet: s.handleMetrics()})
	if len(s.cfg.JWKS) > 0 {
		handle("/.well-known/jwks.json", map[string]http.Handler{http.MethodGet: s.handleJWKS()})
	}

	// As on Graph, the model and the service document need no token.
	handle(serviceRootPath, map[string]http.Handler{http.MethodGet: open(s.handleServiceDocument())})
	handle(serviceRootPath+"/$metadata", map[string]http.Handler{http.MethodGet: open(s.handleMetadata())})
	handle(serviceRootPath+"/$batch", map[string]http.Handler{http.MethodPost: s.authenticated(s.handleBatch())})
	handle(serviceRootPath+"/users", map[string]http.Handler{http.MethodGet: s.authorized(nil, s.handleUsers())})

	if s.cfg.Admin != nil {
		s.adminRoutes(handle)
	}
	return s.canonicalSegments(trimTrailingSlash(r))
}

// The route variables of the three key forms.
const (
	keyPath   = "id"
	keyQuoted = "qid"
	keyBare   = "uid"
)

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
			// A fault fires after routing, before authentication, as a gateway would.
			if s.faults != nil && strings.HasPrefix(r.URL.Path, serviceRootPath+"/") && s.injectFault(w, r, "") {
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		s.error(w, r, errMethodNotAllowed(r.Method))
	})
}

// handleUnknownSegment answers a path nothing serves as Graph does: 400 naming the first unknown segment.
func (s *server) handleUnknownSegment(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, errUnknownSegment(s.firstUnknownSegment(r.URL.Path)))
}

// firstUnknownSegment walks the path along the tree the model serves and returns the first segment that is not
// in it.
func (s *server) firstUnknownSegment(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if segs[0] != "beta" || len(segs) == 1 {
		return segs[0]
	}
	var set *odata.EntitySet
	i := 1
	for _, x := range s.model.Sets {
		if x.Container != "" && segs[1] == x.Container && len(segs) > 2 {
			if name, _, _ := strings.Cut(segs[2], "("); name == x.Name {
				set, i = x, 2
				break
			}
		}
		if x.Container == "" {
			if name, _, _ := strings.Cut(segs[1], "("); name == x.Name {
				set = x
				break
			}
		}
	}
	if set == nil {
		if isContainer(s.model, segs[1]) && len(segs) > 2 {
			return segs[2]
		}
		return segs[1]
	}
	if strings.Contains(segs[i], "(") {
		// The key is inside this segment, so whatever follows is unknown.
		if i+1 < len(segs) {
			return segs[i+1]
		}
		return segs[i]
	}
	switch {
	case i+1 >= len(segs):
		return segs[len(segs)-1]
	case segs[i+1] == "":
		// An empty key segment ("…certificateConnectorDetails//id") is itself the unknown segment.
		return segs[i+1]
	case i+2 < len(segs):
		return segs[i+2]
	}
	return segs[len(segs)-1]
}

func isContainer(m *odata.Model, name string) bool {
	for _, s := range m.Sets {
		if s.Container == name {
			return true
		}
	}
	return false
}
