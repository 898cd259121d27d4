package odata

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// pfxDocsResponse is the example response of the userPFXCertificate create and update docs, byte for byte.
const pfxDocsResponse = `{
  "@odata.type": "#microsoft.graph.userPFXCertificate",
  "id": "045c159b-159b-045c-9b15-5c049b155c04",
  "thumbprint": "Thumbprint value",
  "intendedPurpose": "smimeEncryption",
  "userPrincipalName": "User Principal Name value",
  "startDateTime": "2016-12-31T23:58:46.7156189-08:00",
  "expirationDateTime": "2016-12-31T23:57:57.2481234-08:00",
  "providerName": "Provider Name value",
  "keyName": "Key Name value",
  "paddingScheme": "pkcs1",
  "encryptedPfxBlob": "ZW5jcnlwdGVkUGZ4QmxvYg==",
  "encryptedPfxPassword": "Encrypted Pfx Password value",
  "createdDateTime": "2017-01-01T00:02:43.5775965-08:00",
  "lastModifiedDateTime": "2017-01-01T00:00:35.1329464-08:00"
}`

// pfxCreateNow is the instant of the docs' example create: its createdDateTime.
var pfxCreateNow, _ = ParseDateTimeOffset("2017-01-01T00:02:43.5775965-08:00")

// pfxDocsEntity is the entity the docs' example create makes at pfxCreateNow.
func pfxDocsEntity(tb testing.TB) Entity {
	tb.Helper()
	p, err := ParseCreate(pfxType, []byte(pfxDocsBody))
	if err != nil {
		tb.Fatalf("ParseCreate(docs): %v", err)
	}
	e := NewEntity(pfxType, "", &p, pfxCreateNow)
	key, err := pfxType.DeriveKey(e.Values)
	if err != nil {
		tb.Fatal(err)
	}
	e.Values[0] = Str(key)
	e.Version = 1
	return e
}

func TestParseCreateUserPfxDocsExample(t *testing.T) {
	t.Parallel()
	p, err := ParseCreate(pfxType, []byte(pfxDocsBody))
	if err != nil {
		t.Fatal(err)
	}
	want := map[PropertyID]Value{
		pfxProp("thumbprint"):           Str("Thumbprint value"),
		pfxProp("intendedPurpose"):      Int(1),
		pfxProp("userPrincipalName"):    Str("User Principal Name value"),
		pfxProp("startDateTime"):        Time(mustParseDateTimeOffset(t, "2016-12-31T23:58:46.7156189-08:00")),
		pfxProp("expirationDateTime"):   Time(mustParseDateTimeOffset(t, "2016-12-31T23:57:57.2481234-08:00")),
		pfxProp("providerName"):         Str("Provider Name value"),
		pfxProp("keyName"):              Str("Key Name value"),
		pfxProp("paddingScheme"):        Int(1),
		pfxProp("encryptedPfxBlob"):     Str("encryptedPfxBlob"),
		pfxProp("encryptedPfxPassword"): Str("Encrypted Pfx Password value"),
	}
	checkPatch(t, p, want)
	e := pfxDocsEntity(t)
	if key := e.Key(); key != UserPfxKey("User Principal Name value", "Thumbprint value") || !strings.HasSuffix(key, "-thumbprint value") {
		t.Errorf("key %q", key)
	}
	if e.Get("createdDateTime") != Time(pfxCreateNow) || e.Get("lastModifiedDateTime") != Time(pfxCreateNow) {
		t.Errorf("server-set times %s", showEntity(&e))
	}
}

// The create response holds every member of the docs' example response with a byte-identical value, but the
// server's id and times; it is pinned as a golden file.
func TestAppendEntityUserPfxDocsExample(t *testing.T) {
	t.Parallel()
	var want map[string]json.RawMessage
	if err := json.Unmarshal([]byte(pfxDocsResponse), &want); err != nil {
		t.Fatal(err)
	}
	e := pfxDocsEntity(t)
	out := AppendEntity(nil, pfxSet, &e, EntityOptions{ServiceRoot: testServiceRoot, Context: true})
	golden(t, "userpfx_create", out)
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	for name, v := range want {
		switch name {
		case "id":
			if string(got[name]) != `"`+e.Key()+`"` {
				t.Errorf("id = %s", got[name])
			}
			continue
		case "lastModifiedDateTime":
			// The docs' example has it before createdDateTime; the server sets both to the create's instant.
			v = want["createdDateTime"]
		}
		if !bytes.Equal(got[name], v) {
			t.Errorf("member %q = %s, want %s", name, got[name], v)
		}
	}
	if n := len(memberNames(t, out)); n != len(want)+2 { // + @odata.context and @odata.etag
		t.Errorf("%d members: %s", n, out)
	}
	// A GET shows the same, with the secrets redacted.
	redacted := AppendEntity(nil, pfxSet, &e, EntityOptions{ServiceRoot: testServiceRoot, Context: true, Redact: true})
	golden(t, "userpfx_get", redacted)
}

