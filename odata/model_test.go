package odata

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The two entity sets of the model, as the tests use them.
var (
	connSet  = Graph().MustSet(ConnectorsSet)
	pfxSet   = Graph().MustSet(UserPfxSet)
	connType = connSet.Type
	pfxType  = pfxSet.Type
)

// The connectors' property ids, as the tests name them; TestConnectorModel checks them against the model.
const (
	propID PropertyID = iota
	propConnectorName
	propMachineName
	propEnrollmentDateTime
	propLastCheckinDateTime
	propConnectorVersion
	numConnectorProps
)

// pfxProp is the id of a userPFXCertificate property.
func pfxProp(name string) PropertyID { return pfxType.MustProperty(name).ID }

// entity builds an entity of t as a create without a body makes it (nulls, 0001-01-01T00:00:00Z, enum value 0,
// server-set times at the zero instant) and then sets the named values.
func entity(t *EntityType, key string, values map[string]Value) Entity {
	e := NewEntity(t, key, nil, DateTimeOffset{})
	for _, name := range slices.Sorted(maps.Keys(values)) {
		e.Set(name, values[name])
	}
	return e
}

// connector is entity for certificateConnectorDetails.
func connector(key string, values map[string]Value) Entity { return entity(connType, key, values) }

func cloneEntity(e Entity) Entity {
	e.Values = slices.Clone(e.Values)
	return e
}

// showEntity renders an entity's values by name for messages.
func showEntity(e *Entity) string {
	var b strings.Builder
	b.WriteString("{")
	for i, v := range e.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Type.Properties[i].Name + ": ")
		switch {
		case v.Null:
			b.WriteString("null")
		case e.Type.Properties[i].Type == EdmDateTimeOffset:
			b.WriteString(v.Time.String())
		case e.Type.Properties[i].Type == EdmString || e.Type.Properties[i].Type == EdmBinary:
			b.WriteString(strconv.Quote(v.Str))
		default:
			b.WriteString(strconv.FormatInt(v.Int, 10))
		}
	}
	b.WriteString(", version " + strconv.FormatInt(e.Version, 10) + "}")
	return b.String()
}

func checkEntity(tb testing.TB, got, want Entity) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("entity\n got %s\nwant %s", showEntity(&got), showEntity(&want))
	}
}

// The connector model is the one the contract fixes: names, order, types, nullability; the tests' ids agree.
func TestConnectorModel(t *testing.T) {
	t.Parallel()
	want := []struct {
		id       PropertyID
		name     string
		typ      EdmType
		nullable bool
	}{
		{propID, "id", EdmString, false},
		{propConnectorName, "connectorName", EdmString, true},
		{propMachineName, "machineName", EdmString, true},
		{propEnrollmentDateTime, "enrollmentDateTime", EdmDateTimeOffset, false},
		{propLastCheckinDateTime, "lastCheckinDateTime", EdmDateTimeOffset, false},
		{propConnectorVersion, "connectorVersion", EdmString, true},
	}
	if len(connType.Properties) != int(numConnectorProps) || len(want) != int(numConnectorProps) {
		t.Fatalf("%d properties, want %d", len(connType.Properties), numConnectorProps)
	}
	for _, w := range want {
		p := &connType.Properties[w.id]
		if p.ID != w.id || p.Name != w.name || p.Type != w.typ || p.Nullable != w.nullable || p.Key != (w.id == propID) ||
			p.Secret || p.Required || p.Immutable || p.ServerSet != ClientSet || p.MaxLength != 0 {
			t.Errorf("property %d = %+v, want %+v", w.id, p, w)
		}
		if got, ok := connType.Property(w.name); !ok || got != p {
			t.Errorf("Property(%q) = %v, %v", w.name, got, ok)
		}
		if _, ok := connType.Property(strings.ToUpper(w.name)); ok {
			t.Errorf("Property(%q) found a property: names are case-sensitive", strings.ToUpper(w.name))
		}
	}
	if connType.KeyKind != KeyGUID || connType.Qualified != "microsoft.graph.certificateConnectorDetails" ||
		connSet.Path != "deviceManagement/certificateConnectorDetails" || connSet.Index != 0 || Graph().Sets[0] != connSet {
		t.Errorf("connector set = %+v, type %+v", connSet, connType)
	}
	if pfxType.KeyKind != KeyString || pfxType.Qualified != "microsoft.graph.userPFXCertificate" ||
		pfxSet.Path != "deviceManagement/userPfxCertificates" || pfxSet.Index != 1 {
		t.Errorf("userPfx set = %+v, type %+v", pfxSet, pfxType)
	}
}

