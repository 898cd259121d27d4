package odata

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// The part of Graph's beta model graphd serves: Intune's certificate connector records and the user PFX
// certificates the connector delivers (contract §1; docs and CSDL of userPFXCertificate).

// The permissions every Intune set here takes: reads need Read.All or ReadWrite.All, writes ReadWrite.All.
const (
	PermReadAll      = "DeviceManagementConfiguration.Read.All"
	PermReadWriteAll = "DeviceManagementConfiguration.ReadWrite.All"
)

var deviceManagementPermissions = Permissions{
	Read:  []string{PermReadAll, PermReadWriteAll},
	Write: []string{PermReadWriteAll},
}

// Names of the sets, for the code that is specific to one (the connectors' actions and samples).
const (
	ConnectorsSet = "certificateConnectorDetails"
	UserPfxSet    = "userPfxCertificates"
)

var (
	intendedPurpose = &EnumType{Name: "userPfxIntendedPurpose", Members: []EnumMember{
		{"unassigned", 0}, {"smimeEncryption", 1}, {"smimeSigning", 2}, {"vpn", 4}, {"wifi", 8},
	}}
	paddingScheme = &EnumType{Name: "userPfxPaddingScheme", Members: []EnumMember{
		{"none", 0}, {"pkcs1", 1}, {"oaepSha1", 2}, {"oaepSha256", 3}, {"oaepSha384", 4}, {"oaepSha512", 5},
	}}
)

func connectorType() *EntityType {
	return &EntityType{
		Name:    "certificateConnectorDetails",
		KeyKind: KeyGUID,
		Properties: []Property{
			{Name: "id", Type: EdmString, Key: true},
			{Name: "connectorName", Type: EdmString, Nullable: true},
			{Name: "machineName", Type: EdmString, Nullable: true},
			{Name: "enrollmentDateTime", Type: EdmDateTimeOffset},
			{Name: "lastCheckinDateTime", Type: EdmDateTimeOffset},
			{Name: "connectorVersion", Type: EdmString, Nullable: true},
		},
	}
}

// MaxThumbprintLength bounds a userPFXCertificate's thumbprint, and so its key.
const MaxThumbprintLength = 128

// userNamespace is the namespace of the name-based GUIDs that stand for users' object ids: graphd has no
// directory, so a user's id is NameGUID(userNamespace, lower-cased userPrincipalName).
var userNamespace = [16]byte{0x92, 0x71, 0x2f, 0x70, 0x34, 0x1a, 0x42, 0xf9, 0xa9, 0x19, 0x9f, 0xd0, 0x2f, 0x1d, 0x9a, 0xb8}

// UserID is the object id graphd gives the user of a UPN: the version 5 GUID of the lower-cased UPN in the
// namespace 92712f70-341a-42f9-a919-9fd02f1d9ab8.
func UserID(upn string) string { return NameGUID(userNamespace, strings.ToLower(upn)) }

// UserPfxKey is the key of a user PFX certificate: the user's id as 32 hex digits without hyphens, '-', and the
// lower-cased thumbprint, as Intune forms it.
func UserPfxKey(upn, thumbprint string) string {
	return strings.ReplaceAll(UserID(upn), "-", "") + "-" + strings.ToLower(thumbprint)
}

func userPfxType() *EntityType {
	t := &EntityType{
		Name:    "userPFXCertificate",
		KeyKind: KeyString,
		Properties: []Property{
			{Name: "id", Type: EdmString, Key: true},
			{Name: "thumbprint", Type: EdmString, Nullable: true, Required: true, Immutable: true, MaxLength: MaxThumbprintLength},
			{Name: "intendedPurpose", Type: EdmEnum, Enum: intendedPurpose},
			{Name: "userPrincipalName", Type: EdmString, Nullable: true, Required: true, Immutable: true},
			{Name: "startDateTime", Type: EdmDateTimeOffset},
			{Name: "expirationDateTime", Type: EdmDateTimeOffset},
			{Name: "providerName", Type: EdmString, Nullable: true},
			{Name: "keyName", Type: EdmString, Nullable: true},
			{Name: "paddingScheme", Type: EdmEnum, Enum: paddingScheme},
			{Name: "encryptedPfxBlob", Type: EdmBinary, Nullable: true, Secret: true, Redacted: Str("\x00")},
			{Name: "encryptedPfxPassword", Type: EdmString, Nullable: true, Secret: true, Redacted: Str("")},
			{Name: "createdDateTime", Type: EdmDateTimeOffset, ServerSet: SetOnCreate},
			{Name: "lastModifiedDateTime", Type: EdmDateTimeOffset, ServerSet: SetOnWrite},
		},
	}
	const thumbprint, upn = 1, 3
	t.DeriveKey = func(v []Value) (string, error) {
		// Required properties are checked before keys are derived, so both are non-null here.
		key := UserPfxKey(v[upn].Str, v[thumbprint].Str)
		// A key that ParseKey refuses could never be addressed: that of an empty thumbprint. (Lower-casing maps
		// code point to code point, so it cannot make a thumbprint longer than the limit.)
		if k, ok := parseUserPfxKey(key); !ok || k != key {
			return "", invalid("The thumbprint '%s' makes no key: it must not be empty and at most %d characters long.",
				quoteText(v[thumbprint].Str), MaxThumbprintLength)
		}
		return key, nil
	}
	t.ParseKey = parseUserPfxKey
	return t
}

