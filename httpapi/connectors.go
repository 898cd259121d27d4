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

// applyReturnPreference honours Prefer: return=minimal with 204 (true: the response is done) and acknowledges
// return=representation, which is what the handler sends anyway.
func applyReturnPreference(w http.ResponseWriter, r *http.Request, c *odata.Connector) bool {
	h := w.Header()
	switch preferReturn(r) {
	case "minimal":
		h.Set("Preference-Applied", "return=minimal")
		h.Set("ETag", odata.ETag(c.Version))
		w.WriteHeader(http.StatusNoContent)
		return true
	case "representation":
		h.Set("Preference-Applied", "return=representation")
	}
	return false
}

func (s *server) handleGetConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		var q odata.Query
		if err == nil {
			q, err = odata.ParseQuery(r.URL.RawQuery, true)
		}
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
		s.writeSelected(w, r, http.StatusOK, &c, f, q.Select)
	})
}

func (s *server) handleCreateConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
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
		if preferReturn(r) == "minimal" {
			// Without a body the client learns the new entity's id only from here.
			w.Header().Set("OData-EntityId", loc)
		}
		if applyReturnPreference(w, r, &c) {
			return
		}
		s.writeEntity(w, r, http.StatusCreated, &c, f)
	})
}

func (s *server) handleUpdateConnector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		// The body is checked before the key, so a bad body is 400 even for an id that does not exist. A key
		// that is no GUID is compared with a body "id" as the client wrote it, so that the message names it.
		id, keyErr := key(r)
		bodyKey := id
		if keyErr != nil {
			bodyKey = mux.Vars(r)["id"]
		}
		p, err := odata.ParsePatch(body, bodyKey)
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
		if applyReturnPreference(w, r, &c) {
			return
		}
		s.writeEntity(w, r, http.StatusOK, &c, f)
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