func TestModelLookups(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		want *EntitySet
		ok   bool
	}{
		{"certificateConnectorDetails", connSet, true},
		{"CertificateConnectorDetails", connSet, true}, // service-defined segments ignore case
		{"USERPFXCERTIFICATES", pfxSet, true},
		{"userPfxCertificate", nil, false},
		{"", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := Graph().Set(tt.name); got != tt.want || ok != tt.ok {
				t.Errorf("Set(%q) = %v, %v", tt.name, got, ok)
			}
		})
	}
	for _, name := range []string{"nope", "CONNECTORNAME"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("MustProperty(%q) did not panic", name)
				}
			}()
			connType.MustProperty(name)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("MustSet of an unknown set did not panic")
		}
	}()
	Graph().MustSet("users")
}

func TestUserPfxModel(t *testing.T) {
	t.Parallel()
	want := []struct {
		name, typ                     string
		nullable, required, immutable bool
		secret                        bool
		serverSet                     ServerSet
	}{
		{"id", "Edm.String", false, false, false, false, ClientSet},
		{"thumbprint", "Edm.String", true, true, true, false, ClientSet},
		{"intendedPurpose", "graph.userPfxIntendedPurpose", false, false, false, false, ClientSet},
		{"userPrincipalName", "Edm.String", true, true, true, false, ClientSet},
		{"startDateTime", "Edm.DateTimeOffset", false, false, false, false, ClientSet},
		{"expirationDateTime", "Edm.DateTimeOffset", false, false, false, false, ClientSet},
		{"providerName", "Edm.String", true, false, false, false, ClientSet},
		{"keyName", "Edm.String", true, false, false, false, ClientSet},
		{"paddingScheme", "graph.userPfxPaddingScheme", false, false, false, false, ClientSet},
		{"encryptedPfxBlob", "Edm.Binary", true, false, false, true, ClientSet},
		{"encryptedPfxPassword", "Edm.String", true, false, false, true, ClientSet},
		{"createdDateTime", "Edm.DateTimeOffset", false, false, false, false, SetOnCreate},
		{"lastModifiedDateTime", "Edm.DateTimeOffset", false, false, false, false, SetOnWrite},
	}
	if len(pfxType.Properties) != len(want) {
		t.Fatalf("%d properties, want %d", len(pfxType.Properties), len(want))
	}
	for i, w := range want {
		p := &pfxType.Properties[i]
		if p.Name != w.name || p.TypeName() != w.typ || p.Nullable != w.nullable || p.Required != w.required ||
			p.Immutable != w.immutable || p.Secret != w.secret || p.ServerSet != w.serverSet {
			t.Errorf("property %d = %+v (%s), want %+v", i, p, p.TypeName(), w)
		}
	}
	if p := pfxType.MustProperty("thumbprint"); p.MaxLength != MaxThumbprintLength || MaxThumbprintLength != 128 {
		t.Errorf("thumbprint MaxLength = %d", p.MaxLength)
	}
	purpose := pfxType.MustProperty("intendedPurpose").Enum
	members := map[string]int64{}
	for _, m := range purpose.Members {
		members[m.Name] = m.Value
	}
	if !maps.Equal(members, map[string]int64{"unassigned": 0, "smimeEncryption": 1, "smimeSigning": 2, "vpn": 4, "wifi": 8}) ||
		purpose.Qualified != "microsoft.graph.userPfxIntendedPurpose" {
		t.Errorf("intendedPurpose = %+v", purpose)
	}
	padding := pfxType.MustProperty("paddingScheme").Enum
	for i, name := range []string{"none", "pkcs1", "oaepSha1", "oaepSha256", "oaepSha384", "oaepSha512"} {
		if m, ok := padding.Member(strings.ToUpper(name)); !ok || m.Name != name || m.Value != int64(i) {
			t.Errorf("paddingScheme member %s = %+v, %v", name, m, ok)
		}
		if n, ok := padding.NameOf(int64(i)); !ok || n != name {
			t.Errorf("NameOf(%d) = %q, %v", i, n, ok)
		}
	}
	if _, ok := padding.NameOf(6); ok {
		t.Error("NameOf(6) found a member")
	}
	if _, ok := padding.Member("oaep"); ok {
		t.Error("Member(oaep) found a member")
	}
}

