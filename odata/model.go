package odata

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"strings"
)

// The entity model as data. Every layer reads it: payload parsing, the JSON encoder, the $filter/$orderby/$select
// parsers, the store's SQL (which derives table and column names from the names here by a fixed rule), the
// routes and the CSDL document. A Model is compiled once (NewModel) and then only read, so a request never
// reflects over types or looks names up in maps.

// Namespace is the schema namespace of every type graphd serves.
const Namespace = "microsoft.graph"

// DevTenantID is the fixed tenant that GRAPHD_AUTH=none acts in and that `graphd import` and `graphd token` use
// by default.
const DevTenantID = "00000000-0000-4000-8000-000000000001"

// MaxProperties bounds the properties of an entity type: $select and patches keep them in a 64-bit set.
const MaxProperties = 64

// EdmType is the type of a structural property.
type EdmType uint8

const (
	EdmString EdmType = iota + 1
	EdmDateTimeOffset
	EdmBinary
	EdmBoolean
	EdmInt32
	EdmInt64
	EdmEnum
)

func (t EdmType) String() string {
	switch t {
	case EdmString:
		return "Edm.String"
	case EdmDateTimeOffset:
		return "Edm.DateTimeOffset"
	case EdmBinary:
		return "Edm.Binary"
	case EdmBoolean:
		return "Edm.Boolean"
	case EdmInt32:
		return "Edm.Int32"
	case EdmInt64:
		return "Edm.Int64"
	case EdmEnum:
		return "Edm.Enum"
	}
	return "Edm.Unknown"
}

// EnumMember is one named value of an enum type.
type EnumMember struct {
	Name  string
	Value int64
}

// EnumType is a non-flags enumeration.
type EnumType struct {
	Name    string // unqualified, e.g. "userPfxIntendedPurpose"
	Members []EnumMember
	// Qualified is Namespace + "." + Name, set by NewModel.
	Qualified string
}

