package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// handleListConnectors serves the collection with $filter, $orderby, $select, $top, $skip, $count and
// server-driven paging: pages of PageSize (or Prefer: odata.maxpagesize, clamped to MaxPageSize) rows, and an
// @odata.nextLink carrying a signed keyset $skiptoken while rows remain.
func (s *server) handleListConnectors() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		q, err := odata.ParseQuery(r.URL.RawQuery, false)
		if err != nil {
			s.error(w, r, err)
			return
		}
		tenant := callerFrom(r.Context()).TenantID
		rest := queryWithoutSkipToken(r.URL.RawQuery)
		bind := tenant + "\x00" + rest
		var after *store.Cursor
		if q.HasSkipToken {
			if after, err = store.DecodeCursor(s.cfg.SkipTokenKey, bind, q.SkipToken, q.OrderBy); err != nil {
				s.error(w, r, err)
				return
			}
		}
		pageSize, applied := s.pageSize(r)
		res, err := s.store.List(r.Context(), tenant, store.ListRequest{
			Query: q, PageSize: pageSize, After: after, Now: odata.FromTime(s.cfg.Now().UTC()),
		})
		if err != nil {
			s.error(w, r, err)
			return
		}
		root := s.serviceRoot(r)
		b := getBuffer()
		defer putBuffer(b)
		out := append((*b)[:0], '{')
		if f.meta != odata.MetadataNone {
			out = append(out, `"@odata.context":`...)
			ctx := root + "/$metadata#" + odata.EntitySetPath
			if q.Select != 0 {
				ctx += "(" + odata.SelectList(q.Select) + ")"
			}
			out = odata.AppendJSONString(out, ctx)
			out = append(out, ',')
		}
		if q.Count {
			out = append(out, `"@odata.count":`...)
			out = strconv.AppendInt(out, res.Count, 10)
			out = append(out, ',')
		}
		// A cursor with no rows left under $top leads only to an empty page: the page that served the last of
		// $top's rows is the last one.
		if res.Next != nil && res.Next.Remaining != 0 {
			link := root + "/" + odata.EntitySetPath + "?"
			if rest != "" {
				link += rest + "&"
			}
			link += "$skiptoken=" + store.EncodeCursor(s.cfg.SkipTokenKey, bind, res.Next)
			out = append(out, `"@odata.nextLink":`...)
			out = odata.AppendJSONString(out, link)
			out = append(out, ',')
		}
		out = append(out, `"value":[`...)
		opts := odata.EntityOptions{ServiceRoot: root, Metadata: f.meta, Select: q.Select}
		for i := range res.Items {
			if i > 0 {
				out = append(out, ',')
			}
			out = odata.AppendConnector(out, &res.Items[i], opts)
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

// handleCountConnectors serves …/$count: the number of rows matching $filter, as text/plain.
func (s *server) handleCountConnectors() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := odata.ParseQuery(r.URL.RawQuery, false)
		if err != nil {
			s.error(w, r, err)
			return
		}
		// Only the filter narrows a count; paging options do not apply to it.
		count := odata.Query{Filter: q.Filter, Top: 0, Count: true}
		res, err := s.store.List(r.Context(), callerFrom(r.Context()).TenantID, store.ListRequest{
			Query: count, PageSize: 1, Now: odata.FromTime(s.cfg.Now().UTC()),
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

// pageSize reads Prefer: odata.maxpagesize=N. A value above MaxPageSize is clamped rather than refused, and
// the applied value is echoed in Preference-Applied.
func (s *server) pageSize(r *http.Request) (int, string) {
	size := s.cfg.PageSize
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
			size = min(n, s.cfg.MaxPageSize)
			return size, "odata.maxpagesize=" + strconv.Itoa(size)
		}
	}
	return size, ""
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
