package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// userPfxCertificates over HTTP (issue 9 item 2). The cases run on the fake store here and on PostgreSQL in
// TestIntegrationUserPfx, against the same goldens.

const (
	// The docs' example entity (testdata/userpfx-request.json, -response.json).
	docsUPN        = "User Principal Name value"
	docsThumbprint = "Thumbprint value"
	// A certificate as Intune's PFX import module uploads it: the thumbprint in hex, as sent.
	aliceUPN        = "Alice.Wilber@contoso.example"
	aliceThumbprint = "0FFFF8962FFFFDEA9FFFF8E83FFFF1D83FFFF6AE"
	// A key with a quote, a space and a non-ASCII letter, which the URL forms must carry.
	quoteUPN        = "o'neil@contoso.example"
	quoteThumbprint = "Tp'1 É"
	// pinnedNowText is pinnedNow as a server-set time shows it.
	pinnedNowText = "2026-01-02T03:04:05.9876543Z"
)

var (
	docsKey  = odata.UserPfxKey(docsUPN, docsThumbprint)
	aliceKey = odata.UserPfxKey(aliceUPN, aliceThumbprint)
	quoteKey = odata.UserPfxKey(quoteUPN, quoteThumbprint)
	docsItem = pfxCollection + "/" + url.PathEscape(docsKey)
	pfxItem  = pfxCollection + "/" + aliceKey
)

// pfxEntity reads one userPFXCertificate as `graphd import` does (server-set times as given).
func pfxEntity(tb testing.TB, obj string) odata.Entity {
	tb.Helper()
	set, err := odata.ParseImport(odata.Graph(), []byte(`{"userPfxCertificates":[`+obj+`]}`), odata.FromTime(pinnedNow))
	if err != nil {
		tb.Fatalf("pfxEntity: %v", err)
	}
	return set.Entities[pfxSet.Index][0]
}

func aliceRow(tb testing.TB) odata.Entity {
	return pfxEntity(tb, `{"thumbprint":"`+aliceThumbprint+`","intendedPurpose":"smimeSigning","userPrincipalName":"`+aliceUPN+`",
		"startDateTime":"2024-01-01T00:00:00Z","expirationDateTime":"2025-01-01T00:00:00.1234567+05:30",
		"providerName":"Microsoft Software Key Storage Provider","keyName":"PFXEncryptionKey","paddingScheme":"oaepSha512",
		"encryptedPfxBlob":"MIIAAP8A/w==","encryptedPfxPassword":"cGFzc3dvcmQ=",
		"createdDateTime":"2024-02-03T04:05:06.7Z","lastModifiedDateTime":"2024-02-03T04:05:06.7Z"}`)
}

func quoteRow(tb testing.TB) odata.Entity {
	return pfxEntity(tb, `{"thumbprint":"`+quoteThumbprint+`","intendedPurpose":"vpn","userPrincipalName":"`+quoteUPN+`",
		"paddingScheme":"oaepSha256","createdDateTime":"2024-03-04T05:06:07-07:00","lastModifiedDateTime":"2024-03-04T05:06:07-07:00"}`)
}

// docsRow is the docs' example response as stored.
func docsRow(tb testing.TB) odata.Entity {
	tb.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(readTestdata(tb, "userpfx-response.json"), &obj); err != nil {
		tb.Fatal(err)
	}
	delete(obj, "id") // the docs' id is no key graphd derives; fixtures may leave it out
	b, _ := json.Marshal(obj)
	return pfxEntity(tb, string(b))
}

// docsRequest is the docs' example create and update body, byte for byte (CRLF line endings: Content-length 523).
func docsRequest(tb testing.TB) []byte {
	tb.Helper()
	b := readTestdata(tb, "userpfx-request.json")
	if len(b) != 523 {
		tb.Fatalf("testdata/userpfx-request.json has %d bytes, the docs' Content-length is 523", len(b))
	}
	return b
}

