package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
)

// JSON batching (issue 10): the envelope of POST /beta/$batch. A batch that is malformed or breaks a rule is
// one 400 with Graph's envelope and runs nothing, not even a read.

// batchLimit is the body limit of the envelope tests' server, small enough to exceed cheaply.
const batchLimit = 64 << 10

func TestBatchEnvelope(t *testing.T) {
	t.Parallel()
	getSeed := func(id string) string { return step(id, "GET", relSeed+"?$select=id,connectorName") }
	patch := patchStep("w", `{"connectorName":"must not be written"}`)
	twenty := make([]string, 20)
	for i := range twenty {
		twenty[i] = getSeed(fmt.Sprint(i + 1))
	}
	// What Microsoft's PowerShell scripts send: member names as they happen to be capitalised ("URL"),
	// ids that are numbers (Get-Random), lower-case methods, queries unencoded with spaces, ConvertTo-Json's
	// indentation.
	powerShell := `{
    "Requests":  [
        {
            "Id":  1,
            "Method":  "get",
            "URL":  "/deviceManagement/certificateConnectorDetails?$select=id,connectorName&$filter=connectorName eq 'Old connector'"
        },
        {
            "ID":  2,
            "METHOD":  "PATCH",
            "Url":  "deviceManagement/certificateConnectorDetails/` + seedID + `",
            "Headers":  {
                "Content-Type":  "application/json"
            },
            "Body":  {
                "connectorName":  "From PowerShell"
            },
            "DependsOn":  [
                1
            ]
        },
        {
            "id":  3,
            "method":  "GET",
            "url":  "/deviceManagement/certificateConnectorDetails/` + seedID + `?$select=connectorName",
            "dependsOn":  [
                "2"
            ]
        }
    ]
}`
	huge := patchStep("1", `{"connectorName":"`+strings.Repeat("x", batchLimit)+`"}`)

	tests := []struct {
		name   string
		method string
		header http.Header // nil: Content-Type application/json
		body   []byte
		status int
		code   string
		steps  map[string]int // the statuses of a 200's steps
		// wrote: the batch changed the seed's row (only a batch that ran may).
		wrote bool
	}{
		{name: "OneGet", body: []byte(batchOf(getSeed("1"))), status: 200, steps: map[string]int{"1": 200}},
		{name: "Empty", body: []byte(`{"requests":[]}`), status: 200, steps: map[string]int{}},
		{name: "Twenty", body: []byte(batchOf(twenty...)), status: 200, steps: func() map[string]int {
			m := map[string]int{}
			for i := range 20 {
				m[fmt.Sprint(i+1)] = 200
			}
			return m
		}()},
		{name: "Gzip", header: jsonHdr("Content-Encoding", "gzip"), body: gzipped(t, []byte(batchOf(getSeed("1"), patchStep("w", `{"connectorName":"gzipped"}`, dependsOn("1"))))), status: 200,
			steps: map[string]int{"1": 200, "w": 200}, wrote: true},
		{name: "PowerShell", body: []byte(powerShell), status: 200, steps: map[string]int{"1": 200, "2": 200, "3": 200}, wrote: true},
		{name: "CharsetUTF8", header: hdr("Content-Type", "application/json; charset=utf-8"), body: []byte(batchOf(getSeed("1"))),
			status: 200, steps: map[string]int{"1": 200}},

		// The batch itself: its method, media types and size.
		{name: "Get", method: "GET", status: 405, code: "MethodNotAllowed"},
		{name: "NoContentType", header: http.Header{}, body: []byte(batchOf(patch)), status: 415, code: "UnsupportedMediaType"},
		{name: "TextPlain", header: hdr("Content-Type", "text/plain"), body: []byte(batchOf(patch)), status: 415, code: "UnsupportedMediaType"},
		{name: "AcceptXML", header: jsonHdr("Accept", "application/xml"), body: []byte(batchOf(patch)), status: 406, code: "NotAcceptable"},
		{name: "TooLarge", body: []byte(batchOf(huge)), status: 413, code: "RequestEntityTooLarge"},
		{name: "GzipBomb", header: jsonHdr("Content-Encoding", "gzip"), body: gzipBomb(t), status: 413, code: "RequestEntityTooLarge"},
		{name: "CorruptGzip", header: jsonHdr("Content-Encoding", "gzip"), body: corruptGzip(t, []byte(batchOf(patch))), status: 400, code: badRequest},

		// Not a batch.
		{name: "NotJSON", body: []byte(`{"requests":[` + patch), status: 400, code: badRequest},
		{name: "NotObject", body: []byte(`[` + patch + `]`), status: 400, code: badRequest},
		{name: "NoRequests", body: []byte(`{}`), status: 400, code: badRequest},
		{name: "RequestsNull", body: []byte(`{"requests":null}`), status: 400, code: badRequest},
		{name: "RequestsObject", body: []byte(`{"requests":` + patch + `}`), status: 400, code: badRequest},
		{name: "RequestNotObject", body: []byte(batchOf(patch, `"x"`)), status: 400, code: badRequest},
		{name: "TrailingData", body: []byte(batchOf(patch) + `{}`), status: 400, code: badRequest},

		// Broken rules.
		{name: "TwentyOne", body: []byte(batchOf(append(twenty[:19:19], patch, getSeed("21"))...)), status: 400, code: badRequest},
		{name: "DuplicateIDCase", body: []byte(batchOf(patch, getSeed("W"))), status: 400, code: badRequest},
		{name: "DuplicateNumericID", body: []byte(batchOf(patch, `{"id":7,"method":"GET","url":"`+relSeed+`"}`, getSeed("7"))), status: 400, code: badRequest},
		{name: "NoID", body: []byte(batchOf(patch, `{"method":"GET","url":"`+relSeed+`"}`)), status: 400, code: badRequest},
		{name: "EmptyID", body: []byte(batchOf(patch, getSeed(""))), status: 400, code: badRequest},
		{name: "IDObject", body: []byte(batchOf(patch, `{"id":{},"method":"GET","url":"`+relSeed+`"}`)), status: 400, code: badRequest},
		{name: "NoMethod", body: []byte(batchOf(patch, `{"id":"2","url":"`+relSeed+`"}`)), status: 400, code: badRequest},
		{name: "MethodNotToken", body: []byte(batchOf(patch, step("2", "GE T", relSeed))), status: 400, code: badRequest},
		{name: "NoURL", body: []byte(batchOf(patch, `{"id":"2","method":"GET"}`)), status: 400, code: badRequest},
		{name: "EmptyURL", body: []byte(batchOf(patch, step("2", "GET", " "))), status: 400, code: badRequest},
		{name: "DependsOnUnknown", body: []byte(batchOf(patch, step("2", "GET", relSeed, dependsOn("nope")))), status: 400, code: badRequest},
		{name: "DependsOnForward", body: []byte(batchOf(step("2", "GET", relSeed, dependsOn("w")), patch)), status: 400, code: badRequest},
		{name: "DependsOnSelf", body: []byte(batchOf(patch, step("2", "GET", relSeed, dependsOn("2")))), status: 400, code: badRequest},
		{name: "DependsOnSelfOtherCase", body: []byte(batchOf(patchStep("a", `{}`, dependsOn("A")))), status: 400, code: badRequest},
		{name: "DependsOnNotString", body: []byte(batchOf(patch, step("2", "GET", relSeed, `"dependsOn":[{}]`))), status: 400, code: badRequest},
		{name: "DependsOnNotArray", body: []byte(batchOf(patch, step("2", "GET", relSeed, `"dependsOn":"w"`))), status: 400, code: badRequest},
		{name: "DependsOnOwnGroup", body: []byte(batchOf(patchStep("1", `{}`, inGroup("g")), patchStep("2", `{}`, inGroup("g"), dependsOn("g")))),
			status: 400, code: badRequest},
		{name: "GroupNotAdjacent", body: []byte(batchOf(patchStep("1", `{}`, inGroup("g")), getSeed("2"), patchStep("3", `{}`, inGroup("g")))),
			status: 400, code: badRequest},
		{name: "GroupNamedAsID", body: []byte(batchOf(patch, patchStep("2", `{}`, inGroup("W")))), status: 400, code: badRequest},
		{name: "IDNamedAsGroup", body: []byte(batchOf(patchStep("1", `{}`, inGroup("g")), getSeed("G"))), status: 400, code: badRequest},
		{name: "If", body: []byte(batchOf(patch, step("2", "GET", relSeed, dependsOn("w"), `"if":"$w/$succeeded"`))), status: 400, code: badRequest},
		{name: "HeaderNotString", body: []byte(batchOf(patch, step("2", "GET", relSeed, `"headers":{"Accept":["application/json"]}`))), status: 400, code: badRequest},
		{name: "HeaderTwice", body: []byte(batchOf(patch, step("2", "GET", relSeed, stepHeaders("accept", "application/json", "Accept", "*/*")))), status: 400, code: badRequest},
		{name: "HeaderBadName", body: []byte(batchOf(patch, step("2", "GET", relSeed, stepHeaders("Bad Name", "x")))), status: 400, code: badRequest},
		{name: "HeaderBadValue", body: []byte(batchOf(patch, step("2", "GET", relSeed, stepHeaders("X-Test", "a\r\nInjected: 1")))), status: 400, code: badRequest},
		{name: "TextBodyNotString", body: []byte(batchOf(patch, step("2", "PATCH", relSeed, stepHeaders("Content-Type", "text/plain"), stepBody(`{"connectorName":"x"}`)))),
			status: 400, code: badRequest},
		{name: "BinaryBodyNotBase64", body: []byte(batchOf(patch, step("2", "PATCH", relSeed, stepHeaders("Content-Type", "application/octet-stream"), stepBody(`"not base64!"`)))),
			status: 400, code: badRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := seededProbe(t)
			h := batchServer(t, probe, nil, func(c *httpapi.Config) { c.MaxBodyBytes = batchLimit })
			header := tc.header
			if header == nil {
				header = jsonHdr()
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			before := probe.snapshot()
			res, body := doHandler(t, h, method, batchPath, header, tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			checkGolden(t, "Batch"+tc.name, render(res, body))
			if tc.status != http.StatusOK {
				checkEnvelope(t, res, body, tc.code)
				if calls := probe.log(); len(calls) != 0 {
					t.Errorf("a refused batch reached the store: %v", calls)
				}
				if !reflect.DeepEqual(probe.snapshot(), before) {
					t.Error("a refused batch changed the store")
				}
				return
			}
			got := readBatch(t, res, body)
			if !reflect.DeepEqual(got.statuses(), tc.steps) {
				t.Errorf("step statuses %v, want %v", got.statuses(), tc.steps)
			}
			if changed := !reflect.DeepEqual(probe.snapshot(), before); changed != tc.wrote {
				t.Errorf("the store changed: %v, want %v", changed, tc.wrote)
			}
		})
	}
}

// TestBatchIDsEchoed: ids come back as they were sent, numbers as their text, and responses come in request
// order whatever order the requests finish in.
func TestBatchIDsEchoed(t *testing.T) {
	t.Parallel()
	probe := seededProbe(t)
	h := batchServer(t, probe, nil, nil)
	ids := []string{`"MixedCase"`, `42`, `"ünïcode"`, `1.50`, `"with space"`, `"a\"quote"`}
	want := []string{"MixedCase", "42", "ünïcode", "1.50", "with space", `a"quote`}
	var reqs []string
	for _, id := range ids {
		reqs = append(reqs, `{"id":`+id+`,"method":"GET","url":"`+relSeed+`"}`)
	}
	got := sendBatch(t, h, batchOf(reqs...))
	for i, s := range got.steps {
		if s.ID != want[i] || s.Status != 200 {
			t.Errorf("response %d: id %q status %d, want %q 200", i, s.ID, s.Status, want[i])
		}
	}
	if len(got.steps) != len(want) {
		t.Errorf("%d responses, want %d", len(got.steps), len(want))
	}
}
