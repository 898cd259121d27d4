package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// TestIntegrationUserPfx runs every userPfxCertificates case on PostgreSQL, one after another on one database,
// each from the case's own entities, and compares the answers with the fake store's goldens; a refused request
// changes no entity.
func TestIntegrationUserPfx(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)
	s.importRow(t, seedRow(t))
	pfxRows := func() []odata.Entity {
		res, err := s.store.List(t.Context(), pfxSet, odata.DevTenantID, store.ListRequest{Query: odata.Query{Top: -1}, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return res.Items
	}
	get := func(set *odata.EntitySet, key string) (odata.Entity, bool) {
		e, err := s.store.Get(t.Context(), set, odata.DevTenantID, key)
		if errors.Is(err, odata.ErrNotFound) {
			return odata.Entity{}, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return e, true
	}
	for _, tc := range pfxCases(t) {
		tc = withPfxRows(t, tc)
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.store.Pool().Exec(t.Context(), "DELETE FROM user_pfx_certificates"); err != nil {
				t.Fatal(err)
			}
			importEntities(t, s.store, odata.DevTenantID, tc.extra)
			before := pfxRows()
			res, body := s.send(t, &tc)
			checkResult(t, result{res: res, body: body, wants: tc, get: get,
				row: func() (odata.Entity, bool) { return get(connSet, seedID) }})
			if res.StatusCode >= 400 || res.StatusCode == http.StatusNotModified {
				if after := pfxRows(); !reflect.DeepEqual(before, after) {
					t.Errorf("a refused request changed the certificates:\nbefore %+v\nafter  %+v", before, after)
				}
			}
		})
	}
}

