package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/graphd/graphd/odata"
)

// key reads the entity key from the path. A key that is not a GUID names no entity: 404, as for a missing one.
func key(r *http.Request) (string, error) {
	id, ok := odata.ParseGUID(mux.Vars(r)["id"])
	if !ok {
		return "", odata.ErrNotFound
	}
	return id, nil
}

func (s *server) handleGetConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		id, err := key(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		c, err := s.store.Get(r.Context(), callerFrom(r.Context()).TenantID, id)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if noneMatch(r, c.Version) {
			w.Header().Set("ETag", odata.ETag(c.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.writeEntity(w, r, http.StatusOK, &c, meta)
	})
}

func (s *server) handleCreateConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		p, err := odata.ParseCreate(body)
		if err != nil {
			s.error(w, r, err)
			return
		}
		c, err := s.store.Create(r.Context(), callerFrom(r.Context()).TenantID, &p)
		if err != nil {
			s.error(w, r, err)
			return
		}
		loc := odata.EntityURL(s.serviceRoot(r), c.ID)
		w.Header().Set("Location", loc)
		if preferMinimal(r) {
			h := w.Header()
			h.Set("OData-EntityId", loc)
			h.Set("Preference-Applied", "return=minimal")
			h.Set("ETag", odata.ETag(c.Version))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeEntity(w, r, http.StatusCreated, &c, meta)
	})
}

func (s *server) handleUpdateConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		// The body is checked before the key, so a bad body is 400 even for an id that does not exist.
		id, keyErr := key(r)
		p, err := odata.ParsePatch(body, id)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if keyErr != nil {
			s.error(w, r, keyErr)
			return
		}
		c, err := s.store.Update(r.Context(), callerFrom(r.Context()).TenantID, id, &p, ifMatch(r))
		if err != nil {
			s.error(w, r, err)
			return
		}
		if preferMinimal(r) {
			h := w.Header()
			h.Set("Preference-Applied", "return=minimal")
			h.Set("ETag", odata.ETag(c.Version))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeEntity(w, r, http.StatusOK, &c, meta)
	})
}

func (s *server) handleDeleteConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := key(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.store.Delete(r.Context(), callerFrom(r.Context()).TenantID, id, ifMatch(r)); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