// Member finds a member by name, ignoring case: PowerShell's serializer sends "SmimeEncryption".
func (e *EnumType) Member(name string) (EnumMember, bool) {
	for _, m := range e.Members {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return EnumMember{}, false
}

// NameOf returns the member name of a value.
func (e *EnumType) NameOf(v int64) (string, bool) {
	for _, m := range e.Members {
		if m.Value == v {
			return m.Name, true
		}
	}
	return "", false
}

// PropertyID indexes EntityType.Properties: the documented member order, the key first.
type PropertyID uint8

// ServerSet says whether the server, not the client, keeps a property's value.
type ServerSet uint8

const (
	ClientSet   ServerSet = iota // the client's value is stored
	SetOnCreate                  // the time of creation; a client value is accepted and ignored
	SetOnWrite                   // the time of the last change; a client value is accepted and ignored
)

// Property describes one structural property.
type Property struct {
	Name     string // the JSON and $filter name, case-sensitive
	Type     EdmType
	Enum     *EnumType // EdmEnum only
	Nullable bool
	// Key marks the key property, always the first and named id.
	Key bool
	// ServerSet: SetOnCreate and SetOnWrite properties are DateTimeOffsets the server sets.
	ServerSet ServerSet
	// Required: a create must give a non-null value. Immutable: after the create a PATCH may only repeat the
	// stored value (400 otherwise).
	Required, Immutable bool
	// MaxLength bounds an Edm.String in characters (0: no bound of the model's own).
	MaxLength int
	// Secret values are redacted on read (GET of the entity or the collection) and cannot be filtered or
	// ordered by; Redacted is what a read shows instead.
	Secret   bool
	Redacted Value

	// Set by NewModel.
	ID        PropertyID
	typeName  string // for messages and the CSDL: "Edm.String", "graph.userPfxIntendedPurpose"
	memberKey string // `"name":`
}

// TypeName is the property's type as the CSDL and ODataLib's messages name it.
func (p *Property) TypeName() string { return p.typeName }

// KeyKind is the kind of an entity type's key.
type KeyKind uint8

const (
	KeyGUID   KeyKind = iota // Edm.String holding a GUID, compared in any case, stored as uuid
	KeyString                // any other string, derived from the entity's values
)

// EntityType describes an entity type.
type EntityType struct {
	Name       string // unqualified, e.g. "certificateConnectorDetails"
	Properties []Property
	KeyKind    KeyKind
	// DeriveKey computes a KeyString entity's key from its values on create and import; it returns a
	// validation error for values that make no key. GUID keys are random on create.
	DeriveKey func(values []Value) (string, error)
	// ParseKey reads a KeyString key from a URL into its canonical form; false means no entity can have it (404).
	ParseKey func(raw string) (string, bool)

	// Set by NewModel.
	Qualified  string // "microsoft.graph.certificateConnectorDetails"
	annotation string // `"@odata.type":"#microsoft.graph.…",`
	allProps   uint64 // every property bit
}

// Property returns the property of a name (exact case), for the parsers. Linear: types have a dozen properties.
func (t *EntityType) Property(name string) (*Property, bool) {
	for i := range t.Properties {
		if t.Properties[i].Name == name {
			return &t.Properties[i], true
		}
	}
	return nil, false
}

// MustProperty is Property for names the code itself knows; it panics on a typo.
func (t *EntityType) MustProperty(name string) *Property {
	p, ok := t.Property(name)
	if !ok {
		panic("odata: " + t.Name + " has no property " + name)
	}
	return p
}

// Key parses a key as it appears in a URL into its canonical form; false means no entity can have it.
func (t *EntityType) Key(raw string) (string, bool) {
	if t.KeyKind == KeyGUID {
		return ParseGUID(raw)
	}
	return t.ParseKey(raw)
}

// Permissions names what an operation needs: one of the listed permissions, from scp or roles. An empty list
// means any valid token.
type Permissions struct {
	Read, Write []string
}

// Parameter is an action parameter, for the CSDL.
type Parameter struct{ Name, Type string }

// Action is a bound action of an entity set's type. Its behaviour is code (httpapi routes it by name); the model
// names it, its access, and its signature for the CSDL.
type Action struct {
	Name       string
	Write      bool // needs the set's write permissions, else its read permissions
	Parameters []Parameter
	ReturnType string
}

// EntitySet is a collection graphd serves: its URL, its type, who may use it and its bound actions.
type EntitySet struct {
	Name string // the URL segment, e.g. "certificateConnectorDetails"
	// Container is the singleton the set is a contained navigation property of ("deviceManagement").
	Container   string
	Type        *EntityType
	Permissions Permissions
	Actions     []Action
	// Description annotates the navigation property in the CSDL.
	Description string

	// Set by NewModel.
	Path  string // below the service root: "deviceManagement/certificateConnectorDetails"
	Index int    // position in Model.Sets
}

// ComplexType is a structured type without a key, for the CSDL (the actions' parameters and results).
type ComplexType struct {
	Name       string
	Properties []ComplexProperty
}

// ComplexProperty is a property of a complex type.
type ComplexProperty struct {
	Name     string
	Type     string // "Edm.String", "graph.x"
	Nullable bool
}

// Model is every entity set graphd serves, compiled.
type Model struct {
	Sets         []*EntitySet
	Enums        []*EnumType
	ComplexTypes []ComplexType
	metadata     string // the CSDL document
}

// Set finds a set by its URL segment name, ignoring case (Graph resolves service-defined segments so).
func (m *Model) Set(name string) (*EntitySet, bool) {
	for _, s := range m.Sets {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return nil, false
}

// MustSet is Set for names the code itself knows.
func (m *Model) MustSet(name string) *EntitySet {
	s, ok := m.Set(name)
	if !ok {
		panic("odata: the model has no entity set " + name)
	}
	return s
}

// MetadataDocument is the CSDL XML of the model.
func (m *Model) MetadataDocument() string { return m.metadata }

// NewModel checks and compiles a model. Errors name the offending set, type or property.
func NewModel(m *Model) (*Model, error) {
	for _, e := range m.Enums {
		// Enum types are shared between the copies GraphModel returns: write only what is not yet so, so that
		// compiling a copy does not race with readers of the compiled Graph().
		if q := Namespace + "." + e.Name; e.Qualified != q {
			e.Qualified = q
		}
		if len(e.Members) == 0 {
			return nil, fmt.Errorf("odata: enum %s has no members", e.Name)
		}
	}
	seenTypes := map[*EntityType]bool{}
	names := map[string]bool{}
	for i, s := range m.Sets {
		s.Index = i
		if s.Name == "" || s.Type == nil {
			return nil, fmt.Errorf("odata: entity set %d has no name or type", i)
		}
		if names[strings.ToLower(s.Name)] {
			return nil, fmt.Errorf("odata: entity set %s is given twice", s.Name)
		}
		names[strings.ToLower(s.Name)] = true
		s.Path = s.Name
		if s.Container != "" {
			s.Path = s.Container + "/" + s.Name
		}
		if seenTypes[s.Type] {
			continue
		}
		seenTypes[s.Type] = true
		if err := compileType(s.Type); err != nil {
			return nil, err
		}
	}
	m.metadata = buildCSDL(m)
	return m, nil
}

func compileType(t *EntityType) error {
	if len(t.Properties) == 0 || t.Properties[0].Name != "id" || !t.Properties[0].Key || t.Properties[0].Type != EdmString {
		return fmt.Errorf("odata: type %s must start with its key property id (Edm.String)", t.Name)
	}
	if len(t.Properties) > MaxProperties {
		return fmt.Errorf("odata: type %s has more than %d properties", t.Name, MaxProperties)
	}
	if t.KeyKind == KeyString && (t.DeriveKey == nil || t.ParseKey == nil) {
		return fmt.Errorf("odata: type %s has string keys but no DeriveKey or ParseKey", t.Name)
	}
	t.Qualified = Namespace + "." + t.Name
	t.annotation = `"@odata.type":"#` + t.Qualified + `",`
	t.allProps = 0
	seen := map[string]bool{}
	for i := range t.Properties {
		p := &t.Properties[i]
		if seen[p.Name] || !isIdentifier(p.Name) {
			return fmt.Errorf("odata: type %s: property name %q is repeated or not an identifier", t.Name, p.Name)
		}
		seen[p.Name] = true
		if i > 0 && p.Key {
			return fmt.Errorf("odata: type %s: only id may be the key", t.Name)
		}
		if (p.Type == EdmEnum) != (p.Enum != nil) {
			return fmt.Errorf("odata: type %s: property %s: an enum needs its EnumType, and only an enum has one", t.Name, p.Name)
		}
		if p.ServerSet != ClientSet && p.Type != EdmDateTimeOffset {
			return fmt.Errorf("odata: type %s: property %s: only DateTimeOffsets can be server-set", t.Name, p.Name)
		}
		p.ID = PropertyID(i)
		p.memberKey = `"` + p.Name + `":`
		p.typeName = p.Type.String()
		if p.Type == EdmEnum {
			p.typeName = "graph." + p.Enum.Name
			if p.Enum.Qualified == "" {
				p.Enum.Qualified = Namespace + "." + p.Enum.Name
			}
		}
		t.allProps |= 1 << uint(i)
	}
	return nil
}

// Value is one property value: Str holds an Edm.String or the bytes of an Edm.Binary; Int an Int32, Int64, enum
// value or Boolean (0 or 1); Time a DateTimeOffset.
type Value struct {
	Null bool
	Str  string
	Int  int64
	Time DateTimeOffset
}

// Str makes a non-null string value.
func Str(s string) Value { return Value{Str: s} }

// Null is the null value.
var Null = Value{Null: true}

// Time makes a DateTimeOffset value.
func Time(d DateTimeOffset) Value { return Value{Time: d} }

// Int makes an integer, enum or Boolean value.
func Int(n int64) Value { return Value{Int: n} }

// Bool makes a Boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Int: 1}
	}
	return Value{}
}

