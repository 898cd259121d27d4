package store_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// The generic operations on userPfxCertificates: string keys derived from the values, enums, a binary
// property, immutable and server-set properties. Patches come from the payload parsers, as in the API, so
// client values for server-set times are dropped as they would be there.

// userPfxBody is a create body of the docs' example, with upn and thumbprint and the members of extra.
func userPfxBody(upn, thumbprint string, extra map[string]any) []byte {
	body := map[string]any{
		"@odata.type":          "#microsoft.graph.userPFXCertificate",
		"thumbprint":           thumbprint,
		"intendedPurpose":      "smimeSigning",
		"userPrincipalName":    upn,
		"startDateTime":        "2016-12-31T23:58:46.7156189-08:00",
		"expirationDateTime":   "2016-12-31T23:57:57.2481234-08:00",
		"providerName":         "Provider Name value",
		"keyName":              "Key Name value",
		"paddingScheme":        "OaepSha512", // PowerShell's casing
		"encryptedPfxBlob":     "ZW5jcnlwdGVkUGZ4QmxvYg==",
		"encryptedPfxPassword": "Encrypted Pfx Password value",
		// Server-set: accepted and ignored.
		"createdDateTime":      "2017-01-01T00:02:43.5775965-08:00",
		"lastModifiedDateTime": "2017-01-01T00:00:35.1329464-08:00",
	}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

func parseCreate(tb testing.TB, t *odata.EntityType, body []byte) odata.Patch {
	tb.Helper()
	p, err := odata.ParseCreate(t, body)
	if err != nil {
		tb.Fatalf("ParseCreate(%.200s): %v", body, err)
	}
	return p
}

func parsePatch(tb testing.TB, t *odata.EntityType, body, key string) odata.Patch {
	tb.Helper()
	p, err := odata.ParsePatch(t, []byte(body), key)
	if err != nil {
		tb.Fatalf("ParsePatch(%.200s): %v", body, err)
	}
	return p
}

// userPfxEntity is the entity an import makes of a create body.
func userPfxEntity(tb testing.TB, upn, thumbprint string, extra map[string]any) odata.Entity {
	tb.Helper()
	p := parseCreate(tb, userPfx.Type, userPfxBody(upn, thumbprint, extra))
	return odata.NewEntity(userPfx.Type, odata.UserPfxKey(upn, thumbprint), &p, nowT)
}

func TestUserPfxCreate(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	now := mustTime(t, "2024-05-06T07:08:09.1234567+02:00")
	p := parseCreate(t, userPfx.Type, userPfxBody("Alice@Contoso.com", "F3A9C2E1B0", nil))
	created, err := s.Create(ctx, userPfx, tenantA, &p, now)
	if err != nil {
		t.Fatal(err)
	}
	wantKey := strings.ReplaceAll(odata.UserID("alice@contoso.com"), "-", "") + "-f3a9c2e1b0"
	if created.Key() != wantKey {
		t.Fatalf("key = %q, want %q", created.Key(), wantKey)
	}
	if got := created.Get("thumbprint").Str; got != "F3A9C2E1B0" {
		t.Errorf("thumbprint = %q: the property keeps what was sent", got)
	}
	for _, name := range []string{"createdDateTime", "lastModifiedDateTime"} {
		if got := created.Get(name).Time; got != now {
			t.Errorf("%s = %s, want now %s (the client's value is ignored)", name, got, now)
		}
	}
	got, err := s.Get(ctx, userPfx, tenantA, wantKey)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffEntity(got, created); d != "" {
		t.Fatalf("Get differs from what Create returned:\n%s", d)
	}
	for name, want := range map[string]string{"startDateTime": "2016-12-31T23:58:46.7156189-08:00", "expirationDateTime": "2016-12-31T23:57:57.2481234-08:00"} {
		if s := got.Get(name).Time.String(); s != want {
			t.Errorf("%s = %s, want %s as sent", name, s, want)
		}
	}
	if got.Get("intendedPurpose").Int != 2 || got.Get("paddingScheme").Int != 5 {
		t.Errorf("enums = %d, %d, want 2 (smimeSigning), 5 (oaepSha512)", got.Get("intendedPurpose").Int, got.Get("paddingScheme").Int)
	}
	if got.Get("encryptedPfxBlob").Str != "encryptedPfxBlob" || got.Get("encryptedPfxPassword").Str != "Encrypted Pfx Password value" {
		t.Errorf("secrets not stored as sent: %+v", got.Values)
	}

	// The same UPN and thumbprint in other cases derive the same key: 409, and nothing changes.
	again := parseCreate(t, userPfx.Type, userPfxBody("ALICE@contoso.COM", "f3a9c2e1b0", map[string]any{"keyName": "other"}))
	if _, err := s.Create(ctx, userPfx, tenantA, &again, now); odata.ErrorKind(err) != odata.KindConflict {
		t.Fatalf("second create: %v, want a conflict", err)
	}
	if after, _ := s.Get(ctx, userPfx, tenantA, wantKey); diffEntity(after, created) != "" {
		t.Fatalf("a refused create changed the entity:\n%s", diffEntity(after, created))
	}
	// Another tenant, or another thumbprint, is another entity.
	if other, err := s.Create(ctx, userPfx, tenantB, &again, now); err != nil || other.Key() != wantKey {
		t.Fatalf("create in another tenant: %q, %v", other.Key(), err)
	}
	third := parseCreate(t, userPfx.Type, userPfxBody("alice@contoso.com", "F3A9C2E1B1", nil))
	if e, err := s.Create(ctx, userPfx, tenantA, &third, now); err != nil || e.Key() == wantKey {
		t.Fatalf("create with another thumbprint: %q, %v", e.Key(), err)
	}
}

func TestUserPfxKeysWithAnyThumbprint(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	for _, tp := range []string{
		"O'Neil", "a/b?c#d%20e", "ÄÖÜ-Ǆ-ẞ", "😀" + strings.Repeat("Ⱥ", odata.MaxThumbprintLength-1), " spaced ", "-",
	} {
		p := parseCreate(t, userPfx.Type, userPfxBody("bob@contoso.com", tp, nil))
		e, err := s.Create(ctx, userPfx, tenantA, &p, nowT)
		if err != nil {
			t.Fatalf("thumbprint %q: %v", tp, err)
		}
		key, ok := userPfx.Type.Key(strings.ToUpper(e.Key()[:32]) + e.Key()[32:])
		if !ok || key != e.Key() || key != odata.UserPfxKey("bob@contoso.com", tp) {
			t.Fatalf("thumbprint %q: key %q does not parse back (%q, %v)", tp, e.Key(), key, ok)
		}
		got, err := s.Get(ctx, userPfx, tenantA, key)
		if err != nil || got.Get("thumbprint").Str != tp {
			t.Fatalf("thumbprint %q: Get = %q, %v", tp, got.Get("thumbprint").Str, err)
		}
		if err := s.Delete(ctx, userPfx, tenantA, key, store.Precondition{Set: true, Versions: []int64{got.Version}}); err != nil {
			t.Fatalf("thumbprint %q: delete: %v", tp, err)
		}
		if _, err := s.Get(ctx, userPfx, tenantA, key); !errors.Is(err, odata.ErrNotFound) {
			t.Fatalf("thumbprint %q: after delete: %v", tp, err)
		}
	}
}

// TestUserPfxImmutable: a PATCH may repeat userPrincipalName and thumbprint but not change them, and the
// errors come in the contract's order: 404 (no such entity), then 400 (a change to an immutable property), then
// 412 (a stale If-Match).
func TestUserPfxImmutable(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	p := parseCreate(t, userPfx.Type, userPfxBody("carol@contoso.com", "AB12", nil))
	created, err := s.Create(ctx, userPfx, tenantA, &p, nowT)
	if err != nil {
		t.Fatal(err)
	}
	key := created.Key()
	missing := odata.UserPfxKey("nobody@contoso.com", "AB12")
	fresh := store.Precondition{Set: true, Versions: []int64{1}}
	stale := store.Precondition{Set: true, Versions: []int64{99}}
	same := `{"thumbprint": "AB12", "userPrincipalName": "carol@contoso.com"}`
	tests := []struct {
		name string
		key  string
		body string
		cond store.Precondition
		want odata.Kind // KindInternal: success
	}{
		{"MissingRow", missing, `{"thumbprint": "AB12"}`, store.Precondition{}, odata.KindNotFound},
		{"MissingRowChangeAndStale", missing, `{"thumbprint": "CD34"}`, stale, odata.KindNotFound},
		{"ChangeThumbprint", key, `{"thumbprint": "CD34"}`, store.Precondition{}, odata.KindInvalid},
		{"ChangeThumbprintCase", key, `{"thumbprint": "ab12"}`, store.Precondition{}, odata.KindInvalid},
		{"ChangeUPN", key, `{"userPrincipalName": "dave@contoso.com", "keyName": "k"}`, store.Precondition{}, odata.KindInvalid},
		{"ClearUPN", key, `{"userPrincipalName": null}`, store.Precondition{}, odata.KindInvalid},
		{"ChangeWithFreshTag", key, `{"thumbprint": "CD34"}`, fresh, odata.KindInvalid},
		{"ChangeAndStale", key, `{"thumbprint": "CD34"}`, stale, odata.KindInvalid},
		{"RepeatAndStale", key, same, stale, odata.KindPreconditionFailed},
		{"RepeatWithFreshTag", key, same, fresh, odata.KindInternal},
		{"Repeat", key, same, store.Precondition{}, odata.KindInternal},
	}
	for _, tt := range tests {
		before, err := s.Get(ctx, userPfx, tenantA, key)
		if err != nil {
			t.Fatal(err)
		}
		p := parsePatch(t, userPfx.Type, tt.body, tt.key)
		got, err := s.Update(ctx, userPfx, tenantA, tt.key, &p, tt.cond, nowT)
		if tt.want == odata.KindInternal {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			} else if got.Version != before.Version+1 || got.Get("thumbprint").Str != "AB12" {
				t.Errorf("%s: version %d, thumbprint %q", tt.name, got.Version, got.Get("thumbprint").Str)
			}
			continue
		}
		if odata.ErrorKind(err) != tt.want {
			t.Errorf("%s: err = %v, want kind %d", tt.name, err, tt.want)
		}
		if tt.want == odata.KindInvalid && !strings.Contains(err.Error(), "cannot be changed") {
			t.Errorf("%s: message %q does not say why", tt.name, err)
		}
		after, _ := s.Get(ctx, userPfx, tenantA, key)
		if d := diffEntity(after, before); d != "" {
			t.Errorf("%s: a refused update changed the entity:\n%s", tt.name, d)
		}
	}
}

