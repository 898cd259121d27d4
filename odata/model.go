package odata

import "crypto/rand"

// The names Graph gives the entity and its home.
const (
	Namespace      = "microsoft.graph"
	EntityTypeName = "certificateConnectorDetails"
	// QualifiedType is the value of @odata.type for the entity, without the leading '#'.
	QualifiedType = Namespace + "." + EntityTypeName
	// EntitySetPath is the entity collection's path below the service root: a collection contained in the
	// deviceManagement singleton.
	EntitySetPath = "deviceManagement/certificateConnectorDetails"
)

// DevTenantID is the fixed tenant that every request acts in until tokens say otherwise, that
// GRAPHD_AUTH=none uses, and that `graphd import` loads into by default.
const DevTenantID = "00000000-0000-4000-8000-000000000001"

// EdmType is the type of a property.
type EdmType uint8

const (
	EdmString EdmType = iota + 1
	EdmDateTimeOffset
)

func (t EdmType) String() string {
	switch t {
	case EdmString:
		return "Edm.String"
	case EdmDateTimeOffset:
		return "Edm.DateTimeOffset"
	}
	return "Edm.Unknown"
}

// PropertyID indexes Properties; its order is the documented member order of the entity.
type PropertyID uint8

const (
	PropID PropertyID = iota
	PropConnectorName
	PropMachineName
	PropEnrollmentDateTime
	PropLastCheckinDateTime
	PropConnectorVersion
	NumProperties
)

// Property describes one structural property of the entity.
type Property struct {
	ID       PropertyID
	Name     string // the JSON and $filter name, case-sensitive
	Type     EdmType
	Nullable bool
	Key      bool // the key is set by the server and cannot change
}

// Properties is the entity model, in the documented member order.
var Properties = [NumProperties]Property{
	{ID: PropID, Name: "id", Type: EdmString, Key: true},
	{ID: PropConnectorName, Name: "connectorName", Type: EdmString, Nullable: true},
	{ID: PropMachineName, Name: "machineName", Type: EdmString, Nullable: true},
	{ID: PropEnrollmentDateTime, Name: "enrollmentDateTime", Type: EdmDateTimeOffset},
	{ID: PropLastCheckinDateTime, Name: "lastCheckinDateTime", Type: EdmDateTimeOffset},
	{ID: PropConnectorVersion, Name: "connectorVersion", Type: EdmString, Nullable: true},
}

// LookupProperty finds a property by its exact (case-sensitive) name.
func LookupProperty(name string) (*Property, bool) {
	for i := range Properties {
		if Properties[i].Name == name {
			return &Properties[i], true
		}
	}
	return nil, false
}

// NullString is a nullable Edm.String.
type NullString struct {
	Value string
	Valid bool
}

// Str makes a non-null NullString.
func Str(s string) NullString { return NullString{Value: s, Valid: true} }

// Connector is one certificateConnectorDetails entity as stored.
type Connector struct {
	ID                  string // lower-case GUID
	ConnectorName       NullString
	MachineName         NullString
	EnrollmentDateTime  DateTimeOffset
	LastCheckinDateTime DateTimeOffset
	ConnectorVersion    NullString
	Version             int64 // bumped by every change; the ETag
}

// Value is one property value in a Patch: a string (or null) for Edm.String, a DateTimeOffset otherwise.
type Value struct {
	Null bool
	Str  string
	Time DateTimeOffset
}

// Patch is a validated partial update: the properties it sets, in model order, and their values.
type Patch struct {
	set    uint16
	values [NumProperties]Value
}

// Has reports whether the patch sets property p.
func (p *Patch) Has(id PropertyID) bool { return p.set&(1<<id) != 0 }

// Get returns the value the patch sets for property p.
func (p *Patch) Get(id PropertyID) Value { return p.values[id] }

// Set records a value for property p.
func (p *Patch) Set(id PropertyID, v Value) {
	p.set |= 1 << id
	p.values[id] = v
}

// Len counts the properties the patch sets.
func (p *Patch) Len() int {
	n := 0
	for s := p.set; s != 0; s &= s - 1 {
		n++
	}
	return n
}

// Apply writes the patch's values into c.
func (p *Patch) Apply(c *Connector) {
	for id := PropID + 1; id < NumProperties; id++ {
		if !p.Has(id) {
			continue
		}
		v := p.values[id]
		switch id {
		case PropConnectorName:
			c.ConnectorName = v.nullString()
		case PropMachineName:
			c.MachineName = v.nullString()
		case PropConnectorVersion:
			c.ConnectorVersion = v.nullString()
		case PropEnrollmentDateTime:
			c.EnrollmentDateTime = v.Time
		case PropLastCheckinDateTime:
			c.LastCheckinDateTime = v.Time
		}
	}
}

func (v Value) nullString() NullString {
	if v.Null {
		return NullString{}
	}
	return Str(v.Str)
}

// NewConnector builds the entity a create (POST) or an import makes from a payload: properties the payload
// omits are null, or 0001-01-01T00:00:00Z for the non-nullable timestamps, as Intune does.
func NewConnector(id string, p *Patch) Connector {
	c := Connector{ID: id, EnrollmentDateTime: ZeroDateTimeOffset, LastCheckinDateTime: ZeroDateTimeOffset}
	p.Apply(&c)
	return c
}

// ParseGUID accepts a GUID in the 8-4-4-4-12 form, in any case, and returns it in lower case.
func ParseGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	var b [36]byte
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
			default:
				return "", false
			}
		}
		b[i] = c
	}
	return string(b[:]), true
}

// FormatGUID writes 16 bytes as a lower-case GUID.
func FormatGUID(b [16]byte) string {
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[v>>4], hex[v&0xF]
		j += 2
	}
	return string(out[:])
}

// NewGUID makes a random (version 4) GUID in lower case, for entity ids and request ids.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return FormatGUID(b)
}
