package httpapi_test

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// apiCase is one request and what must come back. Its golden file testdata/<name>.golden holds the response.
type apiCase struct {
	name    string
	method  string
	path    string
	query   string // the raw query, without '?'
	header  http.Header
	body    []byte
	chunked bool // send the body without Content-Length
	status  int
	code    string // the envelope's code, for errors
	// fakeOnly marks the cases that need the fake store (its failure modes, its fixed new id); the others also
	// run against PostgreSQL in integration_test.go, with the same goldens.
	fakeOnly bool
	// extra are entities the development tenant holds besides the seed's row.
	extra []odata.Entity
	setup func(*fakeStore)
	check func(t *testing.T, r result)
}

// result is a response with what a case's check may want to look at.
type result struct {
	res  *http.Response
	body []byte
	fake *fakeStore // nil against PostgreSQL
	log  *logBuffer
	// row is the seed's row after the request, or ok=false when it is gone; get is any entity of the
	// development tenant.
	row   func() (odata.Entity, bool)
	get   func(set *odata.EntitySet, key string) (odata.Entity, bool)
	wants apiCase
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func jsonHdr(kv ...string) http.Header {
	return hdr(append([]string{"Content-Type", "application/json"}, kv...)...)
}

// patchSeed is a PATCH of the seed's row with a JSON body.
func patchSeed(name, body string, status int, code string) apiCase {
	return apiCase{name: name, method: http.MethodPatch, path: seedItem, header: jsonHdr(), body: []byte(body), status: status, code: code}
}

const (
	badRequest      = odata.CodeBadRequest
	modelValidation = odata.CodeModelValidationFailure
	notFound        = odata.CodeResourceNotFound
)

// deepJSON nests n arrays.
func deepJSON(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// padTo pads a JSON object with spaces before its closing brace to exactly n bytes.
func padTo(tb testing.TB, obj string, n int) []byte {
	tb.Helper()
	obj = strings.TrimSuffix(obj, "}")
	return []byte(obj + strings.Repeat(" ", n-len(obj)-1) + "}")
}

func corruptGzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	z := gzipped(tb, b)
	// Flip bits in the deflate data, past the 10-byte header.
	for i := 12; i < len(z)-8; i += 3 {
		z[i] ^= 0x5a
	}
	return z
}

func wantBodyID(id string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		for _, m := range members(t, r.body) {
			if m.name == "id" {
				if string(m.value) != `"`+id+`"` {
					t.Errorf("id = %s, want %q", m.value, id)
				}
				return
			}
		}
		t.Errorf("no id in %s", r.body)
	}
}

func wantLogged(substrs ...string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		logs := r.log.String()
		for _, s := range substrs {
			if !strings.Contains(logs, s) {
				t.Errorf("the log lacks %q:\n%s", s, logs)
			}
		}
	}
}