// GET redacts the secrets to what the service shows (blob "AA==", password ""), whatever is stored, null
// included; creates and updates echo what was stored.
func TestAppendEntityRedaction(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		blob, password Value
		redact         bool
		select_        string
		wantBlob       string
		wantPassword   string
	}{
		{"Stored", Str("\x00\x01\xfe\xff"), Str("pw"), false, "", `"AAH+/w=="`, `"pw"`},
		{"Redacted", Str("\x00\x01\xfe\xff"), Str("pw"), true, "", `"AA=="`, `""`},
		{"NullStored", Null, Null, false, "", `null`, `null`},
		{"NullRedacted", Null, Null, true, "", `"AA=="`, `""`},
		{"EmptyStored", Str(""), Str(""), false, "", `""`, `""`},
		{"RedactedSelected", Str("x"), Str("y"), true, "encryptedPfxPassword,encryptedPfxBlob", `"AA=="`, `""`},
		{"RedactedNotSelected", Str("x"), Str("y"), true, "thumbprint", ``, ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := entity(pfxType, pfxKey, map[string]Value{"encryptedPfxBlob": tt.blob, "encryptedPfxPassword": tt.password,
				"thumbprint": Str("AB12"), "userPrincipalName": Str("adele@contoso.com")})
			var sel uint64
			if tt.select_ != "" {
				var err error
				if sel, err = ParseSelect(pfxType, tt.select_); err != nil {
					t.Fatal(err)
				}
			}
			for _, md := range []Metadata{MetadataMinimal, MetadataNone, MetadataFull} {
				out := AppendEntity(nil, pfxSet, &e, EntityOptions{ServiceRoot: testServiceRoot, Metadata: md, Redact: tt.redact, Select: sel})
				var m map[string]json.RawMessage
				if err := json.Unmarshal(out, &m); err != nil {
					t.Fatalf("%s: %v", out, err)
				}
				if string(m["encryptedPfxBlob"]) != tt.wantBlob || string(m["encryptedPfxPassword"]) != tt.wantPassword {
					t.Errorf("metadata %d: blob %s, password %s; want %s, %s", md, m["encryptedPfxBlob"], m["encryptedPfxPassword"], tt.wantBlob, tt.wantPassword)
				}
				if th, ok := m["thumbprint"]; string(th) != `"AB12"` && (ok || sel == 0) {
					t.Errorf("thumbprint %s", th)
				}
			}
			if e.Get("encryptedPfxBlob") != tt.blob {
				t.Error("encoding changed the entity")
			}
		})
	}
}

func TestAppendEntityEnums(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		purpose, padding int64
		want             string
	}{
		{0, 0, `"intendedPurpose":"unassigned","userPrincipalName"`},
		{8, 5, `"intendedPurpose":"wifi","userPrincipalName"`},
		{3, 9, `"intendedPurpose":"3","userPrincipalName"`}, // not a member: the number, as ODataLib writes it
	} {
		e := entity(pfxType, pfxKey, map[string]Value{"intendedPurpose": Int(tt.purpose), "paddingScheme": Int(tt.padding)})
		out := AppendEntity(nil, pfxSet, &e, EntityOptions{Metadata: MetadataNone})
		if !bytes.Contains(out, []byte(tt.want)) {
			t.Errorf("%s lacks %s", out, tt.want)
		}
	}
}