// TestUserPfxModuleFlow is what Intune's PFX import module does, on PostgreSQL with tokens: upload, look the
// certificate up by UPN and thumbprint, find the user's id, update through the key it forms, delete.
func TestUserPfxModuleFlow(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t, nil)
	tok := s.token(t, tenantA)
	const upn, thumbprint = "Megan.Bowen@contoso.example", "5FFFF976DFFFFE49AFFFF8978FFFFF25" + "0FFFF896"
	body := `{"thumbprint":"` + strings.ToLower(thumbprint) + `","intendedPurpose":"SmimeEncryption","userPrincipalName":"` + upn + `",
		"startDateTime":"2024-05-01T00:00:00+02:00","expirationDateTime":"2025-05-01T00:00:00+02:00","providerName":"Microsoft Software Key Storage Provider",
		"keyName":"PFXEncryptionKey","paddingScheme":"OaepSha512","encryptedPfxBlob":"MIIKAgEDMIIJ","encryptedPfxPassword":"ZW5jcnlwdGVk",
		"createdDateTime":"2024-05-01T10:00:00Z","lastModifiedDateTime":"2024-05-01T10:00:00Z"}`
	res, created := s.do(t, tok, "POST", pfxCollection, jsonHdr(), body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", res.StatusCode, created)
	}
	res, again := s.do(t, tok, "POST", pfxCollection, jsonHdr(), body)
	if res.StatusCode != http.StatusConflict {
		t.Errorf("a second import: %d %s, want 409", res.StatusCode, again)
	}

	// Get-IntuneUserPfxCertificate: tolower on both properties, the values lower-cased by the module.
	filter := "tolower(userPrincipalName) eq '" + strings.ToLower(upn) + "' and tolower(thumbprint) eq '" + strings.ToLower(thumbprint) + "'"
	res, listed := s.do(t, tok, "GET", pfxCollection+"?$filter="+qv(filter), nil, "")
	page := decodePage(t, listed)
	if res.StatusCode != 200 || len(page.Value) != 1 || !bytes.Contains(page.Value[0], []byte(`"encryptedPfxBlob":"AA==","encryptedPfxPassword":""`)) {
		t.Fatalf("lookup: %d %s", res.StatusCode, listed)
	}
	var cert struct{ ID string }
	if err := json.Unmarshal(page.Value[0], &cert); err != nil {
		t.Fatal(err)
	}

	// The user's id, with a token that holds no permission at all: any valid token may look a user up.
	noScopes, err := s.iss.Sign(auth.TokenRequest{TenantID: tenantA, Subject: "user-a", TTL: time.Hour, Now: pinnedNow})
	if err != nil {
		t.Fatal(err)
	}
	usersQuery := "/beta/users?$filter=" + qv("userPrincipalName eq '"+upn+"'")
	res, users := s.do(t, noScopes, "GET", usersQuery, nil, "")
	var found struct {
		Value []struct{ ID string } `json:"value"`
	}
	if err := json.Unmarshal(users, &found); err != nil || res.StatusCode != 200 || len(found.Value) != 1 {
		t.Fatalf("users lookup: %d %s", res.StatusCode, users)
	}
	key := strings.ReplaceAll(found.Value[0].ID, "-", "") + "-" + strings.ToLower(thumbprint)
	if key != cert.ID || key != odata.UserPfxKey(upn, thumbprint) {
		t.Errorf("the key the module forms, %s, is not the certificate's id %s", key, cert.ID)
	}
	if res, body := s.do(t, "", "GET", usersQuery, nil, ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("users lookup without a token: %d %s", res.StatusCode, body)
	}
	if res, body := s.do(t, noScopes, "GET", pfxCollection, nil, ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("certificates with a token that holds no permission: %d %s", res.StatusCode, body)
	}

	// Import-IntuneUserPfxCertificate -IsUpdate: PATCH …/userPfxCertificates({userId}-{thumbprint}).
	res, patched := s.do(t, tok, "PATCH", pfxCollection+"("+key+")", jsonHdr(), `{"encryptedPfxPassword":"bmV3","paddingScheme":"OaepSha256"}`)
	if res.StatusCode != 200 || !bytes.Contains(patched, []byte(`"paddingScheme":"oaepSha256","encryptedPfxBlob":"MIIKAgEDMIIJ","encryptedPfxPassword":"bmV3"`)) {
		t.Errorf("update: %d %s", res.StatusCode, patched)
	}
	// The README's form, then Remove-IntuneUserPfxCertificate: DELETE …/userPfxCertificates/{userId}-{thumbprint}.
	if res, got := s.do(t, tok, "GET", pfxCollection+"('"+key+"')", nil, ""); res.StatusCode != 200 || !bytes.Contains(got, []byte(`"encryptedPfxPassword":""`)) {
		t.Errorf("GET ('key'): %d %s", res.StatusCode, got)
	}
	if res, body := s.do(t, tok, "DELETE", pfxCollection+"/"+key, nil, ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", res.StatusCode, body)
	}
	if res, body := s.do(t, tok, "GET", pfxCollection+"/"+key, nil, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET after delete: %d %s", res.StatusCode, body)
	}
}