// userNamespaceText is the namespace of the user ids, as the README documents it.
const userNamespaceText = "92712f70-341a-42f9-a919-9fd02f1d9ab8"

func TestUserIDAndKey(t *testing.T) {
	t.Parallel()
	if got := FormatGUID(userNamespace); got != userNamespaceText {
		t.Errorf("the user namespace is %s, want %s", got, userNamespaceText)
	}
	// RFC 9562 appendix A.4: the version 5 GUID of www.example.com in the DNS namespace.
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := NameGUID(dns, "www.example.com"); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("NameGUID(DNS, www.example.com) = %s", got)
	}
	upn := "Adele.Vance@Contoso.com"
	id := UserID(upn)
	if _, ok := ParseGUID(id); !ok || id[14] != '5' || !strings.ContainsAny(id[19:20], "89ab") {
		t.Errorf("UserID(%q) = %s, not a version 5 GUID", upn, id)
	}
	if got := NameGUID(userNamespace, "adele.vance@contoso.com"); got != id {
		t.Errorf("UserID is not NameGUID of the lower-cased UPN: %s, %s", id, got)
	}
	for _, tt := range []struct {
		name, upn, thumbprint, want string
	}{
		{"LowerCases", upn, "0FFFF8962FFFFDEA9FFFF8E83FFFF1D83FFFF6AE", strings.ReplaceAll(id, "-", "") + "-0ffff8962ffffdea9ffff8e83ffff1d83ffff6ae"},
		{"UPNCaseIgnored", strings.ToUpper(upn), "ab", strings.ReplaceAll(id, "-", "") + "-ab"},
		{"AnyThumbprint", "u", "O'Neil/é", strings.ReplaceAll(UserID("u"), "-", "") + "-o'neil/é"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := UserPfxKey(tt.upn, tt.thumbprint)
			if key != tt.want {
				t.Errorf("UserPfxKey(%q, %q) = %q, want %q", tt.upn, tt.thumbprint, key, tt.want)
			}
			if canon, ok := pfxType.Key(key); !ok || canon != key {
				t.Errorf("Key(%q) = %q, %v", key, canon, ok)
			}
			e := entity(pfxType, "", map[string]Value{"userPrincipalName": Str(tt.upn), "thumbprint": Str(tt.thumbprint)})
			if derived, err := pfxType.DeriveKey(e.Values); err != nil || derived != key {
				t.Errorf("DeriveKey = %q, %v; want %q", derived, err, key)
			}
		})
	}
}