// TestUserPfxServerSetTimes: createdDateTime stays; lastModifiedDateTime becomes the update's now, whatever the
// client sends.
func TestUserPfxServerSetTimes(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	t0 := mustTime(t, "2024-01-01T00:00:00Z")
	t1 := mustTime(t, "2024-02-03T04:05:06.0000007-07:30")
	t2 := mustTime(t, "2024-03-01T10:00:00+14:00")
	p := parseCreate(t, userPfx.Type, userPfxBody("erin@contoso.com", "EE", nil))
	e, err := s.Create(ctx, userPfx, tenantA, &p, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		body string
		now  odata.DateTimeOffset
	}{
		{`{"keyName": "k1", "createdDateTime": "2030-01-01T00:00:00Z", "lastModifiedDateTime": "2030-01-01T00:00:00Z"}`, t1},
		{`{"thumbprint": "EE"}`, t2}, // repeating an immutable value is a write too
	} {
		p := parsePatch(t, userPfx.Type, step.body, e.Key())
		got, err := s.Update(ctx, userPfx, tenantA, e.Key(), &p, store.Precondition{}, step.now)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if c := got.Get("createdDateTime").Time; c != t0 {
			t.Errorf("step %d: createdDateTime = %s, want %s", i, c, t0)
		}
		if m := got.Get("lastModifiedDateTime").Time; m != step.now {
			t.Errorf("step %d: lastModifiedDateTime = %s, want the update's now %s", i, m, step.now)
		}
		reread, _ := s.Get(ctx, userPfx, tenantA, e.Key())
		if d := diffEntity(reread, got); d != "" {
			t.Errorf("step %d: stored entity differs from the returned one:\n%s", i, d)
		}
	}
	// An empty patch changes nothing, the last-modified time included.
	empty := odata.NewPatch(userPfx.Type)
	got, err := s.Update(ctx, userPfx, tenantA, e.Key(), &empty, store.Precondition{}, mustTime(t, "2025-01-01T00:00:00Z"))
	if err != nil || got.Get("lastModifiedDateTime").Time != t2 || got.Version != 3 {
		t.Fatalf("empty patch: %+v, %v", got.Values, err)
	}
}