// TestTenantIsolationUserPfx is the cross-tenant suite for userPfxCertificates on PostgreSQL: tenant B reaches
// none of tenant A's certificates through any route or key form, is answered exactly as for a key that exists
// nowhere, and keeps certificates of its own under the same keys.
func TestTenantIsolationUserPfx(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t, nil)
	a, b := s.token(t, tenantA), s.token(t, tenantB)
	importEntities(t, s.store, tenantA, []odata.Entity{aliceRow(t), quoteRow(t)})
	res, body := s.do(t, a, "POST", pfxCollection, jsonHdr(), string(docsRequest(t)))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("A's POST: %d %s", res.StatusCode, body)
	}
	aRows := s.rowsOf(t, pfxSet, tenantA)
	if len(aRows) != 3 {
		t.Fatalf("tenant A holds %d certificates", len(aRows))
	}

	missing := odata.UserPfxKey("nobody@contoso.example", "00")
	forms := func(key string) []string {
		quoted := url.PathEscape(strings.ReplaceAll(key, "'", "''"))
		f := []string{pfxCollection + "/" + url.PathEscape(key), pfxCollection + "('" + quoted + "')",
			pfxCollection + "('" + url.PathEscape(strings.ReplaceAll(strings.ToUpper(key), "'", "''")) + "')"}
		if !strings.ContainsAny(key, "' ") {
			f = append(f, pfxCollection+"("+key+")")
		}
		return f
	}
	for _, req := range []struct {
		method string
		header http.Header
		body   string
	}{
		{"GET", nil, ""},
		{"GET", nil, "?$select=thumbprint"},
		{"HEAD", nil, ""},
		{"PATCH", jsonHdr(), `{"keyName":"stolen"}`},
		{"PATCH", jsonHdr("If-Match", "*"), `{}`},
		{"PATCH", jsonHdr(), `{"thumbprint":"changed"}`},
		{"DELETE", nil, ""},
		{"DELETE", hdr("If-Match", `W/"1"`), ""},
	} {
		suffix, payload := "", req.body
		if strings.HasPrefix(req.body, "?") {
			suffix, payload = req.body, ""
		}
		wantRes, wantBody := s.do(t, b, req.method, pfxCollection+"/"+missing+suffix, req.header, payload)
		if wantRes.StatusCode != http.StatusNotFound {
			t.Fatalf("B's %s of a missing key: %d %s", req.method, wantRes.StatusCode, wantBody)
		}
		for _, e := range aRows {
			for _, path := range forms(e.Key()) {
				res, got := s.do(t, b, req.method, path+suffix, req.header, payload)
				if g, w := render(res, got), render(wantRes, wantBody); !bytes.Equal(g, w) {
					t.Errorf("B's %s %s answers differently from a missing key:\n%s\nwant\n%s", req.method, path, g, w)
				}
			}
		}
	}
	for _, q := range []string{"", "?$count=true", "?$filter=" + qv("tolower(userPrincipalName) eq '"+strings.ToLower(aliceUPN)+"'"),
		"?$filter=" + qv("id eq '"+aliceKey+"'"), "?$orderby=thumbprint&$top=1"} {
		res, body := s.do(t, b, "GET", pfxCollection+q, nil, "")
		if page := decodePage(t, body); res.StatusCode != 200 || len(page.Value) != 0 || page.NextLink != "" {
			t.Errorf("B's list %s: %d %s", q, res.StatusCode, body)
		}
	}
	if res, body := s.do(t, b, "GET", pfxCollection+"/$count", nil, ""); res.StatusCode != 200 || string(body) != "0" {
		t.Errorf("B's $count: %d %s", res.StatusCode, body)
	}
	// B's own certificate under A's key: no conflict across tenants, and A's is untouched by B's writes.
	res, body = s.do(t, b, "POST", pfxCollection, jsonHdr(), `{"userPrincipalName":"`+aliceUPN+`","thumbprint":"`+aliceThumbprint+`","keyName":"b"}`)
	if res.StatusCode != http.StatusCreated || !bytes.Contains(body, []byte(`"id":"`+aliceKey+`"`)) {
		t.Fatalf("B's POST of A's key: %d %s", res.StatusCode, body)
	}
	if res, body := s.do(t, b, "PATCH", pfxCollection+"("+aliceKey+")", jsonHdr(), `{"keyName":"b2"}`); res.StatusCode != 200 {
		t.Errorf("B's PATCH of its own: %d %s", res.StatusCode, body)
	}
	if res, body := s.do(t, b, "DELETE", pfxItem, nil, ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("B's DELETE of its own: %d %s", res.StatusCode, body)
	}
	if got := s.rowsOf(t, pfxSet, tenantA); !reflect.DeepEqual(got, aRows) {
		t.Errorf("tenant A's certificates changed:\nbefore %+v\nafter  %+v", aRows, got)
	}
	if got := s.rowsOf(t, pfxSet, tenantB); len(got) != 0 {
		t.Errorf("tenant B still holds %d certificates", len(got))
	}
	// A reads its own through every form.
	for _, path := range forms(quoteKey) {
		if res, body := s.do(t, a, "GET", path, nil, ""); res.StatusCode != 200 || !bytes.Contains(body, []byte(`"keyName":null`)) {
			t.Errorf("A's GET %s: %d %s", path, res.StatusCode, body)
		}
	}
}