// A thumbprint that makes no addressable key is refused when the key is derived (create and import).
func TestUserPfxDeriveKeyErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, thumbprint string
		ok               bool
	}{
		{"Empty", "", false},
		{"LongestASCII", strings.Repeat("A", MaxThumbprintLength), true},
		{"LongestMultibyte", strings.Repeat("É", MaxThumbprintLength), true},
		{"LowerCaseChangesBytes", strings.Repeat("\u0130\u023a", MaxThumbprintLength/2), true}, // İ→i, Ⱥ→ⱥ: other byte lengths
		{"TooLong", strings.Repeat("a", MaxThumbprintLength+1), false},
		{"Space", " ", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := entity(pfxType, "", map[string]Value{"userPrincipalName": Str("u@x"), "thumbprint": Str(tt.thumbprint)})
			key, err := pfxType.DeriveKey(e.Values)
			if !tt.ok {
				checkInvalid(t, err, CodeModelValidationFailure, "makes no key: it must not be empty and at most 128 characters long.")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if canon, ok := pfxType.Key(key); !ok || canon != key {
				t.Errorf("Key(%q) = %q, %v", key, canon, ok)
			}
		})
	}
	_, err := parseImport(`{"userPfxCertificates":[{"userPrincipalName":"u","thumbprint":""}]}`)
	checkInvalid(t, err, CodeModelValidationFailure, "userPfxCertificates 0: The thumbprint '' makes no key")
}