func TestUserPfxBinaryAndEnumsRoundTrip(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	all := make([]byte, 256*3)
	for i := range all {
		all[i] = byte(i * 7)
	}
	blobs := map[string][]byte{"AllBytes": all, "Empty": {}, "NUL": {0}, "Invalid UTF-8": []byte("\xff\xfe\x00\xc3")}
	i := 0
	for name, blob := range blobs {
		purpose := userPfx.Type.MustProperty("intendedPurpose").Enum.Members
		padding := userPfx.Type.MustProperty("paddingScheme").Enum.Members
		for j := range max(len(purpose), len(padding)) {
			tp := name + strings.Repeat("x", i)
			i++
			body := userPfxBody("frank@contoso.com", tp, map[string]any{
				"encryptedPfxBlob": base64.StdEncoding.EncodeToString(blob),
				"intendedPurpose":  strings.ToUpper(purpose[j%len(purpose)].Name),
				"paddingScheme":    padding[j%len(padding)].Name,
			})
			p := parseCreate(t, userPfx.Type, body)
			created, err := s.Create(ctx, userPfx, tenantA, &p, nowT)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := s.Get(ctx, userPfx, tenantA, created.Key())
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Get("encryptedPfxBlob"); b.Null || b.Str != string(blob) {
				t.Errorf("%s: blob %q, want %q", name, b.Str, blob)
			}
			if got.Get("intendedPurpose").Int != purpose[j%len(purpose)].Value || got.Get("paddingScheme").Int != padding[j%len(padding)].Value {
				t.Errorf("%s: enums %d, %d", name, got.Get("intendedPurpose").Int, got.Get("paddingScheme").Int)
			}
		}
	}
	// Null and the empty blob are different values; a PATCH can set and clear it.
	p := parseCreate(t, userPfx.Type, userPfxBody("frank@contoso.com", "null-blob", map[string]any{"encryptedPfxBlob": nil, "intendedPurpose": nil}))
	e, err := s.Create(ctx, userPfx, tenantA, &p, nowT)
	if err != nil || !e.Get("encryptedPfxBlob").Null || e.Get("intendedPurpose").Int != 0 {
		t.Fatalf("omitted blob and enum: %+v, %v", e.Values, err)
	}
	for _, body := range []string{`{"encryptedPfxBlob": ""}`, `{"encryptedPfxBlob": null}`, `{"encryptedPfxBlob": "AQID"}`} {
		p := parsePatch(t, userPfx.Type, body, e.Key())
		if _, err := s.Update(ctx, userPfx, tenantA, e.Key(), &p, store.Precondition{}, nowT); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, userPfx, tenantA, e.Key())
		if want := p.Get(userPfx.Type.MustProperty("encryptedPfxBlob").ID); !got.Get("encryptedPfxBlob").Equal(want, odata.EdmBinary) {
			t.Errorf("after %s: blob %+v", body, got.Get("encryptedPfxBlob"))
		}
	}
}