// Equal reports whether two values of a property's type are the same value (DateTimeOffsets by instant and
// offset, so the value as written).
func (v Value) Equal(w Value, t EdmType) bool {
	if v.Null || w.Null {
		return v.Null == w.Null
	}
	switch t {
	case EdmString, EdmBinary:
		return v.Str == w.Str
	case EdmDateTimeOffset:
		return v.Time == w.Time
	}
	return v.Int == w.Int
}

// Entity is one stored entity: its values in property order (Values[0] is the key) and its version, the ETag.
type Entity struct {
	Type    *EntityType
	Values  []Value
	Version int64
}

// Key returns the entity's key.
func (e *Entity) Key() string { return e.Values[0].Str }

// Get returns the value of a property by name (for tests and tools; the hot path indexes Values).
func (e Entity) Get(name string) Value { return e.Values[e.Type.MustProperty(name).ID] }

// Set sets the value of a property by name.
func (e *Entity) Set(name string, v Value) { e.Values[e.Type.MustProperty(name).ID] = v }

// Patch is a validated partial update: the properties it sets and their values.
type Patch struct {
	Type   *EntityType
	set    uint64
	values []Value
}

// NewPatch returns an empty patch of a type.
func NewPatch(t *EntityType) Patch { return Patch{Type: t, values: make([]Value, len(t.Properties))} }