func TestEntityTypeKey(t *testing.T) {
	t.Parallel()
	user := strings.ReplaceAll(UserID("u@x"), "-", "")
	for _, tt := range []struct {
		name string
		t    *EntityType
		raw  string
		want string
		ok   bool
	}{
		{"GUID", connType, seedKey, seedKey, true},
		{"GUIDUpper", connType, strings.ToUpper(seedKey), seedKey, true},
		{"GUIDBad", connType, "x", "", false},
		{"Pfx", pfxType, user + "-abc", user + "-abc", true},
		{"PfxUpper", pfxType, strings.ToUpper(user) + "-ABC", user + "-abc", true},
		{"PfxAnyThumbprint", pfxType, user + "-O'Neil (1)/é", user + "-o'neil (1)/é", true},
		{"PfxLongestThumbprint", pfxType, user + "-" + strings.Repeat("é", MaxThumbprintLength), user + "-" + strings.Repeat("é", MaxThumbprintLength), true},
		{"PfxThumbprintTooLong", pfxType, user + "-" + strings.Repeat("a", MaxThumbprintLength+1), "", false},
		{"PfxEmptyThumbprint", pfxType, user + "-", "", false},
		{"PfxNoThumbprint", pfxType, user, "", false},
		{"PfxShortUser", pfxType, user[1:] + "-abc", "", false},
		{"PfxHyphenatedUser", pfxType, UserID("u@x") + "-abc", "", false},
		{"PfxNonHexUser", pfxType, "g" + user[1:] + "-abc", "", false},
		{"PfxNoSeparator", pfxType, user + "_abc", "", false},
		{"PfxNUL", pfxType, user + "-a\x00b", "", false},
		{"PfxInvalidUTF8", pfxType, user + "-a\xffb", "", false},
		{"PfxGUID", pfxType, seedKey, "", false},
		{"PfxEmpty", pfxType, "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.t.Key(tt.raw)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Key(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// toySet is the set of toyModel's toy type, compiled once.
var toySet = func() *EntitySet {
	m, err := NewModel(toyModel())
	if err != nil {
		panic(err)
	}
	return m.MustSet("toys")
}()

// toyModel is graphd's model plus a set of a toy type with every Edm type, for NewModel's tests.
func toyModel() *Model {
	m := GraphModel()
	color := &EnumType{Name: "toyColor", Members: []EnumMember{{"red", 0}, {"green", 1}}}
	m.Enums = append(m.Enums, color)
	m.Sets = append(m.Sets, &EntitySet{Name: "toys", Type: &EntityType{Name: "toy", KeyKind: KeyGUID, Properties: []Property{
		{Name: "id", Type: EdmString, Key: true},
		{Name: "name", Type: EdmString, Nullable: true, MaxLength: 10},
		{Name: "count", Type: EdmInt32},
		{Name: "total", Type: EdmInt64, Nullable: true},
		{Name: "active", Type: EdmBoolean},
		{Name: "color", Type: EdmEnum, Enum: color},
		{Name: "data", Type: EdmBinary, Nullable: true},
		{Name: "when", Type: EdmDateTimeOffset, Nullable: true},
	}}})
	return m
}

func TestNewModel(t *testing.T) {
	t.Parallel()
	m, err := NewModel(toyModel())
	if err != nil {
		t.Fatal(err)
	}
	toys := m.MustSet("toys")
	if toys.Path != "toys" || toys.Index != 2 || toys.Type.Qualified != "microsoft.graph.toy" ||
		toys.Type.MustProperty("color").TypeName() != "graph.toyColor" || toys.Type.MustProperty("total").TypeName() != "Edm.Int64" {
		t.Errorf("toys = %+v", toys)
	}
	for i, p := range toys.Type.Properties {
		if int(p.ID) != i {
			t.Errorf("property %s has id %d at %d", p.Name, p.ID, i)
		}
	}
	if !strings.Contains(m.MetadataDocument(), `<EntitySet Name="toys" EntityType="graph.toy" />`) {
		t.Errorf("the toy set is not in the CSDL:\n%s", m.MetadataDocument())
	}
}

// NewModel refuses models the layers cannot serve, naming what is wrong.
func TestNewModelErrors(t *testing.T) {
	t.Parallel()
	toy := func(m *Model) *EntityType { return m.Sets[2].Type }
	many := make([]Property, MaxProperties+1)
	many[0] = Property{Name: "id", Type: EdmString, Key: true}
	for i := 1; i < len(many); i++ {
		many[i] = Property{Name: "p" + strconv.Itoa(i), Type: EdmString, Nullable: true}
	}
	for _, tt := range []struct {
		name   string
		change func(m *Model)
		msg    string
	}{
		{"KeyNotFirst", func(m *Model) { p := toy(m).Properties; p[0], p[1] = p[1], p[0] },
			"type toy must start with its key property id (Edm.String)"},
		{"KeyNotString", func(m *Model) { toy(m).Properties[0].Type = EdmInt64 }, "must start with its key property id"},
		{"KeyNotMarked", func(m *Model) { toy(m).Properties[0].Key = false }, "must start with its key property id"},
		{"KeyNamedOtherwise", func(m *Model) { toy(m).Properties[0].Name = "key" }, "must start with its key property id"},
		{"NoProperties", func(m *Model) { toy(m).Properties = nil }, "must start with its key property id"},
		{"SecondKey", func(m *Model) { toy(m).Properties[1].Key = true }, "type toy: only id may be the key"},
		{"EnumWithoutEnumType", func(m *Model) { toy(m).Properties[5].Enum = nil },
			"type toy: property color: an enum needs its EnumType, and only an enum has one"},
		{"EnumTypeOnString", func(m *Model) { toy(m).Properties[1].Enum = m.Enums[0] }, "property name: an enum needs its EnumType"},
		{"EnumWithoutMembers", func(m *Model) { m.Enums[2].Members = nil }, "enum toyColor has no members"},
		{"ServerSetString", func(m *Model) { toy(m).Properties[1].ServerSet = SetOnCreate }, "property name: only DateTimeOffsets can be server-set"},
		{"DuplicateProperty", func(m *Model) { toy(m).Properties[2].Name = "name" }, `type toy: property name "name" is repeated or not an identifier`},
		{"PropertyNotIdentifier", func(m *Model) { toy(m).Properties[2].Name = "a b" }, `property name "a b" is repeated or not an identifier`},
		{"DuplicateSet", func(m *Model) { m.Sets[2].Name = "certificateConnectorDetails" }, "entity set certificateConnectorDetails is given twice"},
		{"DuplicateSetOtherCase", func(m *Model) { m.Sets[2].Name = "UserPfxCertificates" }, "entity set UserPfxCertificates is given twice"},
		{"SetWithoutName", func(m *Model) { m.Sets[2].Name = "" }, "entity set 2 has no name or type"},
		{"SetWithoutType", func(m *Model) { m.Sets[2].Type = nil }, "entity set 2 has no name or type"},
		{"StringKeyWithoutDerive", func(m *Model) { toy(m).KeyKind = KeyString }, "type toy has string keys but no DeriveKey or ParseKey"},
		{"TooManyProperties", func(m *Model) { toy(m).Properties = many }, "type toy has more than 64 properties"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := toyModel()
			tt.change(m)
			got, err := NewModel(m)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("NewModel = %v, %v; want an error containing %q", got, err, tt.msg)
			}
		})
	}
	t.Run("ExactlyMaxProperties", func(t *testing.T) {
		t.Parallel()
		m := toyModel()
		toy(m).Properties = many[:MaxProperties]
		if _, err := NewModel(m); err != nil {
			t.Errorf("NewModel with %d properties: %v", MaxProperties, err)
		}
	})
}

// Compiling copies of the model, as tests of other packages do, does not race with readers of Graph().
func TestGraphModelCopiesCompileConcurrently(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := NewModel(GraphModel()); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := ParseFilter(pfxType, "intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'vpn'", nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := GraphModel(); m.Sets[0].Type == connType {
		t.Error("GraphModel returns the compiled types, not copies")
	}
}

func TestNewEntityDefaults(t *testing.T) {
	t.Parallel()
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00+02:00")
	p := NewPatch(pfxType)
	p.SetName("thumbprint", Str("AB"))
	e := NewEntity(pfxType, "k", &p, now)
	for _, prop := range pfxType.Properties {
		v := e.Get(prop.Name)
		var want Value
		switch {
		case prop.Name == "id":
			want = Str("k")
		case prop.Name == "thumbprint":
			want = Str("AB")
		case prop.ServerSet != ClientSet:
			want = Time(now)
		case prop.Nullable:
			want = Null
		}
		if v != want {
			t.Errorf("%s = %+v, want %+v", prop.Name, v, want)
		}
	}
	if e.Version != 0 || e.Key() != "k" {
		t.Errorf("entity %s", showEntity(&e))
	}
}

func TestPatchSetAndMask(t *testing.T) {
	t.Parallel()
	p := NewPatch(pfxType)
	if p.Len() != 0 || p.Mask() != 0 {
		t.Fatalf("new patch sets %d", p.Len())
	}
	p.SetName("encryptedPfxBlob", Str("\x00\xff"))
	p.Set(pfxProp("lastModifiedDateTime"), Time(MaxDateTime))
	p.SetName("encryptedPfxBlob", Null)
	if p.Len() != 2 || p.Mask() != 1<<pfxProp("encryptedPfxBlob")|1<<pfxProp("lastModifiedDateTime") {
		t.Errorf("Len %d, Mask %#b", p.Len(), p.Mask())
	}
	if !p.Has(pfxProp("encryptedPfxBlob")) || p.Get(pfxProp("encryptedPfxBlob")) != Null || p.Has(pfxProp("keyName")) {
		t.Errorf("patch %+v", p)
	}
	e := entity(pfxType, "k", map[string]Value{"keyName": Str("kn")})
	p.Apply(&e)
	want := entity(pfxType, "k", map[string]Value{"keyName": Str("kn"), "lastModifiedDateTime": Time(MaxDateTime)})
	checkEntity(t, e, want)
}

func TestValueEqual(t *testing.T) {
	t.Parallel()
	a := mustParseDateTimeOffset(t, "2017-01-01T07:57:59.3726057Z")
	b := mustParseDateTimeOffset(t, "2016-12-31T23:57:59.3726057-08:00")
	for _, tt := range []struct {
		name string
		v, w Value
		typ  EdmType
		want bool
	}{
		{"NullNull", Null, Null, EdmString, true},
		{"NullEmpty", Null, Str(""), EdmString, false},
		{"Strings", Str("a"), Str("a"), EdmString, true},
		{"Bytes", Str("\x00"), Str("\x00\x00"), EdmBinary, false},
		{"SameInstantOtherOffset", Time(a), Time(b), EdmDateTimeOffset, false},
		{"SameTime", Time(b), Time(b), EdmDateTimeOffset, true},
		{"Enum", Int(4), Int(4), EdmEnum, true},
		{"Bool", Bool(true), Bool(false), EdmBoolean, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.v.Equal(tt.w, tt.typ); got != tt.want {
				t.Errorf("Equal = %v", got)
			}
		})
	}
}
