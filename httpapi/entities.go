package httpapi

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/graphd/graphd/odata"
)

// rawKey is the key as the URL gives it: a path segment, or in parentheses, quoted (with quotes doubled inside)
// or bare. ok is false for a quoted key whose quotes are not doubled, which no entity can have.
func rawKey(r *http.Request) (string, bool) {
	vars := mux.Vars(r)
	if k, ok := vars[keyQuoted]; ok {
		// Inside quotes a quote is written twice; a single one cannot be part of a key.
		var b strings.Builder
		for i := 0; i < len(k); i++ {
			if k[i] == '\'' {
				if i+1 >= len(k) || k[i+1] != '\'' {
					return k, false
				}
				i++
			}
			b.WriteByte(k[i])
		}
		return b.String(), true
	}
	if k, ok := vars[keyBare]; ok {
		return k, true
	}
	return vars[keyPath], true
}

// key reads the entity key from the path in its canonical form. A key no entity of the set can have (not a GUID,
// for GUID keys) is 404, as for a missing one.
func key(set *odata.EntitySet, r *http.Request) (string, error) {
	raw, ok := rawKey(r)
	if !ok {
		return "", odata.ErrNotFound
	}
	k, ok := set.Type.Key(raw)
	if !ok {
		return "", odata.ErrNotFound
	}
	return k, nil
}

// applyReturnPreference honours Prefer: return=minimal with 204 (true: the response is done) and acknowledges
// return=representation, which is what the handler sends anyway.
func applyReturnPreference(w http.ResponseWriter, r *http.Request, e *odata.Entity) bool {
	h := w.Header()
	switch preferReturn(r) {
	case "minimal":
		h.Set("Preference-Applied", "return=minimal")
		h.Set("ETag", odata.ETag(e.Version))
		w.WriteHeader(http.StatusNoContent)
		return true
	case "representation":
		h.Set("Preference-Applied", "return=representation")
	}
	return false
}

func (s *server) handleGet(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		var q odata.Query
		if err == nil {
			q, err = odata.ParseQuery(set.Type, r.URL.RawQuery, odata.ForEntity)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		k, err := key(set, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		e, err := s.store.Get(r.Context(), set, callerFrom(r.Context()).TenantID, k)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if noneMatch(r, e.Version) {
			w.Header().Set("ETag", odata.ETag(e.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.writeEntity(w, r, http.StatusOK, set, &e, f, q.Select, true)
	})
}

func (s *server) handleCreate(set *odata.EntitySet) http.Handler {
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
		p, err := odata.ParseCreate(set.Type, body)
		if err != nil {
			s.error(w, r, err)
			return
		}
		e, err := s.store.Create(r.Context(), set, callerFrom(r.Context()).TenantID, &p, s.now())
		if err != nil {
			s.error(w, r, err)
			return
		}
		loc := odata.EntityURL(s.serviceRoot(r), set, e.Key())
		w.Header().Set("Location", loc)
		if preferReturn(r) == "minimal" {
			// Without a body the client learns the new entity's id only from here.
			w.Header().Set("OData-EntityId", loc)
		}
		if applyReturnPreference(w, r, &e) {
			return
		}
		s.writeEntity(w, r, http.StatusCreated, set, &e, f, 0, false)
	})
}

func (s *server) handleUpdate(set *odata.EntitySet) http.Handler {
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
		// that is not valid is compared with a body "id" as the client wrote it, so that the message names it.
		k, keyErr := key(set, r)
		bodyKey := k
		if keyErr != nil {
			bodyKey, _ = rawKey(r)
		}
		p, err := odata.ParsePatch(set.Type, body, bodyKey)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if keyErr != nil {
			s.error(w, r, keyErr)
			return
		}
		e, err := s.store.Update(r.Context(), set, callerFrom(r.Context()).TenantID, k, &p, ifMatch(r), s.now())
		if err != nil {
			s.error(w, r, err)
			return
		}
		if applyReturnPreference(w, r, &e) {
			return
		}
		s.writeEntity(w, r, http.StatusOK, set, &e, f, 0, false)
	})
}

func (s *server) handleDelete(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := key(set, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.store.Delete(r.Context(), set, callerFrom(r.Context()).TenantID, k, ifMatch(r)); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