// checkDocsMembers checks the docs' example response against a body: every member the docs show, with a
// byte-identical value, except the server's id and times, which must be docsKey and the given texts.
func checkDocsMembers(tb testing.TB, body []byte, created, modified string) {
	tb.Helper()
	got := map[string]json.RawMessage{}
	for _, m := range members(tb, body) {
		if _, dup := got[m.name]; dup {
			tb.Errorf("member %q twice in %s", m.name, body)
		}
		got[m.name] = m.value
	}
	docs := members(tb, readTestdata(tb, "userpfx-response.json"))
	server := map[string]string{"id": docsKey, "createdDateTime": created, "lastModifiedDateTime": modified}
	for _, want := range docs {
		v, ok := got[want.name]
		if s, set := server[want.name]; set {
			want.value = json.RawMessage(`"` + s + `"`)
		}
		switch {
		case !ok:
			tb.Errorf("member %q of the docs' response is missing from %s", want.name, body)
		case !bytes.Equal(v, want.value):
			tb.Errorf("member %q = %s, want %s", want.name, v, want.value)
		}
	}
	for name := range got {
		if _, known := server[name]; !known && !strings.HasPrefix(name, "@odata.") && bytes.Count(readTestdata(tb, "userpfx-response.json"), []byte(`"`+name+`"`)) == 0 {
			tb.Errorf("member %q is neither the docs' nor control information", name)
		}
	}
}

func wantHeader(name, value string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if got := r.res.Header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

func all(checks ...func(t *testing.T, r result)) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		for _, c := range checks {
			c(t, r)
		}
	}
}

// wantRedacted checks that every entity of a read shows the secrets as Intune does: the blob as "AA==" and the
// password as "".
func wantRedacted(n int) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if got := bytes.Count(r.body, []byte(`"encryptedPfxBlob":"AA=="`)); got != n {
			t.Errorf("%d redacted blobs, want %d: %s", got, n, r.body)
		}
		if got := bytes.Count(r.body, []byte(`"encryptedPfxPassword":""`)); got != n {
			t.Errorf("%d redacted passwords, want %d: %s", got, n, r.body)
		}
	}
}

// wantIDs checks the ids of a collection page.
func wantIDs(ids ...string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var p collectionPage
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if got := p.ids(t); !reflect.DeepEqual(got, ids) && !(len(got) == 0 && len(ids) == 0) {
			t.Errorf("ids %q, want %q", got, ids)
		}
	}
}

// wantStored checks an entity as stored: a property's value, or ok=false for an entity that must be gone.
func wantStored(key, prop string, want odata.Value) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		e, ok := r.get(pfxSet, key)
		switch {
		case !ok && prop != "":
			t.Errorf("no entity %q", key)
		case ok && prop == "":
			t.Errorf("the entity %q is still there", key)
		case ok && !e.Get(prop).Equal(want, pfxSet.Type.MustProperty(prop).Type):
			t.Errorf("stored %s = %+v, want %+v", prop, e.Get(prop), want)
		}
	}
}

func wantGone(key string) func(t *testing.T, r result) { return wantStored(key, "", odata.Value{}) }

// filterQuery is a $filter query option, percent-encoded.
func filterQuery(expr string) string { return "$filter=" + qv(expr) }