// Has reports whether the patch sets property id.
func (p *Patch) Has(id PropertyID) bool { return p.set&(1<<id) != 0 }

// Get returns the value the patch sets for property id.
func (p *Patch) Get(id PropertyID) Value { return p.values[id] }

// Set records a value for property id.
func (p *Patch) Set(id PropertyID, v Value) {
	p.set |= 1 << id
	p.values[id] = v
}

// SetName records a value for a property by name (tests and tools).
func (p *Patch) SetName(name string, v Value) { p.Set(p.Type.MustProperty(name).ID, v) }

// Mask is the set of properties the patch sets, a bit per PropertyID.
func (p *Patch) Mask() uint64 { return p.set }

// Len counts the properties the patch sets.
func (p *Patch) Len() int {
	n := 0
	for s := p.set; s != 0; s &= s - 1 {
		n++
	}
	return n
}

// Apply writes the patch's values into e.
func (p *Patch) Apply(e *Entity) {
	for s := p.set; s != 0; s &= s - 1 {
		id := trailingZeros(s)
		e.Values[id] = p.values[id]
	}
}

func trailingZeros(s uint64) int {
	n := 0
	for s&1 == 0 {
		s >>= 1
		n++
	}
	return n
}

// NewEntity builds the entity a create or an import makes from a patch: properties the patch omits are null,
// 0001-01-01T00:00:00Z for non-nullable DateTimeOffsets (Intune's value for a time never set), the member of
// value 0 for non-nullable enums, false and 0 for non-nullable Booleans and integers.
// Server-set times the patch omits are now.
func NewEntity(t *EntityType, key string, p *Patch, now DateTimeOffset) Entity {
	e := Entity{Type: t, Values: make([]Value, len(t.Properties))}
	for i := range t.Properties {
		prop := &t.Properties[i]
		switch {
		case prop.ServerSet != ClientSet:
			e.Values[i] = Time(now)
		case prop.Nullable:
			e.Values[i] = Null
		}
	}
	if p != nil {
		p.Apply(&e)
	}
	e.Values[0] = Str(key)
	return e
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

// NameGUID is the name-based (version 5, SHA-1) GUID of name in namespace ns, RFC 9562 section 5.5.
func NameGUID(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return FormatGUID(b)
}
