package odatatest

import (
	"math/rand/v2"
	"strings"

	"github.com/graphd/graphd/odata"
)

// maxChars is where the SQL side clamps string positions (int4 arguments of substr): worth a literal or two.
const maxChars = 1 << 30

// EdgeStrings are string values that comparisons, case mapping, trimming, LIKE patterns and quoting trip over.
func EdgeStrings() []string {
	return []string{
		"", " ", "  ", "a", "A", "b", "ab", "abc", "ABC", "Abc", "abcabc", " a", "a ", " a b ", "\ta\t",
		"O'Neil", "'", "''", "%", "100%", "a%b", "_", "a_b", "%_\\", `\`, `a\_b`, "[a]", `"q"`, "(", ")", ",",
		"é", "É", "e\u0301", "ß", "SS", "ss", "ẞ", "İ", "i", "I", "ı", "ǅ", "Ǆ", "ǆ", "😀", "a😀b", "😀😀",
		"Émile", "émile", "emile", "alpha", "Alpha", "zeta", "Zeta", "日本語", "~", "\u007f", "\uffff", "\U0010ffff",
		"a\U0010ffff", "\ud7ff", "\ue000", "Connector Name value", "1.0", "1.10", "1.9", "2", "10",
	}
}

// EdgeTimes are DateTimeOffset values at the ends of the range, at day, leap-day and offset boundaries, and one
// instant in several offsets (equal instants, different local dates).
func EdgeTimes() []odata.DateTimeOffset {
	texts := []string{
		"0001-01-01T00:00:00Z", "0001-01-01T14:00:00+14:00", "0001-01-01T00:01:00.0000001+00:01",
		"9999-12-31T23:59:59.9999999Z", "9999-12-31T09:59:59.9999999-14:00", "9999-12-31T23:58:59.9999998-00:01",
		"2016-12-31T23:57:59.3726057-08:00", "2017-01-01T07:57:59.3726057Z", "2017-01-01T21:57:59.3726057+14:00",
		"2016-12-31T17:57:59.3726057-14:00", "2016-12-31T23:57:59.3726058-08:00", "2016-12-31T23:57:59.3726056-08:00",
		"2017-01-01T00:02:46.0431416-08:00", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.9999999Z",
		"2024-02-29T23:59:59.9999999Z", "2024-02-29T00:00:00+01:00", "2000-01-01T00:00:00-14:00",
		"2000-01-01T05:30:30.5+05:30", "2000-01-01T00:00:00.5Z",
	}
	out := make([]odata.DateTimeOffset, len(texts))
	for i, s := range texts {
		d, ok := odata.ParseDateTimeOffset(s)
		if !ok {
			panic("odatatest: bad edge time " + s)
		}
		out[i] = d
	}
	return out
}

func randomOffset(r *rand.Rand) int16 {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return []int16{60, -60, -480, 330, 345, -210, odata.MaxOffsetMinutes, -odata.MaxOffsetMinutes, 1, -1}[r.IntN(10)]
	}
	return int16(r.IntN(2*odata.MaxOffsetMinutes+1) - odata.MaxOffsetMinutes)
}

// validOffset keeps d's instant and replaces an offset that would put its local time out of range by Z.
func validOffset(d odata.DateTimeOffset) odata.DateTimeOffset {
	if !d.Valid() {
		d.Offset = 0
	}
	return d
}

// EntityGen makes entities of one type whose values collide (so orderings have ties and equality hits) and
// include the edge values: nulls, empty and padded strings, quotes, LIKE metacharacters, non-ASCII letters with
// special case mappings, emoji, offsets of ±14:00, the first and last instants, every enum member, empty and
// NUL-holding binary values. Every entity is one the API can create and address: required properties are not
// null, strings keep to MaxLength, and each key is new and valid (GUID keys random, string keys derived).
type EntityGen struct {
	R       *rand.Rand
	Type    *odata.EntityType
	Strings []string
	Times   []odata.DateTimeOffset
	keys    map[string]bool
}

// ConnectorGen is the EntityGen of certificateConnectorDetails, by its former name.
type ConnectorGen = EntityGen

// NewEntityGen returns a generator of entities of t drawing on r, with the edge values as its pools.
func NewEntityGen(r *rand.Rand, t *odata.EntityType) *EntityGen {
	return &EntityGen{R: r, Type: t, Strings: EdgeStrings(), Times: EdgeTimes()}
}

// NewConnectorGen returns a generator of certificateConnectorDetails of odata.Graph().
func NewConnectorGen(r *rand.Rand) *EntityGen {
	return NewEntityGen(r, odata.Graph().MustSet(odata.ConnectorsSet).Type)
}

// NewUserPfxGen returns a generator of userPFXCertificates of odata.Graph().
func NewUserPfxGen(r *rand.Rand) *EntityGen {
	return NewEntityGen(r, odata.Graph().MustSet(odata.UserPfxSet).Type)
}

// Entity makes one entity with a key no earlier call of this generator returned. Its Version is 0.
func (g *EntityGen) Entity() odata.Entity {
	if g.keys == nil {
		g.keys = make(map[string]bool)
	}
	t := g.Type
	e := odata.Entity{Type: t, Values: make([]odata.Value, len(t.Properties))}
	for i := 1; i < len(t.Properties); i++ {
		e.Values[i] = g.value(&t.Properties[i])
	}
	if t.KeyKind == odata.KeyGUID {
		e.Values[0] = odata.Str(g.guid())
		return e
	}
	for try := 0; ; try++ {
		key, err := t.DeriveKey(e.Values)
		if canon, ok := t.Key(key); err == nil && ok && canon == key && !g.keys[key] {
			g.keys[key] = true
			e.Values[0] = odata.Str(key)
			return e
		}
		// The key is taken or is no valid key: draw the required values again, after a while from a wider
		// pool, which random hex soon makes unique.
		for i := 1; i < len(t.Properties); i++ {
			if p := &t.Properties[i]; p.Required {
				e.Values[i] = g.value(p)
				if try > 20 && p.Type == odata.EdmString {
					e.Values[i] = odata.Str(g.hex(1 + g.R.IntN(40)))
				}
			}
		}
	}
}

// Entities makes n entities.
func (g *EntityGen) Entities(n int) []odata.Entity {
	out := make([]odata.Entity, n)
	for i := range out {
		out[i] = g.Entity()
	}
	return out
}

// Connector is Entity, by the name callers of a ConnectorGen use.
func (g *EntityGen) Connector() odata.Entity { return g.Entity() }

// Connectors is Entities, by the name callers of a ConnectorGen use.
func (g *EntityGen) Connectors(n int) []odata.Entity { return g.Entities(n) }

func (g *EntityGen) guid() string {
	for {
		var b [16]byte
		for i := range b {
			b[i] = byte(g.R.UintN(256))
		}
		if g.R.IntN(8) == 0 {
			b[0] = 0 // ids that share a long prefix
			b[1] = byte(g.R.IntN(2))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		id := odata.FormatGUID(b)
		if !g.keys[id] {
			g.keys[id] = true
			return id
		}
	}
}

func (g *EntityGen) hex(n int) string {
	const digits = "0123456789abcdefABCDEF"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.R.IntN(len(digits))]
	}
	return string(b)
}

// value draws a value of property p.
func (g *EntityGen) value(p *odata.Property) odata.Value {
	if p.Nullable && !p.Required && g.R.IntN(6) == 0 {
		return odata.Null
	}
	switch p.Type {
	case odata.EdmString:
		s := g.str(p)
		if p.MaxLength > 0 {
			if r := []rune(s); len(r) > p.MaxLength {
				s = string(r[:p.MaxLength])
			}
		}
		return odata.Str(s)
	case odata.EdmDateTimeOffset:
		return odata.Time(g.time())
	case odata.EdmEnum:
		m := p.Enum.Members
		return odata.Int(m[g.R.IntN(len(m))].Value)
	case odata.EdmBinary:
		b := make([]byte, []int{0, 1, 2, 3, 16, 100}[g.R.IntN(6)])
		for i := range b {
			b[i] = []byte{0, 0xff, byte(g.R.UintN(256))}[g.R.IntN(3)]
		}
		return odata.Str(string(b))
	case odata.EdmBoolean:
		return odata.Bool(g.R.IntN(2) == 0)
	case odata.EdmInt32:
		return odata.Int([]int64{0, 1, -1, 1<<31 - 1, -1 << 31, int64(g.R.Int32()), int64(g.R.IntN(10))}[g.R.IntN(7)])
	case odata.EdmInt64:
		return odata.Int([]int64{0, 1, -1, 1<<63 - 1, -1 << 63, g.R.Int64(), 1 << 53, int64(g.R.IntN(10))}[g.R.IntN(8)])
	}
	panic("odatatest: no generator for " + p.Type.String())
}

// str draws a string: an edge value most of the time, else a few characters of the filter alphabet, or for a
// required property now and then something like a thumbprint.
func (g *EntityGen) str(p *odata.Property) string {
	switch g.R.IntN(6) {
	case 0:
		var b strings.Builder
		runes := []rune(alphabet)
		for range g.R.IntN(8) {
			b.WriteRune(runes[g.R.IntN(len(runes))])
		}
		return b.String()
	case 1:
		if p.Required {
			return g.hex(40)
		}
	}
	return g.Strings[g.R.IntN(len(g.Strings))]
}

func (g *EntityGen) time() odata.DateTimeOffset {
	switch g.R.IntN(4) {
	case 0, 1:
		return g.Times[g.R.IntN(len(g.Times))]
	case 2:
		// Near a pool value: the same day, another time and offset.
		d := g.Times[g.R.IntN(len(g.Times))]
		d.Ticks += g.R.Int64N(2*odata.TicksPerDay) - odata.TicksPerDay
		d.Ticks = max(0, min(d.Ticks, odata.MaxTicks))
		d.Offset = randomOffset(g.R)
		return validOffset(d)
	}
	return validOffset(odata.DateTimeOffset{Ticks: g.R.Int64N(odata.MaxTicks + 1), Offset: randomOffset(g.R)})
}

// civilTime is a DateTimeOffset's local calendar parts.
type civilTime struct {
	year, month, day, hour, minute, second, offset int
	days, tod                                      int64 // local days since 0001-01-01, ticks since midnight
}

func civil(d odata.DateTimeOffset) civilTime {
	local := d.Ticks + int64(d.Offset)*odata.TicksPerMinute
	c := civilTime{days: local / odata.TicksPerDay, tod: local % odata.TicksPerDay, offset: int(d.Offset)}
	c.year, c.month, c.day = civilFromDays(c.days)
	s := c.tod / odata.TicksPerSecond
	c.hour, c.minute, c.second = int(s/3600), int(s/60%60), int(s%60)
	return c
}

// civilFromDays is the proleptic Gregorian date of a day count from 0001-01-01 (Howard Hinnant's algorithm).
func civilFromDays(z int64) (y, m, d int) {
	z += 306 // days from 0000-03-01
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}