// pfxCases are the userPfxCertificates rules, one request each. Each starts from a development tenant holding
// the seed's connector and aliceRow and quoteRow, plus the case's extra entities.
func pfxCases(tb testing.TB) []apiCase {
	docs := docsRequest(tb)
	withDocs := []odata.Entity{docsRow(tb)}
	quoteKeyQuoted := url.PathEscape(strings.ReplaceAll(quoteKey, "'", "''"))
	quotedItem := pfxCollection + "('" + aliceKey + "')"
	bareItem := pfxCollection + "(" + aliceKey + ")"
	hex32 := aliceKey[:32]
	location := publicURL + "/deviceManagement/userPfxCertificates('" + url.PathEscape(docsKey) + "')"
	create := func(name, body string, status int, code string, checks ...func(*testing.T, result)) apiCase {
		return apiCase{name: name, method: "POST", path: pfxCollection, header: jsonHdr(), body: []byte(body), status: status, code: code, check: all(checks...)}
	}
	patch := func(name, body string, status int, code string, checks ...func(*testing.T, result)) apiCase {
		return apiCase{name: name, method: "PATCH", path: pfxItem, header: jsonHdr(), body: []byte(body), status: status, code: code, check: all(checks...)}
	}
	list := func(name, query string, status int, code string, checks ...func(*testing.T, result)) apiCase {
		return apiCase{name: name, method: "GET", path: pfxCollection, query: query, status: status, code: code, check: all(checks...)}
	}
	minimal := `{"userPrincipalName":"new.user@contoso.example","thumbprint":"ABCDEF0123"}`
	newKey := odata.UserPfxKey("new.user@contoso.example", "ABCDEF0123")
	return []apiCase{
		// The docs' example create and update, byte for byte, with the server's id and times.
		{name: "PfxCreateDocs", method: "POST", path: pfxCollection, header: hdr("Content-type", "application/json"), body: docs, status: 201,
			check: all(func(t *testing.T, r result) { checkDocsMembers(t, r.body, pinnedNowText, pinnedNowText) }, wantHeader("Location", location),
				wantStored(docsKey, "encryptedPfxBlob", odata.Str("encryptedPfxBlob")))},
		{name: "PfxUpdateDocs", method: "PATCH", path: docsItem, header: hdr("Content-type", "application/json"), body: docs, status: 200, extra: withDocs,
			check: func(t *testing.T, r result) {
				checkDocsMembers(t, r.body, "2017-01-01T00:02:43.5775965-08:00", pinnedNowText)
			}},
		{name: "PfxGetDocs", method: "GET", path: docsItem, status: 200, extra: withDocs, check: wantRedacted(1)},

		// Create.
		{name: "PfxCreateAgainConflict", method: "POST", path: pfxCollection, header: jsonHdr(), body: docs, status: 409, code: odata.CodeConflict, extra: withDocs},
		create("PfxCreateAgainOtherCaseConflict", `{"userPrincipalName":"`+strings.ToUpper(aliceUPN)+`","thumbprint":"`+strings.ToLower(aliceThumbprint)+`"}`, 409, odata.CodeConflict),
		create("PfxCreateModuleBody", `{"thumbprint":"abcdef0123456789abcdef0123456789abcdef01","intendedPurpose":"SmimeEncryption","userPrincipalName":"bob@contoso.example",
			"startDateTime":"2024-05-01T00:00:00+02:00","expirationDateTime":"2025-05-01T00:00:00+02:00","providerName":"Microsoft Software Key Storage Provider",
			"keyName":"PFXEncryptionKey","paddingScheme":"OaepSha512","encryptedPfxBlob":"MIIK","encryptedPfxPassword":"c2VjcmV0",
			"createdDateTime":"2000-01-01T00:00:00Z","lastModifiedDateTime":"2000-01-01T00:00:00Z"}`, 201, "",
			wantContains(`"intendedPurpose":"smimeEncryption"`), wantContains(`"paddingScheme":"oaepSha512"`),
			wantContains(`"createdDateTime":"`+pinnedNowText+`","lastModifiedDateTime":"`+pinnedNowText+`"`),
			wantContains(`"encryptedPfxBlob":"MIIK","encryptedPfxPassword":"c2VjcmV0"`)),
		create("PfxCreateEnumUpper", `{"userPrincipalName":"u@x","thumbprint":"01","intendedPurpose":"VPN","paddingScheme":"OAEPSHA256"}`, 201, "",
			wantContains(`"intendedPurpose":"vpn"`), wantContains(`"paddingScheme":"oaepSha256"`)),
		create("PfxCreateEnumUnknown", `{"userPrincipalName":"u@x","thumbprint":"01","intendedPurpose":"email"}`, 400, modelValidation),
		create("PfxCreateEnumNumber", `{"userPrincipalName":"u@x","thumbprint":"01","paddingScheme":5}`, 400, modelValidation),
		create("PfxCreateEnumNull", `{"userPrincipalName":"u@x","thumbprint":"01","intendedPurpose":null}`, 400, modelValidation),
		create("PfxCreateDefaults", minimal, 201, "", wantBodyID(newKey), wantContains(`"thumbprint":"ABCDEF0123","intendedPurpose":"unassigned"`),
			wantContains(`"startDateTime":"0001-01-01T00:00:00Z","expirationDateTime":"0001-01-01T00:00:00Z","providerName":null,"keyName":null,"paddingScheme":"none","encryptedPfxBlob":null,"encryptedPfxPassword":null`),
			wantStored(newKey, "thumbprint", odata.Str("ABCDEF0123"))),
		create("PfxCreateClientIDIgnored", `{"id":"`+aliceKey+`","userPrincipalName":"new.user@contoso.example","thumbprint":"ABCDEF0123"}`, 201, "", wantBodyID(newKey)),
		create("PfxCreateStartAfterExpiration", `{"userPrincipalName":"u@x","thumbprint":"02","startDateTime":"2030-01-01T00:00:00Z","expirationDateTime":"2020-01-01T00:00:00Z"}`, 201, ""),
		create("PfxCreateNoThumbprint", `{"userPrincipalName":"u@x"}`, 400, modelValidation),
		create("PfxCreateNullThumbprint", `{"userPrincipalName":"u@x","thumbprint":null}`, 400, modelValidation),
		create("PfxCreateNoUPN", `{"thumbprint":"01"}`, 400, modelValidation),
		create("PfxCreateThumbprintMaxLength", `{"userPrincipalName":"u@x","thumbprint":"`+strings.Repeat("é", odata.MaxThumbprintLength)+`"}`, 201, ""),
		create("PfxCreateThumbprintTooLong", `{"userPrincipalName":"u@x","thumbprint":"`+strings.Repeat("a", odata.MaxThumbprintLength+1)+`"}`, 400, modelValidation),
		create("PfxCreateBinaryRoundTrip", `{"userPrincipalName":"u@x","thumbprint":"03","encryptedPfxBlob":"AP8AAYA/","encryptedPfxPassword":""}`, 201, "",
			wantContains(`"encryptedPfxBlob":"AP8AAYA/","encryptedPfxPassword":""`),
			wantStored(odata.UserPfxKey("u@x", "03"), "encryptedPfxBlob", odata.Str("\x00\xff\x00\x01\x80\x3f"))),
		create("PfxCreateBinaryEmpty", `{"userPrincipalName":"u@x","thumbprint":"04","encryptedPfxBlob":""}`, 201, "",
			wantStored(odata.UserPfxKey("u@x", "04"), "encryptedPfxBlob", odata.Str(""))),
		create("PfxCreateBinaryNotBase64", `{"userPrincipalName":"u@x","thumbprint":"01","encryptedPfxBlob":"not base64!"}`, 400, modelValidation),
		create("PfxCreateBinaryURLSafe", `{"userPrincipalName":"u@x","thumbprint":"01","encryptedPfxBlob":"-_8="}`, 400, modelValidation),
		create("PfxCreateBinaryUnpadded", `{"userPrincipalName":"u@x","thumbprint":"01","encryptedPfxBlob":"AP8"}`, 400, modelValidation),
		create("PfxCreateBinaryNumber", `{"userPrincipalName":"u@x","thumbprint":"01","encryptedPfxBlob":5}`, 400, modelValidation),
		create("PfxCreateWrongType", `{"@odata.type":"#microsoft.graph.certificateConnectorDetails","userPrincipalName":"u@x","thumbprint":"01"}`, 400, modelValidation),
		create("PfxCreateUnknownProperty", `{"userPrincipalName":"u@x","thumbprint":"01","connectorName":"x"}`, 400, modelValidation),
		create("PfxCreateQuoteKey", `{"userPrincipalName":"x@y","thumbprint":"it's"}`, 201, "",
			wantHeader("Location", publicURL+"/deviceManagement/userPfxCertificates('"+odata.UserPfxKey("x@y", "")+"it%27%27s')")),
		{name: "PfxCreateMinimal", method: "POST", path: pfxCollection, header: jsonHdr("Prefer", "return=minimal"), body: []byte(minimal), status: 204,
			check: all(wantHeader("OData-EntityId", publicURL+"/deviceManagement/userPfxCertificates('"+newKey+"')"), wantStored(newKey, "thumbprint", odata.Str("ABCDEF0123")))},

		// The three key forms, keys in any case, and keys no entity can have.
		{name: "PfxGetPath", method: "GET", path: pfxItem, status: 200, check: all(wantBodyID(aliceKey), wantRedacted(1))},
		{name: "PfxGetQuoted", method: "GET", path: quotedItem, status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetBare", method: "GET", path: bareItem, status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetUpperCaseKey", method: "GET", path: pfxCollection + "/" + strings.ToUpper(aliceKey), status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetQuotedUpperCaseKey", method: "GET", path: pfxCollection + "('" + strings.ToUpper(aliceKey) + "')", status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetQuotedPercentEncoded", method: "GET", path: pfxCollection + "('" + percentEncodeAll(aliceKey) + "')", status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetBarePercentEncoded", method: "GET", path: pfxCollection + "(" + percentEncodeAll(aliceKey) + ")", status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetCaseInsensitiveSegments", method: "GET", path: "/beta/DeviceManagement/UserPfxCertificates(" + aliceKey + ")", status: 200, check: wantSameAs("PfxGetPath")},
		{name: "PfxGetQuoteKeyQuoted", method: "GET", path: pfxCollection + "('" + quoteKeyQuoted + "')", status: 200, check: all(wantBodyID(quoteKey), wantRedacted(1))},
		{name: "PfxGetQuoteKeyPath", method: "GET", path: pfxCollection + "/" + url.PathEscape(quoteKey), status: 200, check: wantSameAs("PfxGetQuoteKeyQuoted")},
		{name: "PfxGetQuoteKeyQuotedUpper", method: "GET", path: pfxCollection + "('" + url.PathEscape(strings.ReplaceAll(strings.ToUpper(quoteKey), "'", "''")) + "')", status: 200,
			check: wantSameAs("PfxGetQuoteKeyQuoted")},
		{name: "PfxGetQuoteKeySingleQuote", method: "GET", path: pfxCollection + "('" + url.PathEscape(quoteKey) + "')", status: 404, code: notFound},
		{name: "PfxGetSelect", method: "GET", path: pfxItem, query: "$select=thumbprint,encryptedPfxBlob,encryptedPfxPassword", status: 200, check: wantRedacted(1)},
		{name: "PfxGetIfNoneMatch", method: "GET", path: pfxItem, header: hdr("If-None-Match", `W/"1"`), status: 304},
		{name: "PfxHead", method: "HEAD", path: bareItem, status: 200},
		{name: "PfxGetMissing", method: "GET", path: pfxCollection + "/" + hex32 + "-ffff", status: 404, code: notFound},
		{name: "PfxGetNotAKey", method: "GET", path: pfxCollection + "/abc", status: 404, code: notFound},
		{name: "PfxGetGUIDKey", method: "GET", path: pfxCollection + "/" + seedID, status: 404, code: notFound},
		{name: "PfxGetShortHex", method: "GET", path: pfxCollection + "/" + hex32[:31] + "-0ffff", status: 404, code: notFound},
		{name: "PfxGetNoHyphen", method: "GET", path: pfxCollection + "/" + hex32 + "0ffff", status: 404, code: notFound},
		{name: "PfxGetNotHex", method: "GET", path: pfxCollection + "/" + strings.Repeat("g", 32) + "-0ffff", status: 404, code: notFound},
		{name: "PfxGetEmptyThumbprint", method: "GET", path: pfxCollection + "('" + hex32 + "-')", status: 404, code: notFound},
		{name: "PfxGetThumbprintTooLong", method: "GET", path: pfxCollection + "(" + hex32 + "-" + strings.Repeat("a", odata.MaxThumbprintLength+1) + ")", status: 404, code: notFound},
		{name: "PfxGetEmptyParens", method: "GET", path: pfxCollection + "('')", status: 404, code: notFound},

		// Lists: redacted, filtered as the module does, enums by name or qualified literal, never by a secret.
		list("PfxList", "", 200, "", wantRedacted(2), wantIDs(aliceKey, quoteKey)),
		list("PfxListCount", "$count=true&$select=id", 200, "", wantContains(`"@odata.count":2,`)),
		list("PfxListModuleLookup", filterQuery("tolower(userPrincipalName) eq '"+strings.ToLower(aliceUPN)+"' and tolower(thumbprint) eq '"+strings.ToLower(aliceThumbprint)+"'"),
			200, "", wantIDs(aliceKey), wantRedacted(1)),
		list("PfxListModuleLookupUPN", filterQuery("tolower(userPrincipalName) eq '"+strings.ReplaceAll(strings.ToLower(quoteUPN), "'", "''")+"'"), 200, "", wantIDs(quoteKey)),
		list("PfxListModuleLookupNoMatch", filterQuery("tolower(userPrincipalName) eq '"+aliceUPN+"'"), 200, "", wantIDs()),
		list("PfxListEnumString", filterQuery("intendedPurpose eq 'smimeSigning'"), 200, "", wantIDs(aliceKey)),
		list("PfxListEnumStringCase", filterQuery("paddingScheme eq 'OAEPSHA512'"), 200, "", wantIDs(aliceKey)),
		list("PfxListEnumQualified", filterQuery("intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'smimeSigning'"), 200, "", wantIDs(aliceKey)),
		list("PfxListEnumQualifiedNe", filterQuery("microsoft.graph.userPfxPaddingScheme'oaepSha512' ne paddingScheme"), 200, "", wantIDs(quoteKey)),
		list("PfxListEnumIn", filterQuery("intendedPurpose in ('vpn', microsoft.graph.userPfxIntendedPurpose'wifi')"), 200, "", wantIDs(quoteKey)),
		list("PfxListEnumUnknownMember", filterQuery("intendedPurpose eq 'email'"), 400, badRequest),
		list("PfxListEnumOtherType", filterQuery("intendedPurpose eq microsoft.graph.userPfxPaddingScheme'none'"), 400, badRequest),
		list("PfxListEnumOrderByValue", "$orderby=intendedPurpose%20desc&$select=intendedPurpose", 200, "", wantIDs(quoteKey, aliceKey)),
		list("PfxListOrderByThumbprint", "$orderby=thumbprint", 200, "", wantIDs(aliceKey, quoteKey)),
		list("PfxListFilterKey", filterQuery("id eq '"+aliceKey+"'"), 200, "", wantIDs(aliceKey)),
		list("PfxListFilterTimes", filterQuery("expirationDateTime ge 2024-12-31 and createdDateTime lt now()"), 200, "", wantIDs(aliceKey)),
		list("PfxListFilterPassword", filterQuery("encryptedPfxPassword eq ''"), 400, badRequest),
		list("PfxListFilterPasswordFunction", filterQuery("length(encryptedPfxPassword) gt 0"), 400, badRequest),
		list("PfxListFilterBlob", filterQuery("encryptedPfxBlob eq null"), 400, badRequest),
		list("PfxListOrderByPassword", "$orderby=encryptedPfxPassword", 400, badRequest),
		list("PfxListOrderByBlob", "$orderby=encryptedPfxBlob", 400, badRequest),
		list("PfxListSelectSecrets", "$select=encryptedPfxBlob,encryptedPfxPassword", 200, "", wantRedacted(2)),
		list("PfxListTop", "$top=1", 200, "", wantIDs(aliceKey), wantContains(`"@odata.nextLink":"`+publicURL+`/deviceManagement/userPfxCertificates?$top=1&$skiptoken=`)),

		// Update: merge, secrets echoed, the key's parts immutable.
		patch("PfxPatch", `{"providerName":"Microsoft Platform Crypto Provider","intendedPurpose":"WIFI"}`, 200, "",
			wantContains(`"intendedPurpose":"wifi"`), wantContains(`"encryptedPfxBlob":"MIIAAP8A/w==","encryptedPfxPassword":"cGFzc3dvcmQ=","createdDateTime":"2024-02-03T04:05:06.7Z","lastModifiedDateTime":"`+pinnedNowText+`"`)),
		{name: "PfxPatchQuoted", method: "PATCH", path: quotedItem, header: jsonHdr(), body: []byte(`{"keyName":"k2"}`), status: 200, check: wantStored(aliceKey, "keyName", odata.Str("k2"))},
		{name: "PfxPatchBare", method: "PATCH", path: bareItem, header: jsonHdr(), body: []byte(`{"keyName":"k3"}`), status: 200, check: wantStored(aliceKey, "keyName", odata.Str("k3"))},
		{name: "PfxPatchQuoteKey", method: "PATCH", path: pfxCollection + "('" + quoteKeyQuoted + "')", header: jsonHdr(), body: []byte(`{"keyName":"k4"}`), status: 200,
			check: wantStored(quoteKey, "keyName", odata.Str("k4"))},
		patch("PfxPatchSecretsEchoed", `{"encryptedPfxBlob":"AQID","encryptedPfxPassword":"bmV3"}`, 200, "",
			wantContains(`"encryptedPfxBlob":"AQID","encryptedPfxPassword":"bmV3"`), wantStored(aliceKey, "encryptedPfxBlob", odata.Str("\x01\x02\x03"))),
		patch("PfxPatchBlobNull", `{"encryptedPfxBlob":null}`, 200, "", wantContains(`"encryptedPfxBlob":null`)),
		patch("PfxPatchThumbprintSame", `{"thumbprint":"`+aliceThumbprint+`","userPrincipalName":"`+aliceUPN+`","keyName":"k"}`, 200, ""),
		patch("PfxPatchThumbprintChanged", `{"thumbprint":"0FFFF8962FFFFDEA9FFFF8E83FFFF1D83FFFF6AF"}`, 400, modelValidation),
		patch("PfxPatchThumbprintOtherCase", `{"thumbprint":"`+strings.ToLower(aliceThumbprint)+`"}`, 400, modelValidation),
		patch("PfxPatchThumbprintNull", `{"thumbprint":null}`, 400, modelValidation),
		patch("PfxPatchUPNChanged", `{"userPrincipalName":"mallory@contoso.example","keyName":"k"}`, 400, modelValidation),
		patch("PfxPatchIDSame", `{"id":"`+aliceKey+`","keyName":"k"}`, 200, ""),
		patch("PfxPatchIDOtherCase", `{"id":"`+strings.ToUpper(aliceKey)+`","keyName":"k"}`, 200, ""),
		patch("PfxPatchIDDiffers", `{"id":"`+quoteKey+`"}`, 400, modelValidation),
		patch("PfxPatchServerSetIgnored", `{"createdDateTime":"2000-01-01T00:00:00Z","lastModifiedDateTime":"2000-01-01T00:00:00Z"}`, 200, "",
			wantContains(`"createdDateTime":"2024-02-03T04:05:06.7Z","lastModifiedDateTime":"2024-02-03T04:05:06.7Z"`)),
		patch("PfxPatchEnumNull", `{"paddingScheme":null}`, 400, modelValidation),
		patch("PfxPatchStartNull", `{"startDateTime":null}`, 400, modelValidation),
		{name: "PfxPatchIfMatchStale", method: "PATCH", path: pfxItem, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{"keyName":"k"}`), status: 412, code: odata.CodePreconditionFailed},
		{name: "PfxPatchImmutableBeforeIfMatch", method: "PATCH", path: pfxItem, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{"thumbprint":"x"}`), status: 400, code: modelValidation},
		{name: "PfxPatchMinimal", method: "PATCH", path: bareItem, header: jsonHdr("Prefer", "return=minimal"), body: []byte(`{"keyName":"k"}`), status: 204},
		{name: "PfxPatchMissing", method: "PATCH", path: pfxCollection + "/" + hex32 + "-ffff", header: jsonHdr(), body: []byte(`{"keyName":"k"}`), status: 404, code: notFound},
		{name: "PfxPatchNotAKey", method: "PATCH", path: pfxCollection + "(abc)", header: jsonHdr(), body: []byte(`{"keyName":"k"}`), status: 404, code: notFound},

		// Delete.
		{name: "PfxDeletePath", method: "DELETE", path: pfxItem, status: 204, check: wantGone(aliceKey)},
		{name: "PfxDeleteQuoted", method: "DELETE", path: quotedItem, status: 204, check: wantGone(aliceKey)},
		{name: "PfxDeleteBare", method: "DELETE", path: bareItem, status: 204, check: wantGone(aliceKey)},
		{name: "PfxDeleteUpperCaseKey", method: "DELETE", path: pfxCollection + "/" + strings.ToUpper(aliceKey), status: 204, check: wantGone(aliceKey)},
		{name: "PfxDeleteQuoteKey", method: "DELETE", path: pfxCollection + "('" + quoteKeyQuoted + "')", status: 204, check: wantGone(quoteKey)},
		{name: "PfxDeleteMissing", method: "DELETE", path: pfxCollection + "/" + hex32 + "-ffff", status: 404, code: notFound},
		{name: "PfxDeleteIfMatchStale", method: "DELETE", path: pfxItem, header: hdr("If-Match", `W/"9"`), status: 412, code: odata.CodePreconditionFailed},

		// Verbs and segments.
		{name: "PfxPutItem", method: "PUT", path: pfxItem, header: jsonHdr(), body: []byte(`{}`), status: 405, code: "MethodNotAllowed"},
		{name: "PfxPostItem", method: "POST", path: bareItem, header: jsonHdr(), body: []byte(`{}`), status: 405, code: "MethodNotAllowed"},
		{name: "PfxPatchCollection", method: "PATCH", path: pfxCollection, header: jsonHdr(), body: []byte(`{}`), status: 405, code: "MethodNotAllowed"},
		{name: "PfxDeleteCollection", method: "DELETE", path: pfxCollection, status: 405, code: "MethodNotAllowed"},
		{name: "PfxPostCount", method: "POST", path: pfxCollection + "/$count", header: jsonHdr(), body: []byte(`{}`), status: 405, code: "MethodNotAllowed"},
		{name: "PfxCount", method: "GET", path: pfxCollection + "/$count", query: filterQuery("intendedPurpose eq 'vpn'"), status: 200, check: wantBody("1")},
		{name: "PfxNoActions", method: "POST", path: pfxItem + "/getHealthMetrics", header: jsonHdr(), body: []byte(`{"metricNames":["m"]}`), status: 400, code: badRequest},
		{name: "PfxUnknownSegmentAfterKey", method: "GET", path: quotedItem + "/thumbprint", status: 400, code: badRequest},
	}
}

