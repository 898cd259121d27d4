package httpapi

import (
	"net/http"
	"slices"

	"github.com/graphd/graphd/odata"
)

// handleUsers serves the one directory lookup Intune's PFX import module makes before it updates or deletes a
// user's certificates: GET /users?$filter=userPrincipalName eq '…' (or in (…)). graphd has no directory, so every
// UPN names a user, whose id is odata.UserID(upn), the same GUID userPfxCertificates keys carry without hyphens.
// Any valid token may read it. Other filters, and a listing without one, are 400: graphd holds no users to list.
func (s *server) handleUsers() http.Handler {
	t := odata.UserType()
	upn := t.MustProperty("userPrincipalName")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := negotiate(r)
		var q odata.Query
		if err == nil {
			q, err = odata.ParseQuery(t, r.URL.RawQuery, odata.ForCollection)
		}
		var names []string
		if err == nil {
			names, err = upnLookup(q.Filter, upn)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		b := []byte{'{'}
		if f.meta != odata.MetadataNone {
			b = append(b, `"@odata.context":`...)
			ctx := s.serviceRoot(r) + "/$metadata#users"
			if q.Select != 0 {
				ctx += "(" + odata.SelectList(t, q.Select) + ")"
			}
			b = odata.AppendJSONString(b, ctx)
			b = append(b, ',')
		}
		b = append(b, `"value":[`...)
		for i, name := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = odata.AppendJSONString(b, odata.UserID(name))
			if q.Select == 0 || q.Select&(1<<upn.ID) != 0 {
				b = append(b, `,"userPrincipalName":`...)
				b = odata.AppendJSONString(b, name)
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
		writeRaw(w, r, f.contentType(), b)
	})
}

// upnLookup reads the UPNs of `userPrincipalName eq '…'` or `userPrincipalName in (…)`, in order and without
// repeats.
func upnLookup(filter odata.Expr, upn *odata.Property) ([]string, error) {
	bad := odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
		"graphd has no user directory: /users answers only $filter=userPrincipalName eq '…' (or in (…)), with the id graphd derives from the name.")
	isUPN := func(e odata.Expr) bool { p, ok := e.(*odata.PropertyRef); return ok && p.P == upn }
	var names []string
	add := func(e odata.Expr) bool {
		l, ok := e.(*odata.Literal)
		if !ok || l.LitKind != odata.KindString {
			return false
		}
		if !slices.Contains(names, l.Str) {
			names = append(names, l.Str)
		}
		return true
	}
	switch n := filter.(type) {
	case *odata.Binary:
		if n.Op == odata.OpEq && (isUPN(n.Left) && add(n.Right) || isUPN(n.Right) && add(n.Left)) {
			return names, nil
		}
	case *odata.In:
		if isUPN(n.X) {
			for _, item := range n.List {
				if !add(item) {
					return nil, bad
				}
			}
			return names, nil
		}
	}
	return nil, bad
}