// TestImportBothSets: one file's connectors and certificates go in one transaction; a bad entity of either set
// changes nothing of either.
func TestImportBothSets(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	file := `{
	"certificateConnectorDetails": [{"id": "` + seedID + `", "connectorName": "c1", "enrollmentDateTime": "2020-01-01T00:00:00Z"}],
	"userPfxCertificates": [
		{"thumbprint": "T1", "userPrincipalName": "gina@contoso.com", "intendedPurpose": "vpn", "encryptedPfxBlob": "AAEC",
		 "createdDateTime": "2019-01-01T00:00:00-05:00"},
		{"id": "` + odata.UserPfxKey("hal@contoso.com", "T2") + `", "thumbprint": "T2", "userPrincipalName": "hal@contoso.com"}
	],
	"healthMetricSamples": [{"connectorId": "` + seedID + `", "metricName": "pfxImport", "dateTime": "2020-01-02T00:00:00Z", "successCount": 3, "failureCount": 1}]
}`
	now := mustTime(t, "2024-06-01T00:00:00Z")
	set, err := odata.ParseImport(graph, []byte(file), now)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, tenantA, &set)
	c, err := s.Get(ctx, connectors, tenantA, seedID)
	if err != nil || c.Get("connectorName").Str != "c1" {
		t.Fatalf("connector: %+v, %v", c.Values, err)
	}
	g, err := s.Get(ctx, userPfx, tenantA, odata.UserPfxKey("gina@contoso.com", "T1"))
	if err != nil || g.Get("intendedPurpose").Int != 4 || g.Get("encryptedPfxBlob").Str != "\x00\x01\x02" {
		t.Fatalf("certificate: %+v, %v", g.Values, err)
	}
	// Import keeps the file's server-set times, and takes now for those it omits.
	if cr, lm := g.Get("createdDateTime").Time.String(), g.Get("lastModifiedDateTime").Time; cr != "2019-01-01T00:00:00-05:00" || lm != now {
		t.Errorf("server-set times: created %s, modified %s", cr, lm)
	}
	if sums, err := s.HealthMetrics(ctx, tenantA, seedID, []string{"pfxImport"}); err != nil || sums[0] != 4 {
		t.Fatalf("samples: %v, %v", sums, err)
	}

	// A second import whose last certificate the database refuses: nothing of it stays, in either set.
	second, err := odata.ParseImport(graph, []byte(`{
	"certificateConnectorDetails": [{"id": "`+seedID+`", "connectorName": "c2"}, {"id": "66666666-0000-4000-8000-000000000000"}],
	"userPfxCertificates": [{"thumbprint": "T1", "userPrincipalName": "gina@contoso.com", "keyName": "changed"},
		{"thumbprint": "T3", "userPrincipalName": "ivy@contoso.com"}]
}`), now)
	if err != nil {
		t.Fatal(err)
	}
	// ParseImport takes no value the database refuses; make one, as a bug or a later model change might.
	second.Entities[userPfx.Index][1].Set("expirationDateTime", odata.Time(odata.DateTimeOffset{Ticks: -5}))
	if err := s.Import(ctx, tenantA, &second); odata.ErrorKind(err) != odata.KindInvalid {
		t.Fatalf("import with a bad certificate: %v, want an invalid-request error", err)
	}
	if c2, _ := s.Get(ctx, connectors, tenantA, seedID); diffEntity(c2, c) != "" {
		t.Errorf("connector changed by a failed import:\n%s", diffEntity(c2, c))
	}
	if g2, _ := s.Get(ctx, userPfx, tenantA, g.Key()); diffEntity(g2, g) != "" {
		t.Errorf("certificate changed by a failed import:\n%s", diffEntity(g2, g))
	}
	for set, key := range map[*odata.EntitySet]string{
		connectors: "66666666-0000-4000-8000-000000000000", userPfx: odata.UserPfxKey("ivy@contoso.com", "T3"),
	} {
		if _, err := s.Get(ctx, set, tenantA, key); !errors.Is(err, odata.ErrNotFound) {
			t.Errorf("%s %s: half-applied import: %v", set.Name, key, err)
		}
	}
	// Without the bad value it goes in whole.
	second.Entities[userPfx.Index][1].Set("expirationDateTime", odata.Time(odata.DateTimeOffset{}))
	mustImport(t, s, tenantA, &second)
	if g3, _ := s.Get(ctx, userPfx, tenantA, g.Key()); g3.Get("keyName").Str != "changed" || g3.Version != 2 {
		t.Errorf("re-import: %+v", g3.Values)
	}
}