// percentEncodeAll percent-encodes every byte, as a client may.
func percentEncodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[s[i]>>4])+string("0123456789abcdef"[s[i]&15])))
	}
	return b.String()
}

// withPfxRows gives a case the fixture's certificates besides its own extra entities.
func withPfxRows(tb testing.TB, tc apiCase) apiCase {
	tc.extra = append([]odata.Entity{aliceRow(tb), quoteRow(tb)}, tc.extra...)
	return tc
}

func TestUserPfxHandlers(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range pfxCases(t) {
		if seen[tc.name] {
			t.Fatalf("two cases named %s", tc.name)
		}
		seen[tc.name] = true
		tc = withPfxRows(t, tc)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkResult(t, serve(t, tc))
		})
	}
}

// TestUserPfxCreateThenGet checks that what a create echoes is what a GET reads, the secrets redacted.
func TestUserPfxCreateThenGet(t *testing.T) {
	t.Parallel()
	fake := newFakeStore()
	h := httpapi.NewServer(testConfig(nil), fake)
	res, created := doHandler(t, h, "POST", pfxCollection, jsonHdr(), docsRequest(t))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", res.StatusCode, created)
	}
	res, got := doHandler(t, h, "GET", strings.TrimPrefix(res.Header.Get("Location"), publicURL[:len(publicURL)-len("/beta")]), nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET Location: %d %s", res.StatusCode, got)
	}
	want := bytes.Replace(created, []byte(`"ZW5jcnlwdGVkUGZ4QmxvYg=="`), []byte(`"AA=="`), 1)
	want = bytes.Replace(want, []byte(`"Encrypted Pfx Password value"`), []byte(`""`), 1)
	if !bytes.Equal(got, want) {
		t.Errorf("GET after POST:\n%s\nwant the POST's body, redacted:\n%s", got, want)
	}
}