// parseUserPfxKey accepts {32 hex digits}-{thumbprint} in any case and returns it in lower case, the form keys
// are made in.
func parseUserPfxKey(raw string) (string, bool) {
	if len(raw) < 34 || raw[32] != '-' {
		return "", false
	}
	for i := 0; i < 32; i++ {
		c := raw[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	tp := raw[33:]
	if !utf8.ValidString(tp) || utf8.RuneCountInString(tp) > MaxThumbprintLength || strings.IndexByte(tp, 0) >= 0 {
		return "", false
	}
	return strings.ToLower(raw), true
}

var (
	graphOnce  sync.Once
	graphModel *Model
)

// Graph is the model graphd serves, compiled once.
func Graph() *Model {
	graphOnce.Do(func() {
		m, err := NewModel(GraphModel())
		if err != nil {
			panic(err)
		}
		graphModel = m
	})
	return graphModel
}

// GraphModel returns a new, uncompiled copy of graphd's model, for NewModel; tests extend it with entity sets of
// their own.
func GraphModel() *Model {
	return &Model{
		Enums: []*EnumType{intendedPurpose, paddingScheme},
		Sets: []*EntitySet{
			{
				Name: ConnectorsSet, Container: "deviceManagement", Type: connectorType(),
				Permissions: deviceManagementPermissions,
				Description: "Collection of certificate connector details, each associated with a corresponding Intune Certificate Connector.",
				Actions: []Action{
					{Name: "getHealthMetrics", Parameters: []Parameter{{"metricNames", "Collection(Edm.String)"}},
						ReturnType: "Collection(graph.keyLongValuePair)"},
					{Name: "getHealthMetricTimeSeries", Parameters: []Parameter{{"timeSeries", "graph.timeSeriesParameter"}},
						ReturnType: "Collection(graph.certificateConnectorHealthMetricValue)"},
				},
			},
			{
				Name: UserPfxSet, Container: "deviceManagement", Type: userPfxType(),
				Permissions: deviceManagementPermissions,
				Description: "Collection of PFX certificates associated with a user.",
			},
		},
		ComplexTypes: []ComplexType{
			{Name: "keyLongValuePair", Properties: []ComplexProperty{{"name", "Edm.String", false}, {"value", "Edm.Int64", false}}},
			{Name: "timeSeriesParameter", Properties: []ComplexProperty{
				{"metricName", "Edm.String", true}, {"startDateTime", "Edm.DateTimeOffset", false}, {"endDateTime", "Edm.DateTimeOffset", true}}},
			{Name: "certificateConnectorHealthMetricValue", Properties: []ComplexProperty{
				{"dateTime", "Edm.DateTimeOffset", false}, {"successCount", "Edm.Int64", false}, {"failureCount", "Edm.Int64", false}}},
		},
	}
}

var (
	userOnce sync.Once
	userType *EntityType
)

// UserType is the little of microsoft.graph.user graphd answers: its id and userPrincipalName. graphd has no
// directory; it serves GET /users?$filter=userPrincipalName eq '…' only, because Intune's PFX import module looks
// a user's id up that way before it updates or deletes the user's certificates.
func UserType() *EntityType {
	userOnce.Do(func() {
		t := &EntityType{Name: "user", KeyKind: KeyGUID, Properties: []Property{
			{Name: "id", Type: EdmString, Key: true},
			{Name: "userPrincipalName", Type: EdmString, Nullable: true},
		}}
		if err := compileType(t); err != nil {
			panic(err)
		}
		userType = t
	})
	return userType
}
