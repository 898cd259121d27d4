package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// handleList serves a collection with $filter, $orderby, $select, $top, $skip, $count and server-driven paging.
// $top is Graph's page size: a page holds min($top, Prefer: odata.maxpagesize, the server's maximum) entities
// (GRAPHD_PAGE_SIZE without either), and while more match, @odata.nextLink repeats the query with a signed keyset
// $skiptoken, so following the links yields every match once, in order. $skip applies to the first page only;
// @odata.count is the number of matches, whatever the paging.
func (s *server) handleList(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		q, err := odata.ParseQuery(set.Type, r.URL.RawQuery, odata.ForCollection)
		if err != nil {
			s.error(w, r, err)
			return
		}
		tenant := callerFrom(r.Context()).TenantID
		rest := queryWithoutSkipToken(r.URL.RawQuery)
		bind := tenant + "\x00" + set.Name + "\x00" + rest
		var after *store.Cursor
		if q.HasSkipToken {
			if after, err = s.store.DecodeCursor(r.Context(), s.cfg.SkipTokenKey, bind, q.SkipToken, len(q.OrderBy)); err != nil {
				s.error(w, r, err)
				return
			}
		}
		pageSize, applied := s.pageSize(r, q.Top)
		res, err := s.store.List(r.Context(), set, tenant, store.ListRequest{
			Query: q, PageSize: pageSize, After: after, Now: s.now(),
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		var link string
		if res.Next != nil {
			token, err := s.store.EncodeCursor(r.Context(), s.cfg.SkipTokenKey, bind, res.Next)
			if err != nil {
				s.error(w, r, err)
				return
			}
			link = s.serviceRoot(r) + "/" + set.Path + "?"
			if rest != "" {
				link += rest + "&"
			}
			link += "$skiptoken=" + token
		}
		root := s.serviceRoot(r)
		b := getBuffer()
		defer putBuffer(b)
		out := append((*b)[:0], '{')
		if f.meta != odata.MetadataNone {
			out = append(out, `"@odata.context":`...)
			ctx := root + "/$metadata#" + set.Path
			if q.Select != 0 {
				ctx += "(" + odata.SelectList(set.Type, q.Select) + ")"
			}
			out = odata.AppendJSONString(out, ctx)
			out = append(out, ',')
		}
		if q.Count {
			out = append(out, `"@odata.count":`...)
			out = strconv.AppendInt(out, res.Count, 10)
			out = append(out, ',')
		}
		if link != "" {
			out = append(out, `"@odata.nextLink":`...)
			out = odata.AppendJSONString(out, link)
			out = append(out, ',')
		}
		out = append(out, `"value":[`...)
		opts := odata.EntityOptions{ServiceRoot: root, Metadata: f.meta, Select: q.Select, Redact: true, IEEE754Compatible: f.ieee754}
		for i := range res.Items {
			if i > 0 {
				out = append(out, ',')
			}
			out = odata.AppendEntity(out, set, &res.Items[i], opts)
		}
		out = append(out, "]}"...)
		*b = out
		h := w.Header()
		if applied != "" {
			h.Set("Preference-Applied", applied)
		}
		h.Set("Content-Type", f.contentType())
		h.Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		writeBody(w, r, out)
	})
}

// handleCount serves …/$count: the number of entities matching $filter, as text/plain. $top, $skip, $orderby and
// $select are refused (OData: a client must not combine them with /$count).
func (s *server) handleCount(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := odata.ParseQuery(set.Type, r.URL.RawQuery, odata.ForCount)
		if err != nil {
			s.error(w, r, err)
			return
		}
		res, err := s.store.List(r.Context(), set, callerFrom(r.Context()).TenantID, store.ListRequest{
			Query: odata.Query{Filter: q.Filter, Count: true}, Now: s.now(),
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		body := strconv.AppendInt(nil, res.Count, 10)
		h := w.Header()
		h.Set("Content-Type", "text/plain;charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		writeBody(w, r, body)
	})
}

// pageSize is the size of a page: min($top, Prefer: odata.maxpagesize=N, MaxPageSize), or PageSize when the
// client gives neither. A preference above MaxPageSize is clamped rather than refused; the applied value is
// echoed in Preference-Applied.
func (s *server) pageSize(r *http.Request, top int64) (int, string) {
	size, applied := s.cfg.PageSize, ""
	pref := preferredPageSize(r)
	if pref > 0 {
		size = min(pref, s.cfg.MaxPageSize)
		applied = "odata.maxpagesize=" + strconv.Itoa(size)
	}
	if top >= 0 {
		if pref <= 0 {
			size = s.cfg.MaxPageSize
		}
		size = int(min(int64(size), top))
	}
	return size, applied
}

// preferredPageSize reads Prefer: odata.maxpagesize=N; 0 when absent or not a positive number.
func preferredPageSize(r *http.Request) int {
	for _, line := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(line, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "odata.maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err != nil || n <= 0 {
				continue
			}
			return n
		}
	}
	return 0
}

// queryWithoutSkipToken is the raw query without its $skiptoken: what a nextLink repeats, and what a skiptoken
// is bound to, so a token only continues the query it was minted for.
func queryWithoutSkipToken(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		// The name as odata.ParseQuery reads it: percent-decoded, case-insensitive, '$' optional.
		name, _, _ := strings.Cut(p, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		if strings.EqualFold(strings.TrimPrefix(name, "$"), "skiptoken") {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}