// apiCases is issue 2 item 4 and the contract's §0.4-§0.8, one request each. Every case starts from a store
// that holds only seedRow in the development tenant.
func apiCases(tb testing.TB) []apiCase {
	upperSeed := strings.ToUpper(seedID)
	parenItem := collection + "('" + seedID + "')"
	seed := seedRequest(tb)
	limit := httpapi.DefaultMaxBodyBytes
	overLimit := padTo(tb, `{"connectorName":"x"}`, limit+1)
	unavailable := func(f *fakeStore) { f.fail = &unavailableError{cause: io.ErrUnexpectedEOF} }
	panics := func(f *fakeStore) { f.panicWith = "fake store exploded" }

	cases := []apiCase{
		// The seed and PATCH that succeeds.
		{name: "PatchSeed", method: "PATCH", path: seedItem, header: jsonHdr(), body: seed, status: 200,
			check: func(t *testing.T, r result) {
				checkSeedMembers(t, r.body)
				row, _ := r.row()
				if got := row.Get("enrollmentDateTime").Time.String(); got != "2016-12-31T23:57:59.3726057-08:00" {
					t.Errorf("stored enrollmentDateTime = %s", got)
				}
			}},
		{name: "PatchSeedGzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, seed), status: 200,
			check: func(t *testing.T, r result) { checkSeedMembers(t, r.body) }},
		{name: "PatchSeedChunked", method: "PATCH", path: seedItem, header: jsonHdr(), body: seed, chunked: true, status: 200,
			check: func(t *testing.T, r result) { checkSeedMembers(t, r.body) }},
		{name: "PatchSeedGzipChunked", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, seed), chunked: true, status: 200,
			check: func(t *testing.T, r result) { checkSeedMembers(t, r.body) }},
		patchSeed("PatchEmptyObject", `{}`, 200, ""),
		{name: "PatchUpperCaseKey", method: "PATCH", path: collection + "/" + upperSeed, header: jsonHdr(), body: []byte(`{"connectorName":"upper"}`), status: 200, check: wantBodyID(seedID)},
		{name: "PatchParenKey", method: "PATCH", path: parenItem, header: jsonHdr(), body: []byte(`{"connectorName":"paren"}`), status: 200, check: wantBodyID(seedID)},
		{name: "PatchParenUpperCaseKey", method: "PATCH", path: collection + "('" + upperSeed + "')", header: jsonHdr(), body: []byte(`{"connectorName":"paren"}`), status: 200, check: wantBodyID(seedID)},
		{name: "PatchTrailingSlash", method: "PATCH", path: seedItem + "/", header: jsonHdr(), body: []byte(`{"connectorName":"slash"}`), status: 200},
		patchSeed("PatchNullStrings", `{"connectorName":null,"machineName":null,"connectorVersion":null}`, 200, ""),
		patchSeed("PatchTypeWithoutHash", `{"@odata.type":"microsoft.graph.certificateConnectorDetails","connectorName":"x"}`, 200, ""),
		patchSeed("PatchIDSameAsURL", `{"id":"`+seedID+`","connectorName":"x"}`, 200, ""),
		patchSeed("PatchIDUpperCase", `{"id":"`+upperSeed+`","connectorName":"x"}`, 200, ""),
		patchSeed("PatchODataContextIgnored", `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity","@odata.etag":"W/\"9\"","connectorName":"x"}`, 200, ""),
		patchSeed("PatchUnknownAnnotationsIgnored", `{"@x.y":{"deep":[1,{"a":null}]},"connectorName@odata.type":"#String","unknownProperty@odata.type":1,"@odata.nextLink":"x","connectorName":"x"}`, 200, ""),
		patchSeed("PatchEscapes", `{"connectorName":"tab\there \"quoted\" \u00e9\u2028 \ud83d\ude00 <&>","machineName":"\u00e9t\u00e9"}`, 200, ""),
		patchSeed("PatchDateTimeForms", `{"enrollmentDateTime":"2016-12-31T23:57Z","lastCheckinDateTime":"2017-01-01t00:02:46.100+14:00"}`, 200, ""),
		patchSeed("PatchDateTimeExtremes", `{"enrollmentDateTime":"0001-01-01T00:00:00Z","lastCheckinDateTime":"9999-12-31T23:59:59.9999999Z"}`, 200, ""),
		{name: "PatchCharsetUTF8", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/json; charset=UTF-8"), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchODataContentType", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchAtSizeLimit", method: "PATCH", path: seedItem, header: jsonHdr(), body: padTo(tb, `{"connectorName":"x"}`, limit), status: 200},
		{name: "PatchPreferMinimal", method: "PATCH", path: seedItem, header: jsonHdr("Prefer", "return=minimal"), body: []byte(`{"connectorName":"x"}`), status: 204},
		{name: "PatchPreferMinimalAmongOthers", method: "PATCH", path: seedItem, header: jsonHdr("Prefer", `odata.maxpagesize=5, return = minimal`), body: []byte(`{"connectorName":"x"}`), status: 204},
		{name: "PatchPreferRepresentation", method: "PATCH", path: seedItem, header: jsonHdr("Prefer", "return=representation"), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchIfMatchCurrent", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"1"`), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchIfMatchStrongForm", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `"1"`), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchIfMatchStar", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", "*"), body: []byte(`{"connectorName":"x"}`), status: 200},
		{name: "PatchIfMatchList", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"7", W/"1"`), body: []byte(`{"connectorName":"x"}`), status: 200},

		// GET, HEAD, DELETE that succeed.
		{name: "GetSeed", method: "GET", path: seedItem, status: 200},
		{name: "GetParenKey", method: "GET", path: parenItem, status: 200},
		{name: "GetUpperCaseKey", method: "GET", path: collection + "/" + upperSeed, status: 200, check: wantBodyID(seedID)},
		{name: "GetTrailingSlash", method: "GET", path: seedItem + "/", status: 200},
		{name: "GetAcceptJSON", method: "GET", path: seedItem, header: hdr("Accept", "application/json"), status: 200},
		{name: "GetAcceptAny", method: "GET", path: seedItem, header: hdr("Accept", "text/html, */*;q=0.1"), status: 200},
		{name: "GetAcceptFull", method: "GET", path: seedItem, header: hdr("Accept", "application/json;odata.metadata=full"), status: 200},
		{name: "GetAcceptNone", method: "GET", path: seedItem, header: hdr("Accept", "application/json;odata.metadata=none"), status: 200},
		{name: "GetAcceptEmpty", method: "GET", path: seedItem, header: hdr("Accept", ""), status: 200},
		{name: "GetAcceptIEEE754", method: "GET", path: seedItem, header: hdr("Accept", "application/json;IEEE754Compatible=true"), status: 200},
		{name: "GetIfNoneMatchCurrent", method: "GET", path: seedItem, header: hdr("If-None-Match", `W/"1"`), status: 304},
		{name: "GetIfNoneMatchStale", method: "GET", path: seedItem, header: hdr("If-None-Match", `W/"2"`), status: 200},
		{name: "GetClientRequestID", method: "GET", path: seedItem, header: hdr("client-request-id", "3c9fcbf2-my-client"), status: 200},
		{name: "GetClientRequestIDTooLong", method: "GET", path: seedItem, header: hdr("client-request-id", strings.Repeat("x", 129)), status: 200},
		{name: "HeadSeed", method: "HEAD", path: seedItem, status: 200},
		{name: "DeleteSeed", method: "DELETE", path: seedItem, status: 204,
			check: func(t *testing.T, r result) {
				if _, ok := r.row(); ok {
					t.Error("the row is still there")
				}
			}},
		{name: "DeleteParenUpperCaseKey", method: "DELETE", path: collection + "('" + upperSeed + "')", status: 204},
		{name: "DeleteIfMatchCurrent", method: "DELETE", path: seedItem, header: hdr("If-Match", `W/"1"`), status: 204},

		// POST.
		{name: "PostCreate", method: "POST", path: collection, header: jsonHdr(), body: seed, status: 201, fakeOnly: true, check: wantBodyID(createdID)},
		{name: "PostCreateDefaults", method: "POST", path: collection, header: jsonHdr(), body: []byte(`{}`), status: 201, fakeOnly: true},
		{name: "PostCreateClientIDIgnored", method: "POST", path: collection, header: jsonHdr(), body: []byte(`{"id":"` + missingID + `"}`), status: 201, fakeOnly: true, check: wantBodyID(createdID)},
		{name: "PostPreferMinimal", method: "POST", path: collection, header: jsonHdr("Prefer", "return=minimal"), body: []byte(`{"connectorName":"x"}`), status: 204, fakeOnly: true},
		{name: "PostTrailingSlash", method: "POST", path: collection + "/", header: jsonHdr(), body: []byte(`{"connectorName":"x"}`), status: 201, fakeOnly: true},
		{name: "PostGzip", method: "POST", path: collection, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, []byte(`{"connectorName":"x"}`)), status: 201, fakeOnly: true},

		// Malformed JSON and bodies that are not an object.
		patchSeed("PatchMalformedJSON", `{"connectorName":"x",`, 400, badRequest),
		patchSeed("PatchMalformedSingleQuotes", `{'connectorName':'x'}`, 400, badRequest),
		patchSeed("PatchTruncatedString", `{"connectorName":"x`, 400, badRequest),
		patchSeed("PatchTrailingData", `{} {}`, 400, badRequest),
		patchSeed("PatchTrailingComma", `{"connectorName":"x",}`, 400, badRequest),
		patchSeed("PatchEmptyBody", ``, 400, badRequest),
		patchSeed("PatchWhitespaceBody", " \r\n\t", 400, badRequest),
		patchSeed("PatchBodyArray", `[{"connectorName":"x"}]`, 400, badRequest),
		patchSeed("PatchBodyString", `"x"`, 400, badRequest),
		patchSeed("PatchBodyNull", `null`, 400, badRequest),
		patchSeed("PatchBodyNumber", `42`, 400, badRequest),
		patchSeed("PatchDeepNesting", `{"@x.y":`+deepJSON(200)+`}`, 400, badRequest),
		patchSeed("PatchValidationThenMalformed", `{"foo":1,"connectorName":`, 400, badRequest),

		// Wrong JSON types.
		patchSeed("PatchWrongTypeNumber", `{"connectorName":5}`, 400, modelValidation),
		patchSeed("PatchWrongTypeObject", `{"machineName":{"a":1}}`, 400, modelValidation),
		patchSeed("PatchWrongTypeBool", `{"connectorVersion":true}`, 400, modelValidation),
		patchSeed("PatchWrongTypeArray", `{"connectorVersion":["1.0"]}`, 400, modelValidation),
		patchSeed("PatchDateTimeNumber", `{"enrollmentDateTime":1483257479}`, 400, modelValidation),

		// Bad Edm.DateTimeOffset.
		patchSeed("PatchDateTimeNoOffset", `{"enrollmentDateTime":"2016-12-31T23:57:59.3726057"}`, 400, modelValidation),
		patchSeed("PatchDateTime8Digits", `{"enrollmentDateTime":"2016-12-31T23:57:59.37260571-08:00"}`, 400, modelValidation),
		patchSeed("PatchDateTimeYear0", `{"enrollmentDateTime":"0000-12-31T23:59:59Z"}`, 400, modelValidation),
		patchSeed("PatchDateTimeBeforeMin", `{"enrollmentDateTime":"0001-01-01T00:00:00+01:00"}`, 400, modelValidation),
		patchSeed("PatchDateTimeAfterMax", `{"lastCheckinDateTime":"9999-12-31T23:59:59.9999999-00:01"}`, 400, modelValidation),
		patchSeed("PatchDateTimeOffset1500", `{"enrollmentDateTime":"2016-12-31T23:57:59+15:00"}`, 400, modelValidation),
		patchSeed("PatchDateTimeMonth13", `{"enrollmentDateTime":"2016-13-01T00:00:00Z"}`, 400, modelValidation),
		patchSeed("PatchDateTimeFeb30", `{"enrollmentDateTime":"2016-02-30T00:00:00Z"}`, 400, modelValidation),
		patchSeed("PatchDateTimeEmpty", `{"lastCheckinDateTime":""}`, 400, modelValidation),
		patchSeed("PatchDateTimeDateOnly", `{"lastCheckinDateTime":"2016-12-31"}`, 400, modelValidation),

		// Values the model refuses.
		patchSeed("PatchNullEnrollmentDateTime", `{"enrollmentDateTime":null}`, 400, modelValidation),
		patchSeed("PatchNullLastCheckinDateTime", `{"connectorName":"x","lastCheckinDateTime":null}`, 400, modelValidation),
		patchSeed("PatchUnknownProperty", `{"connectorName":"x","foo":1}`, 400, modelValidation),
		patchSeed("PatchPropertyWrongCase", `{"ConnectorName":"x"}`, 400, modelValidation),
		patchSeed("PatchDuplicateProperty", `{"connectorName":"a","connectorName":"b"}`, 400, modelValidation),
		patchSeed("PatchDuplicateEscapedProperty", `{"connectorName":"a","connector\u004eame":"b"}`, 400, modelValidation),
		patchSeed("PatchWrongODataType", `{"@odata.type":"#microsoft.graph.user","connectorName":"x"}`, 400, modelValidation),
		patchSeed("PatchODataTypeNotString", `{"@odata.type":1}`, 400, modelValidation),
		patchSeed("PatchIDDiffers", `{"id":"`+missingID+`","connectorName":"x"}`, 400, modelValidation),
		patchSeed("PatchIDNotGUID", `{"id":"abc"}`, 400, modelValidation),
		patchSeed("PatchIDNull", `{"id":null}`, 400, modelValidation),
		patchSeed("PatchNULInString", `{"connectorName":"a\u0000b"}`, 400, modelValidation),
		patchSeed("PatchInvalidUTF8", "{\"connectorName\":\"a\xffb\"}", 400, badRequest),
		patchSeed("PatchInvalidUTF8InName", "{\"conn\xc3ectorName\":\"x\"}", 400, badRequest),
		patchSeed("PatchOverlongUTF8", "{\"connectorName\":\"\xc0\xaf\"}", 400, badRequest),
		patchSeed("PatchLoneSurrogate", `{"connectorName":"\ud800"}`, 400, badRequest),
		patchSeed("PatchRawControlCharacter", "{\"connectorName\":\"a\x01b\"}", 400, badRequest),

		// Headers and size.
		{name: "PatchNoContentType", method: "PATCH", path: seedItem, body: seed, status: 415, code: "UnsupportedMediaType"},
		{name: "PatchTextPlain", method: "PATCH", path: seedItem, header: hdr("Content-Type", "text/plain"), body: seed, status: 415, code: "UnsupportedMediaType"},
		{name: "PatchCharsetLatin1", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/json; charset=latin1"), body: seed, status: 415, code: "UnsupportedMediaType"},
		{name: "PatchMalformedContentType", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/json; charset"), body: seed, status: 415, code: "UnsupportedMediaType"},
		{name: "PatchTooLargeContentLength", method: "PATCH", path: seedItem, header: jsonHdr(), body: overLimit, status: 413, code: "RequestEntityTooLarge"},
		{name: "PatchTooLargeChunked", method: "PATCH", path: seedItem, header: jsonHdr(), body: overLimit, chunked: true, status: 413, code: "RequestEntityTooLarge"},
		{name: "PatchGzipBomb", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipBomb(tb), status: 413, code: "RequestEntityTooLarge"},
		{name: "PatchGzipBombChunked", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipBomb(tb), chunked: true, status: 413, code: "RequestEntityTooLarge"},
		{name: "PatchGzipOverLimit", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, overLimit), status: 413, code: "RequestEntityTooLarge"},
		{name: "PatchCorruptGzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: corruptGzip(tb, seed), status: 400, code: badRequest},
		{name: "PatchTruncatedGzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, seed)[:40], status: 400, code: badRequest},
		{name: "PatchNotGzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: seed, status: 400, code: badRequest},
		{name: "PatchGzipMalformedJSON", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(tb, []byte(`{"connectorName":`)), status: 400, code: badRequest},
		{name: "PatchContentEncodingBrotli", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "br"), body: seed, status: 415, code: "UnsupportedMediaType"},
		{name: "PatchAcceptXML", method: "PATCH", path: seedItem, header: jsonHdr("Accept", "application/xml"), body: seed, status: 406, code: "NotAcceptable"},
		{name: "GetAcceptXML", method: "GET", path: seedItem, header: hdr("Accept", "application/xml"), status: 406, code: "NotAcceptable"},
		{name: "GetAcceptJSONQZero", method: "GET", path: seedItem, header: hdr("Accept", "application/json;q=0, text/plain"), status: 406, code: "NotAcceptable"},

		// Existence and preconditions.
		{name: "PatchUnknownID", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr(), body: seed, status: 404, code: notFound},
		{name: "PatchNonGUIDKey", method: "PATCH", path: collection + "/not-a-guid", header: jsonHdr(), body: seed, status: 404, code: notFound},
		{name: "PatchNonGUIDParenKey", method: "PATCH", path: collection + "('42')", header: jsonHdr(), body: seed, status: 404, code: notFound},
		{name: "PatchBracedGUIDKey", method: "PATCH", path: collection + "/{" + seedID + "}", header: jsonHdr(), body: seed, status: 404, code: notFound},
		{name: "GetUnknownID", method: "GET", path: collection + "/" + missingID, status: 404, code: notFound},
		{name: "GetUnknownIDClientRequestID", method: "GET", path: collection + "/" + missingID, header: hdr("client-request-id", "my-404-request"), status: 404, code: notFound},
		{name: "GetNonGUIDKey", method: "GET", path: collection + "/104d7361", status: 404, code: notFound},
		{name: "GetNonGUIDParenKey", method: "GET", path: collection + "('x')", status: 404, code: notFound},
		{name: "GetCountSegment", method: "GET", path: collection + "/$count", status: 200},
		{name: "HeadUnknownID", method: "HEAD", path: collection + "/" + missingID, status: 404, code: notFound},
		{name: "DeleteUnknownID", method: "DELETE", path: collection + "/" + missingID, status: 404, code: notFound},
		{name: "DeleteNonGUIDKey", method: "DELETE", path: collection + "/not-a-guid", status: 404, code: notFound},
		{name: "PatchIfMatchStale", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{"connectorName":"x"}`), status: 412, code: odata.CodePreconditionFailed},
		{name: "PatchIfMatchEmpty", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", ""), body: []byte(`{"connectorName":"x"}`), status: 412, code: odata.CodePreconditionFailed},
		{name: "PatchIfMatchGarbage", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `abc`), body: []byte(`{"connectorName":"x"}`), status: 412, code: odata.CodePreconditionFailed},
		{name: "PatchEmptyObjectIfMatchStale", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{}`), status: 412, code: odata.CodePreconditionFailed},
		{name: "DeleteIfMatchStale", method: "DELETE", path: seedItem, header: hdr("If-Match", `W/"2"`), status: 412, code: odata.CodePreconditionFailed},

		// Verbs and paths.
		{name: "PutItem", method: "PUT", path: seedItem, header: jsonHdr(), body: seed, status: 405, code: "MethodNotAllowed"},
		{name: "PutItemClientRequestID", method: "PUT", path: seedItem, header: jsonHdr("client-request-id", "my-405-request"), body: seed, status: 405, code: "MethodNotAllowed"},
		{name: "PostItem", method: "POST", path: seedItem, header: jsonHdr(), body: seed, status: 405, code: "MethodNotAllowed"},
		{name: "OptionsItem", method: "OPTIONS", path: seedItem, status: 405, code: "MethodNotAllowed"},
		{name: "LowerCaseMethod", method: "patch", path: seedItem, header: jsonHdr(), body: seed, status: 405, code: "MethodNotAllowed"},
		{name: "GetCollection", method: "GET", path: collection, status: 200},
		{name: "GetCollectionTrailingSlash", method: "GET", path: collection + "/", status: 200},
		{name: "PatchCollection", method: "PATCH", path: collection, header: jsonHdr(), body: seed, status: 405, code: "MethodNotAllowed"},
		{name: "DeleteCollection", method: "DELETE", path: collection, status: 405, code: "MethodNotAllowed"},
		{name: "UnknownSegmentBeta", method: "GET", path: "/beta/foo", status: 400, code: badRequest},
		{name: "UnknownSegmentAfterKey", method: "GET", path: seedItem + "/foo", status: 400, code: badRequest},
		{name: "UnknownSegmentAfterParenKey", method: "PATCH", path: collection + "('" + seedID + "')/foo", header: jsonHdr(), body: seed, status: 400, code: badRequest},
		{name: "UnknownSegmentV1", method: "PATCH", path: "/v1.0/deviceManagement/certificateConnectorDetails/" + seedID, header: jsonHdr(), body: seed, status: 400, code: badRequest},
		{name: "UnknownSegmentDeviceManagement", method: "GET", path: "/beta/deviceManagement/certificateConnectors", status: 400, code: badRequest},
		{name: "UnknownSegmentClientRequestID", method: "GET", path: "/beta/foo", header: hdr("client-request-id", "my-400-request"), status: 400, code: badRequest},
		{name: "UnknownSegmentServiceRoot", method: "GET", path: "/beta", status: 200},
		{name: "ServiceRootSlash", method: "GET", path: "/beta/", status: 200},
		{name: "Metadata", method: "GET", path: "/beta/$metadata", status: 200},
		{name: "UnknownSegmentRoot", method: "GET", path: "/", status: 400, code: badRequest},
		{name: "DoubleSlash", method: "PATCH", path: "/beta/deviceManagement//certificateConnectorDetails/" + seedID, header: jsonHdr(), body: seed, status: 400, code: badRequest},
		{name: "DoubleSlashBeforeKey", method: "GET", path: collection + "//" + seedID, status: 400, code: badRequest},
		{name: "DotSegment", method: "GET", path: "/beta/deviceManagement/./certificateConnectorDetails/" + seedID, status: 400, code: badRequest},
		{name: "EmptyParenKey", method: "GET", path: collection + "('')", status: 404, code: notFound},
		{name: "Healthz", method: "GET", path: "/healthz", status: 200},
		{name: "HealthzPost", method: "POST", path: "/healthz", status: 405, code: "MethodNotAllowed"},

		// Which error wins (contract §0.6): route → headers and size → body → existence → precondition.
		{name: "OrderBadBodyUnknownID", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr(), body: []byte(`{"foo":1}`), status: 400, code: modelValidation},
		{name: "OrderMalformedUnknownID", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr(), body: []byte(`{`), status: 400, code: badRequest},
		{name: "OrderBadBodyNonGUIDKey", method: "PATCH", path: collection + "/not-a-guid", header: jsonHdr(), body: []byte(`{"connectorName":5}`), status: 400, code: modelValidation},
		{name: "OrderIDDiffersNonGUIDKey", method: "PATCH", path: collection + "/not-a-guid", header: jsonHdr(), body: []byte(`{"id":"` + seedID + `"}`), status: 400, code: modelValidation},
		{name: "OrderIDEqualsNonGUIDKey", method: "PATCH", path: collection + "/not-a-guid", header: jsonHdr(), body: []byte(`{"id":"not-a-guid"}`), status: 404, code: notFound},
		{name: "OrderBadContentTypeBadBody", method: "PATCH", path: seedItem, header: hdr("Content-Type", "text/plain"), body: []byte(`{`), status: 415, code: "UnsupportedMediaType"},
		{name: "OrderNoContentTypeUnknownID", method: "PATCH", path: collection + "/" + missingID, body: []byte(`{`), status: 415, code: "UnsupportedMediaType"},
		{name: "OrderTooLargeUnknownID", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr(), body: overLimit, status: 413, code: "RequestEntityTooLarge"},
		{name: "OrderBadBodyStaleIfMatch", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{"foo":1}`), status: 400, code: modelValidation},
		{name: "OrderUnknownIDStaleIfMatch", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr("If-Match", `W/"2"`), body: []byte(`{"connectorName":"x"}`), status: 404, code: notFound},
		{name: "OrderUnknownSegmentBadContentType", method: "PATCH", path: "/beta/foo", header: hdr("Content-Type", "text/plain"), body: []byte(`{`), status: 400, code: badRequest},
		{name: "OrderPutBadBody", method: "PUT", path: seedItem, header: hdr("Content-Type", "text/plain"), body: []byte(`{`), status: 405, code: "MethodNotAllowed"},
		{name: "OrderNotAcceptableBadBody", method: "PATCH", path: seedItem, header: jsonHdr("Accept", "text/plain"), body: []byte(`{`), status: 406, code: "NotAcceptable"},
		{name: "OrderBadBodyUnavailable", method: "PATCH", path: seedItem, header: jsonHdr(), body: []byte(`{"foo":1}`), status: 400, code: modelValidation, fakeOnly: true, setup: unavailable},

		// The store fails.
		{name: "GetPanic", method: "GET", path: seedItem, status: 500, code: odata.CodeInternalServerError, fakeOnly: true, setup: panics,
			check: wantLogged("level=ERROR", "msg=panic", "request_id="+pinnedRequestID, "fake store exploded", "status=500")},
		{name: "PatchPanic", method: "PATCH", path: seedItem, header: jsonHdr("client-request-id", "my-500-request"), body: seed, status: 500, code: odata.CodeInternalServerError, fakeOnly: true, setup: panics,
			check: wantLogged("msg=panic", "request_id="+pinnedRequestID)},
		{name: "GetUnavailable", method: "GET", path: seedItem, status: 503, code: odata.CodeServiceNotAvailable, fakeOnly: true, setup: unavailable},
		{name: "PatchUnavailable", method: "PATCH", path: seedItem, header: jsonHdr(), body: seed, status: 503, code: odata.CodeServiceNotAvailable, fakeOnly: true, setup: unavailable},
		{name: "PostUnavailable", method: "POST", path: collection, header: jsonHdr(), body: seed, status: 503, code: odata.CodeServiceNotAvailable, fakeOnly: true, setup: unavailable},
		{name: "DeleteUnavailable", method: "DELETE", path: seedItem, status: 503, code: odata.CodeServiceNotAvailable, fakeOnly: true, setup: unavailable},
		{name: "ReadyzUnavailable", method: "GET", path: "/readyz", status: 503, fakeOnly: true, setup: unavailable},
	}
	return append(cases, protocolCases(tb)...)
}

// newRequest builds the case's request for a handler or, with base set, for a real server at base.
func (tc *apiCase) newRequest(tb testing.TB, base string) *http.Request {
	tb.Helper()
	var body io.Reader = http.NoBody
	if tc.body != nil {
		body = bytes.NewReader(tc.body)
		if tc.chunked {
			body = chunkedReader{body}
		}
	}
	target := tc.path
	if tc.query != "" {
		target += "?" + tc.query
	}
	var req *http.Request
	if base == "" {
		req = httptest.NewRequestWithContext(tb.Context(), tc.method, "http://graph.example.test"+target, body)
	} else {
		var err error
		if req, err = http.NewRequestWithContext(tb.Context(), tc.method, base+target, body); err != nil {
			tb.Fatal(err)
		}
	}
	if req.URL.Path != tc.path && req.URL.EscapedPath() != tc.path || req.URL.RawQuery != tc.query {
		tb.Fatalf("the path %q and query %q were read as %q and %q", tc.path, tc.query, req.URL.EscapedPath(), req.URL.RawQuery)
	}
	if tc.chunked {
		// Unknown to both the server side (httptest) and the client side (the transport then sends it chunked).
		req.ContentLength = -1
	}
	for k, vs := range tc.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

// checkResult checks what every response must satisfy, then the case's own expectations and its golden.
func checkResult(t *testing.T, r result) {
	t.Helper()
	tc, res := r.wants, r.res
	if res.StatusCode != tc.status {
		t.Errorf("status = %d, want %d; body %s", res.StatusCode, tc.status, r.body)
	}
	if res.StatusCode == http.StatusInternalServerError && (r.fake == nil || r.fake.panicWith == nil) {
		t.Errorf("500 without a deliberate panic: %s", r.body)
	}
	if res.StatusCode >= 300 && res.StatusCode < 400 && res.StatusCode != http.StatusNotModified {
		t.Errorf("redirect %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	reqID := headerValue(res.Header, "request-id")
	if reqID != pinnedRequestID {
		t.Errorf("request-id = %q, want %q", reqID, pinnedRequestID)
	}
	wantClient := tc.header.Get("client-request-id")
	if wantClient == "" || len(wantClient) > 128 {
		wantClient = pinnedRequestID
	}
	if got := headerValue(res.Header, "client-request-id"); got != wantClient {
		t.Errorf("client-request-id = %q, want %q", got, wantClient)
	}
	if got := headerValue(res.Header, "OData-Version"); got != "4.0" {
		t.Errorf("OData-Version = %q", got)
	}
	if res.StatusCode == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	switch {
	case tc.method == http.MethodHead:
		if len(r.body) != 0 {
			t.Errorf("HEAD response with a body: %s", r.body)
		}
	case res.StatusCode >= 400 && !strings.HasPrefix(tc.path, "/readyz"):
		checkEnvelope(t, res, r.body, tc.code)
	case res.StatusCode == http.StatusOK && isItemPath(tc.path) && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json"),
		res.StatusCode == http.StatusCreated:
		ms := members(t, r.body)
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.name] {
				t.Errorf("member %q twice", m.name)
			}
			seen[m.name] = true
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json;odata.metadata=") {
			t.Errorf("Content-Type = %q", ct)
		}
		if res.Header.Get("ETag") == "" {
			t.Error("an entity without ETag")
		}
	}
	if tc.check != nil {
		tc.check(t, r)
	}
	checkGolden(t, tc.name, render(res, r.body))
}

// isItemPath reports whether a path addresses one entity of a set (in the canonical spelling), rather than a
// collection, its count or an action.
func isItemPath(path string) bool {
	for _, c := range []string{collection, pfxCollection} {
		rest, ok := strings.CutPrefix(path, c)
		if !ok || rest == "" || rest == "/" {
			continue
		}
		rest = strings.TrimSuffix(rest, "/")
		switch {
		case rest[0] == '(':
			return !strings.Contains(rest, ")/")
		case rest[0] == '/':
			return !strings.Contains(rest[1:], "/") && rest != "/$count"
		}
	}
	return false
}

// serve runs one case against a fresh fake store holding the seed's row.
func serve(t *testing.T, tc apiCase) result {
	t.Helper()
	fake := newFakeStore()
	fake.put(odata.DevTenantID, seedRow(t))
	for _, e := range tc.extra {
		fake.put(odata.DevTenantID, e)
	}
	var logs logBuffer
	h := httpapi.NewServer(testConfig(logs.logger()), fake)
	if tc.setup != nil {
		tc.setup(fake)
	}
	before := fake.snapshot()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, tc.newRequest(t, ""))
	res := rec.Result()
	// Graph spells these in lower case on the wire; http.Header would canonicalize them to Request-Id.
	for _, name := range []string{"request-id", "client-request-id"} {
		if !slices.Contains(slices.Collect(maps.Keys(rec.Header())), name) {
			t.Errorf("%s is not spelt in lower case on the wire: %v", name, rec.Header())
		}
	}
	if res.StatusCode >= 400 || res.StatusCode == http.StatusNotModified {
		if after := fake.snapshot(); !reflect.DeepEqual(before, after) || fake.writes != 0 {
			t.Errorf("a rejected request changed the store:\nbefore %+v\nafter  %+v", before, after)
		}
	}
	return result{res: res, body: rec.Body.Bytes(), fake: fake, log: &logs, wants: tc,
		row: func() (odata.Entity, bool) { return fake.row(odata.DevTenantID, seedID) },
		get: func(set *odata.EntitySet, key string) (odata.Entity, bool) {
			return fake.rowOf(set, odata.DevTenantID, key)
		}}
}

func TestHandlers(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range apiCases(t) {
		if seen[tc.name] {
			t.Fatalf("two cases named %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkResult(t, serve(t, tc))
		})
	}
}

// TestGzipBombBounded checks that 100 MiB of compressed zeros are refused after reading about the limit, in
// time and memory far below what inflating them would take. It runs alone, so the allocation count is its own.
func TestGzipBombBounded(t *testing.T) {
	bomb := gzipBomb(t)
	h := httpapi.NewServer(testConfig(nil), newFakeStore())
	req := httptest.NewRequestWithContext(t.Context(), "PATCH", "http://graph.example.test"+seedItem, bytes.NewReader(bomb))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d compressed bytes refused in %v, %d KiB allocated", len(bomb), elapsed, allocated>>10)
	if allocated > 3*httpapi.DefaultMaxBodyBytes {
		t.Errorf("allocated %d bytes for a body limited to %d", allocated, httpapi.DefaultMaxBodyBytes)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

// TestMaxBodyBytesConfigurable checks that Config.MaxBodyBytes moves the limit both ways.
func TestMaxBodyBytesConfigurable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limit  int64
		size   int
		status int
	}{
		{"AtSmallLimit", 64, 64, http.StatusOK},
		{"OverSmallLimit", 64, 65, http.StatusRequestEntityTooLarge},
		{"OverDefaultUnderLargeLimit", 8 << 20, httpapi.DefaultMaxBodyBytes + 1, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeStore()
			fake.put(odata.DevTenantID, seedRow(t))
			cfg := testConfig(nil)
			cfg.MaxBodyBytes = tc.limit
			h := httpapi.NewServer(cfg, fake)
			for _, enc := range []string{"", "gzip"} {
				body := padTo(t, `{"connectorName":"x"}`, tc.size)
				if enc != "" {
					body = gzipped(t, body)
				}
				req := httptest.NewRequestWithContext(t.Context(), "PATCH", "http://graph.example.test"+seedItem, chunkedReader{bytes.NewReader(body)})
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", enc)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.status {
					t.Errorf("Content-Encoding %q: status = %d, want %d: %s", enc, rec.Code, tc.status, rec.Body)
				}
			}
		})
	}
}

// TestAccessLog checks the one line per request: request id, route template, status and error code, and
// nothing of the body.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	fake := newFakeStore()
	fake.put(odata.DevTenantID, seedRow(t))
	var logs logBuffer
	h := httpapi.NewServer(testConfig(logs.logger()), fake)
	req := httptest.NewRequestWithContext(t.Context(), "PATCH", "http://graph.example.test"+seedItem, strings.NewReader(`{"connectorName":"secret-value","foo":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer secret-token")
	h.ServeHTTP(httptest.NewRecorder(), req)
	line := logs.String()
	for _, want := range []string{"time=", "level=INFO", "msg=request", "request_id=" + pinnedRequestID, "method=PATCH",
		"route=/beta/deviceManagement/certificateConnectorDetails/{id}", "status=400", "error_code=ModelValidationFailure",
		"tenant=" + odata.DevTenantID} {
		if !strings.Contains(line, want) {
			t.Errorf("the access log lacks %q: %s", want, line)
		}
	}
	for _, secret := range []string{"secret-value", "secret-token"} {
		if strings.Contains(line, secret) {
			t.Errorf("the access log shows %q: %s", secret, line)
		}
	}
	if strings.Count(line, "\n") != 1 {
		t.Errorf("want one log line, got:\n%s", line)
	}
}

// TestRequestIDsDiffer checks that, unpinned, every request gets its own GUID.
func TestRequestIDsDiffer(t *testing.T) {
	t.Parallel()
	h := httpapi.NewServer(httpapi.Config{}, newFakeStore())
	seen := map[string]bool{}
	for range 50 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "http://graph.example.test"+collection+"/"+missingID, nil))
		id := headerValue(rec.Header(), "request-id")
		if _, ok := odata.ParseGUID(id); !ok || seen[id] {
			t.Fatalf("request-id %q is not a fresh GUID", id)
		}
		seen[id] = true
		if got := headerValue(rec.Header(), "client-request-id"); got != id {
			t.Errorf("client-request-id = %q, want the request-id %q", got, id)
		}
	}
}

// TestServiceRootFromRequest checks that without PublicURL the absolute URLs come from the request.
func TestServiceRootFromRequest(t *testing.T) {
	t.Parallel()
	fake := newFakeStore()
	h := httpapi.NewServer(httpapi.Config{}, fake)
	req := httptest.NewRequestWithContext(t.Context(), "POST", "http://localhost:8080"+collection, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got, want := rec.Header().Get("Location"), "http://localhost:8080/beta/deviceManagement/certificateConnectorDetails/"+createdID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if want := `"@odata.context":"http://localhost:8080/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity"`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("body lacks %s: %s", want, rec.Body)
	}
}

// TestPatchThenGet checks that what a PATCH returns is what a later GET returns, ETag included.
func TestPatchThenGet(t *testing.T) {
	t.Parallel()
	fake := newFakeStore()
	fake.put(odata.DevTenantID, seedRow(t))
	h := httpapi.NewServer(testConfig(nil), fake)
	req := httptest.NewRequestWithContext(t.Context(), "PATCH", "http://graph.example.test"+seedItem, bytes.NewReader(seedRequest(t)))
	req.Header.Set("Content-Type", "application/json")
	patched := httptest.NewRecorder()
	h.ServeHTTP(patched, req)
	got := httptest.NewRecorder()
	h.ServeHTTP(got, httptest.NewRequestWithContext(t.Context(), "GET", "http://graph.example.test"+seedItem, nil))
	if patched.Code != 200 || got.Code != 200 {
		t.Fatalf("PATCH %d, GET %d", patched.Code, got.Code)
	}
	if !bytes.Equal(patched.Body.Bytes(), got.Body.Bytes()) {
		t.Errorf("PATCH returned %s\nGET returned   %s", patched.Body, got.Body)
	}
	if p, g := patched.Header().Get("ETag"), got.Header().Get("ETag"); p != g || p != `W/"2"` {
		t.Errorf("ETag after PATCH %q, on GET %q, want W/\"2\"", p, g)
	}
	checkSeedMembers(t, got.Body.Bytes())
}

// TestFakeStoreFaithful guards the fake itself: it must refuse what PostgreSQL refuses and keep tenants apart,
// or the handler tests prove less than they claim.
func TestFakeStoreFaithful(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	p := odata.NewPatch(connSet.Type)
	p.SetName("connectorName", odata.Str("a\x00b"))
	if _, err := f.Create(t.Context(), connSet, odata.DevTenantID, &p, odata.DateTimeOffset{}); odata.ErrorKind(err) != odata.KindInvalid {
		t.Errorf("the fake store stored a NUL: %v", err)
	}
	f.put(odata.DevTenantID, seedRow(t))
	if _, err := f.Get(t.Context(), connSet, "00000000-0000-4000-8000-000000000002", seedID); !errors.Is(err, odata.ErrNotFound) {
		t.Errorf("Get in another tenant: %v", err)
	}
}

// waitForLog waits until the server has logged its access line for a request.
func waitForLog(tb testing.TB, logs *logBuffer) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := logs.String(); strings.Contains(s, "msg=request") {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("no access log line; the log so far:\n%s", logs.String())
	return ""
}

// TestClientDisconnect checks that a client that goes away, while sending its body or while the store works,
// is neither answered nor logged as a server error.
func TestClientDisconnect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		head  string // the request up to where the client vanishes
		block bool   // the store waits for the request's context
		// status is what the access log must record.
		status string
	}{
		{name: "ChunkedBody", status: "status=400",
			head: "PATCH " + seedItem + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"connectorName\""},
		{name: "ContentLengthBody", status: "status=400",
			head: "PATCH " + seedItem + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 328\r\n\r\n{\"connectorName\""},
		{name: "GzipBody", status: "status=400",
			head: "PATCH " + seedItem + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 328\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"},
		{name: "DuringGet", block: true, status: "status=499",
			head: "GET " + seedItem + " HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "DuringPatch", block: true, status: "status=499",
			head: "PATCH " + seedItem + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeStore()
			fake.put(odata.DevTenantID, seedRow(t))
			fake.block = tc.block
			fake.entered = make(chan struct{}, 1)
			var logs logBuffer
			srv := httptest.NewServer(httpapi.NewServer(testConfig(logs.logger()), fake))
			defer srv.Close()
			before := fake.snapshot()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, tc.head); err != nil {
				t.Fatal(err)
			}
			if tc.block {
				select {
				case <-fake.entered:
				case <-time.After(10 * time.Second):
					t.Fatal("the request never reached the store")
				}
			} else {
				time.Sleep(20 * time.Millisecond) // let the server start reading the body
			}
			conn.Close()
			logged := waitForLog(t, &logs)
			if !strings.Contains(logged, tc.status) {
				t.Errorf("the access log lacks %s:\n%s", tc.status, logged)
			}
			if strings.Contains(logged, "level=ERROR") || strings.Contains(logged, "status=500") {
				t.Errorf("a client that went away was logged as a server error:\n%s", logged)
			}
			if after := fake.snapshot(); !reflect.DeepEqual(before, after) {
				t.Errorf("the store changed: %+v", after)
			}
		})
	}
}