// Location and @odata.id: GUID keys as a path segment (Location) or in parentheses; string keys in quotes, with
// quotes doubled and then percent-encoded as url.PathEscape does.
func TestEntityURLs(t *testing.T) {
	t.Parallel()
	user := strings.ReplaceAll(UserID("u@x"), "-", "")
	const root = "https://graph.example.test/beta"
	for _, tt := range []struct {
		name          string
		set           *EntitySet
		key           string
		wantLocation  string
		wantCanonical string
	}{
		{"GUID", connSet, seedKey, root + "/deviceManagement/certificateConnectorDetails/" + seedKey,
			root + "/deviceManagement/certificateConnectorDetails('" + seedKey + "')"},
		{"Hex", pfxSet, user + "-ab12", root + "/deviceManagement/userPfxCertificates('" + user + "-ab12')",
			root + "/deviceManagement/userPfxCertificates('" + user + "-ab12')"},
		{"Quote", pfxSet, user + "-o'neil", root + "/deviceManagement/userPfxCertificates('" + user + "-o%27%27neil')",
			root + "/deviceManagement/userPfxCertificates('" + user + "-o%27%27neil')"},
		{"Reserved", pfxSet, user + "-a/b?c#d e%f;g,h(i)", root + "/deviceManagement/userPfxCertificates('" + user + "-a%2Fb%3Fc%23d%20e%25f%3Bg%2Ch%28i%29')",
			root + "/deviceManagement/userPfxCertificates('" + user + "-a%2Fb%3Fc%23d%20e%25f%3Bg%2Ch%28i%29')"},
		{"Kept", pfxSet, user + "-$&+:=@-_.~", root + "/deviceManagement/userPfxCertificates('" + user + "-$&+:=@-_.~')",
			root + "/deviceManagement/userPfxCertificates('" + user + "-$&+:=@-_.~')"},
		{"NonASCII", pfxSet, user + "-é😀", root + "/deviceManagement/userPfxCertificates('" + user + "-%C3%A9%F0%9F%98%80')",
			root + "/deviceManagement/userPfxCertificates('" + user + "-%C3%A9%F0%9F%98%80')"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EntityURL(root, tt.set, tt.key); got != tt.wantLocation {
				t.Errorf("EntityURL = %s, want %s", got, tt.wantLocation)
			}
			if got := CanonicalURL(root, tt.set, tt.key); got != tt.wantCanonical {
				t.Errorf("CanonicalURL = %s, want %s", got, tt.wantCanonical)
			}
			e := entity(tt.set.Type, tt.key, nil)
			out := AppendEntity(nil, tt.set, &e, EntityOptions{ServiceRoot: root, Metadata: MetadataFull})
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			if m["@odata.id"] != tt.wantCanonical || m["@odata.editLink"] != tt.wantCanonical {
				t.Errorf("@odata.id %v, @odata.editLink %v; want %s", m["@odata.id"], m["@odata.editLink"], tt.wantCanonical)
			}
			// The key segment decodes, and un-doubles, to the key.
			seg := strings.TrimSuffix(tt.wantCanonical[strings.Index(tt.wantCanonical, "('")+2:], "')")
			if dec, err := url.PathUnescape(seg); err != nil || strings.ReplaceAll(dec, "''", "'") != tt.key {
				t.Errorf("the key segment %s decodes to %q, %v", seg, dec, err)
			}
		})
	}
	if got := ContextURL(root, pfxSet); got != root+"/$metadata#deviceManagement/userPfxCertificates/$entity" {
		t.Errorf("ContextURL = %s", got)
	}
}

// The string-key escaping is url.PathEscape of the key with quotes doubled, for any bytes.
func TestKeyEscapingIsPathEscape(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 20_000 {
		key := randomString(rng, i%2 == 1)
		if i < 256 {
			key = string([]byte{byte(i)})
		}
		want := url.PathEscape(strings.ReplaceAll(key, "'", "''"))
		if got := string(appendKeyEscaped(nil, key)); got != want {
			t.Fatalf("appendKeyEscaped(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestParseUserPfx(t *testing.T) {
	t.Parallel()
	const base = `"thumbprint":"AB12","userPrincipalName":"Adele@Contoso.com"`
	tests := []struct {
		name   string
		create bool
		body   string
		want   map[string]Value // the properties set besides thumbprint and userPrincipalName (for a create)
	}{
		// Enums: member names in any case (the PowerShell module sends "SmimeEncryption", "OaepSha512", "VPN").
		{"EnumCamel", true, `{` + base + `,"intendedPurpose":"smimeEncryption","paddingScheme":"oaepSha256"}`,
			map[string]Value{"intendedPurpose": Int(1), "paddingScheme": Int(3)}},
		{"EnumPascal", true, `{` + base + `,"intendedPurpose":"SmimeEncryption","paddingScheme":"OaepSha512"}`,
			map[string]Value{"intendedPurpose": Int(1), "paddingScheme": Int(5)}},
		{"EnumUpper", true, `{` + base + `,"intendedPurpose":"VPN","paddingScheme":"NONE"}`,
			map[string]Value{"intendedPurpose": Int(4), "paddingScheme": Int(0)}},
		{"EnumEscaped", true, `{` + base + `,"intendedPurpose":"\u0077ifi"}`, map[string]Value{"intendedPurpose": Int(8)}},
		// Binary: standard base64 with padding, stored as the bytes.
		{"Binary", true, `{` + base + `,"encryptedPfxBlob":"AAH+/w=="}`, map[string]Value{"encryptedPfxBlob": Str("\x00\x01\xfe\xff")}},
		{"BinaryEmpty", true, `{` + base + `,"encryptedPfxBlob":""}`, map[string]Value{"encryptedPfxBlob": Str("")}},
		{"BinaryNull", true, `{` + base + `,"encryptedPfxBlob":null}`, map[string]Value{"encryptedPfxBlob": Null}},
		{"BinaryNUL", true, `{` + base + `,"encryptedPfxBlob":"AA=="}`, map[string]Value{"encryptedPfxBlob": Str("\x00")}},
		// encoding/base64 skips CR and LF, as MIME base64 (and .NET's Convert.FromBase64String) does.
		{"BinaryLineBreaks", true, `{` + base + `,"encryptedPfxBlob":"AAH+\r\n/w==\n"}`, map[string]Value{"encryptedPfxBlob": Str("\x00\x01\xfe\xff")}},
		{"BinaryEscapedSlash", true, `{` + base + `,"encryptedPfxBlob":"\/w=="}`, map[string]Value{"encryptedPfxBlob": Str("\xff")}},
		// Server-set times are accepted and ignored on create and update.
		{"ServerSetIgnoredOnCreate", true, `{` + base + `,"createdDateTime":"2017-01-01T00:02:43.5775965-08:00","lastModifiedDateTime":"2017-01-01T00:00:35.1329464-08:00"}`,
			map[string]Value{}},
		{"ServerSetIgnoredOnPatch", false, `{"createdDateTime":"2017-01-01T00:02:43.5775965-08:00","lastModifiedDateTime":"2017-01-01T00:00:35.1329464-08:00","keyName":"k"}`,
			map[string]Value{"keyName": Str("k")}},
		// The thumbprint: up to 128 characters (not bytes).
		{"ThumbprintAtLimit", true, `{"thumbprint":"` + strings.Repeat("é", MaxThumbprintLength) + `","userPrincipalName":"u"}`,
			map[string]Value{"thumbprint": Str(strings.Repeat("é", MaxThumbprintLength)), "userPrincipalName": Str("u")}},
		{"ThumbprintKeepsCase", true, `{"thumbprint":"0FFFF8962FFFFDEA9","userPrincipalName":"u"}`,
			map[string]Value{"thumbprint": Str("0FFFF8962FFFFDEA9"), "userPrincipalName": Str("u")}},
		// Other members
		{"Type", true, `{"@odata.type":"#microsoft.graph.userPFXCertificate",` + base + `}`, map[string]Value{}},
		{"TypeWithoutHash", true, `{"@odata.type":"microsoft.graph.userPFXCertificate",` + base + `}`, map[string]Value{}},
		{"IDIgnoredOnCreate", true, `{"id":"client-chosen",` + base + `}`, map[string]Value{}},
		{"IDOnPatch", false, `{"id":"` + pfxKey + `"}`, map[string]Value{}},
		{"IDOnPatchOtherCase", false, `{"id":"` + strings.ToUpper(pfxKey) + `"}`, map[string]Value{}},
		{"PatchNeedsNothing", false, `{}`, map[string]Value{}},
		{"PatchMayRepeatImmutable", false, `{` + base + `}`, map[string]Value{"thumbprint": Str("AB12"), "userPrincipalName": Str("Adele@Contoso.com")}},
		{"PatchNullsNullable", false, `{"providerName":null,"keyName":null,"encryptedPfxPassword":null}`,
			map[string]Value{"providerName": Null, "keyName": Null, "encryptedPfxPassword": Null}},
		{"StartAfterExpiration", true, `{` + base + `,"startDateTime":"2030-01-01T00:00:00Z","expirationDateTime":"2020-01-01T00:00:00Z"}`,
			map[string]Value{"startDateTime": Time(mustParseDateTimeOffset(t, "2030-01-01T00:00:00Z")),
				"expirationDateTime": Time(mustParseDateTimeOffset(t, "2020-01-01T00:00:00Z"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				p   Patch
				err error
			)
			want := map[PropertyID]Value{}
			if tt.create {
				p, err = ParseCreate(pfxType, []byte(tt.body))
				want[pfxProp("thumbprint")] = Str("AB12")
				want[pfxProp("userPrincipalName")] = Str("Adele@Contoso.com")
			} else {
				p, err = ParsePatch(pfxType, []byte(tt.body), pfxKey)
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for name, v := range tt.want {
				want[pfxProp(name)] = v
			}
			checkPatch(t, p, want)
		})
	}
}

func TestParseUserPfxInvalid(t *testing.T) {
	t.Parallel()
	const base = `"thumbprint":"AB12","userPrincipalName":"u@x"`
	tests := []struct {
		name   string
		create bool
		body   string
		msg    string
	}{
		{"UnknownMember", true, `{` + base + `,"intendedPurpose":"email"}`,
			"The value 'email' of the property 'intendedPurpose' is not a member of the enum type 'microsoft.graph.userPfxIntendedPurpose' (unassigned, smimeEncryption, smimeSigning, vpn, wifi)."},
		{"UnknownMemberOnPatch", false, `{"paddingScheme":"oaepSha1024"}`,
			"The value 'oaepSha1024' of the property 'paddingScheme' is not a member of the enum type 'microsoft.graph.userPfxPaddingScheme' (none, pkcs1, oaepSha1, oaepSha256, oaepSha384, oaepSha512)."},
		{"MemberWithSpace", false, `{"intendedPurpose":"vpn "}`, "is not a member"},
		{"MemberEmpty", false, `{"intendedPurpose":""}`, "The value '' of the property 'intendedPurpose' is not a member"},
		{"MemberNumber", false, `{"intendedPurpose":4}`, "The property 'intendedPurpose' has the type 'graph.userPfxIntendedPurpose', but a JSON number was found."},
		{"MemberNumberString", false, `{"intendedPurpose":"4"}`, "The value '4' of the property 'intendedPurpose' is not a member"},
		{"MemberFlags", false, `{"intendedPurpose":"vpn,wifi"}`, "is not a member"},
		{"EnumNull", false, `{"paddingScheme":null}`,
			"A null value was found for the property named 'paddingScheme', which has the expected type 'graph.userPfxPaddingScheme[Nullable=False]'"},
		{"BinaryNoPadding", false, `{"encryptedPfxBlob":"AP8"}`,
			"Cannot convert the literal 'AP8' to the expected type 'Edm.Binary' of the property 'encryptedPfxBlob': write the bytes in standard base64 (RFC 4648 section 4, with padding)."},
		{"BinaryURLAlphabet", false, `{"encryptedPfxBlob":"_-8="}`, "to the expected type 'Edm.Binary'"},
		{"BinaryShortPadding", false, `{"encryptedPfxBlob":"AA="}`, "to the expected type 'Edm.Binary'"},
		{"BinarySpace", false, `{"encryptedPfxBlob":"AA =="}`, "to the expected type 'Edm.Binary'"},
		{"BinaryNonCanonicalPadding", false, `{"encryptedPfxBlob":"AB=="}`, "to the expected type 'Edm.Binary'"},
		{"BinaryNumber", false, `{"encryptedPfxBlob":1}`, "The property 'encryptedPfxBlob' has the type 'Edm.Binary', but a JSON number was found."},
		{"BinaryArray", false, `{"encryptedPfxBlob":[0,255]}`, "but a JSON array was found"},
		{"PasswordNUL", false, `{"encryptedPfxPassword":"a\u0000"}`, "The property 'encryptedPfxPassword' contains the character U+0000"},
		{"MissingThumbprint", true, `{"userPrincipalName":"u@x"}`,
			"The property 'thumbprint' is required when creating a userPFXCertificate and cannot be null."},
		{"NullThumbprint", true, `{"thumbprint":null,"userPrincipalName":"u@x"}`, "The property 'thumbprint' is required"},
		{"MissingUPN", true, `{"thumbprint":"a"}`, "The property 'userPrincipalName' is required when creating a userPFXCertificate"},
		{"NullUPN", true, `{"thumbprint":"a","userPrincipalName":null}`, "The property 'userPrincipalName' is required"},
		{"EmptyBody", true, `{}`, "The property 'thumbprint' is required"},
		{"OnlyAnnotations", true, `{"@odata.type":"#microsoft.graph.userPFXCertificate"}`, "The property 'thumbprint' is required"},
		{"ThumbprintTooLong", true, `{"thumbprint":"` + strings.Repeat("a", MaxThumbprintLength+1) + `","userPrincipalName":"u"}`,
			"The property 'thumbprint' is 129 characters long, more than its limit of 128."},
		{"ThumbprintTooLongMultibyte", false, `{"thumbprint":"` + strings.Repeat("é", MaxThumbprintLength+1) + `"}`,
			"The property 'thumbprint' is 129 characters long, more than its limit of 128."},
		{"ThumbprintHuge", false, `{"thumbprint":"` + strings.Repeat("日", 1<<20) + `"}`, "is 1048576 characters long, more than its limit of 128."},
		{"ServerSetInvalid", true, `{` + base + `,"createdDateTime":"yesterday"}`, "Cannot convert the literal 'yesterday' to the expected type 'Edm.DateTimeOffset'"},
		{"ServerSetNull", false, `{"lastModifiedDateTime":null}`, "A null value was found for the property named 'lastModifiedDateTime'"},
		{"TypeConnector", true, `{"@odata.type":"#microsoft.graph.certificateConnectorDetails",` + base + `}`,
			"A type named '#microsoft.graph.certificateConnectorDetails' could not be resolved by the model."},
		{"TypeCaseDiffers", false, `{"@odata.type":"#microsoft.graph.userPfxCertificate"}`, "A type named '#microsoft.graph.userPfxCertificate' could not be resolved"},
		{"TypeCollection", false, `{"@odata.type":"#Collection(microsoft.graph.userPFXCertificate)"}`, "could not be resolved"},
		{"ConnectorProperty", true, `{` + base + `,"connectorName":"x"}`,
			"The property 'connectorName' does not exist on type 'microsoft.graph.userPFXCertificate'."},
		{"IDOnPatchDiffers", false, `{"id":"` + UserPfxKey("u@x", "cd") + `"}`, "The key property 'id' cannot be changed"},
		{"IDNullOnPatch", false, `{"id":null}`, "the request body has null"},
		{"ValidationBeforeRequired", true, `{"intendedPurpose":"x"}`, "is not a member of the enum type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tt.create {
				_, err = ParseCreate(pfxType, []byte(tt.body))
			} else {
				_, err = ParsePatch(pfxType, []byte(tt.body), pfxKey)
			}
			e := checkInvalid(t, err, CodeModelValidationFailure, tt.msg)
			if len(e.Message) > 500 {
				t.Errorf("the message is %d bytes long", len(e.Message))
			}
		})
	}
	// Required properties are checked on create only: a PATCH without them is fine.
	if _, err := ParsePatch(pfxType, []byte(`{"keyName":"k"}`), pfxKey); err != nil {
		t.Errorf("PATCH without the required properties: %v", err)
	}
	// Connectors have no required properties.
	if _, err := ParseCreate(connType, []byte(`{}`)); err != nil {
		t.Errorf("empty connector create: %v", err)
	}
}

// Binary values of any bytes survive base64 in and out exactly.
func TestBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 2000 {
		b := make([]byte, rng.IntN(70))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if i == 0 {
			b = []byte{}
		}
		e := entity(pfxType, pfxKey, map[string]Value{"encryptedPfxBlob": Str(string(b))})
		out := AppendEntity(nil, pfxSet, &e, EntityOptions{Metadata: MetadataNone})
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		p, err := ParsePatch(pfxType, out, pfxKey)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if got := p.Get(pfxProp("encryptedPfxBlob")); got.Null || got.Str != string(b) {
			t.Fatalf("% x came back as %q (encoded %s)", b, got.Str, m["encryptedPfxBlob"])
		}
	}
}

// The toy type's other Edm types: Int32 in range, Int64 as a number or an IEEE754Compatible string, Booleans.
func TestToyTypePayloads(t *testing.T) {
	t.Parallel()
	toy := toySet.Type
	ok := []struct {
		name, body string
		want       map[string]Value
	}{
		{"Int32Bounds", `{"count":-2147483648}`, map[string]Value{"count": Int(-1 << 31)}},
		{"Int64Number", `{"total":9223372036854775807}`, map[string]Value{"total": Int(1<<63 - 1)}},
		{"Int64String", `{"total":"-9223372036854775808"}`, map[string]Value{"total": Int(-1 << 63)}},
		{"Int64Null", `{"total":null}`, map[string]Value{"total": Null}},
		{"Bool", `{"active":true}`, map[string]Value{"active": Bool(true)}},
		{"BoolFalse", `{"active":false}`, map[string]Value{"active": Bool(false)}},
		{"MaxLength", `{"name":"` + strings.Repeat("😀", 10) + `"}`, map[string]Value{"name": Str(strings.Repeat("😀", 10))}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePatch(toy, []byte(tt.body), seedKey)
			if err != nil {
				t.Fatal(err)
			}
			want := map[PropertyID]Value{}
			for name, v := range tt.want {
				want[toy.MustProperty(name).ID] = v
			}
			checkPatch(t, p, want)
		})
	}
	bad := []struct{ name, body, msg string }{
		{"Int32Overflow", `{"count":2147483648}`, "Cannot convert the literal '2147483648' to the expected type 'Edm.Int32' of the property 'count'."},
		{"Int32String", `{"count":"1"}`, "The property 'count' has the type 'Edm.Int32', but a JSON string was found."},
		{"Int32Fraction", `{"count":1.5}`, "Cannot convert the literal '1.5' to the expected type 'Edm.Int32'"},
		{"Int32Exponent", `{"count":1e3}`, "Cannot convert the literal '1e3'"},
		{"Int64Overflow", `{"total":"9223372036854775808"}`, "to the expected type 'Edm.Int64'"},
		{"Int64Text", `{"total":"x"}`, "Cannot convert the literal 'x' to the expected type 'Edm.Int64'"},
		{"BoolString", `{"active":"true"}`, "The property 'active' has the type 'Edm.Boolean', but a JSON string was found."},
		{"BoolNull", `{"active":null}`, "A null value was found for the property named 'active'"},
		{"Int32Null", `{"count":null}`, "A null value was found for the property named 'count'"},
		{"TooLong", `{"name":"` + strings.Repeat("a", 11) + `"}`, "The property 'name' is 11 characters long, more than its limit of 10."},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePatch(toy, []byte(tt.body), seedKey)
			checkInvalid(t, err, CodeModelValidationFailure, tt.msg)
		})
	}
	e := entity(toy, seedKey, map[string]Value{"count": Int(-5), "total": Int(1 << 60), "active": Bool(true), "color": Int(1),
		"data": Str("\x00"), "name": Str("n"), "when": Time(MaxDateTime)})
	for _, tt := range []struct {
		ieee bool
		want string
	}{
		{false, `{"id":"` + seedKey + `","name":"n","count":-5,"total":1152921504606846976,"active":true,"color":"green","data":"AA==","when":"9999-12-31T23:59:59.9999999Z"}`},
		{true, `{"id":"` + seedKey + `","name":"n","count":-5,"total":"1152921504606846976","active":true,"color":"green","data":"AA==","when":"9999-12-31T23:59:59.9999999Z"}`},
	} {
		if got := string(AppendEntity(nil, toySet, &e, EntityOptions{Metadata: MetadataNone, IEEE754Compatible: tt.ieee})); got != tt.want {
			t.Errorf("IEEE754Compatible %v:\n got %s\nwant %s", tt.ieee, got, tt.want)
		}
	}
}
