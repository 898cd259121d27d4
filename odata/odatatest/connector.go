package odatatest

import (
	"fmt"
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

// ConnectorGen makes connectors whose values collide (so orderings have ties and equality hits) and include the
// edge values: nulls, empty and padded strings, quotes, LIKE metacharacters, non-ASCII letters with special case
// mappings, emoji, offsets of ±14:00 and the first and last instants.
type ConnectorGen struct {
	R       *rand.Rand
	Strings []string
	Times   []odata.DateTimeOffset
	ids     map[string]bool
}

// NewConnectorGen returns a generator drawing on r with the edge values as its pools.
func NewConnectorGen(r *rand.Rand) *ConnectorGen {
	return &ConnectorGen{R: r, Strings: EdgeStrings(), Times: EdgeTimes()}
}

// Connector makes one connector with an id no earlier call of this generator returned.
func (g *ConnectorGen) Connector() odata.Connector {
	return odata.Connector{
		ID:                  g.id(),
		ConnectorName:       g.nullString(),
		MachineName:         g.nullString(),
		EnrollmentDateTime:  g.time(),
		LastCheckinDateTime: g.time(),
		ConnectorVersion:    g.nullString(),
	}
}

// Connectors makes n connectors.
func (g *ConnectorGen) Connectors(n int) []odata.Connector {
	out := make([]odata.Connector, n)
	for i := range out {
		out[i] = g.Connector()
	}
	return out
}

func (g *ConnectorGen) id() string {
	if g.ids == nil {
		g.ids = make(map[string]bool)
	}
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
		id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		if !g.ids[id] {
			g.ids[id] = true
			return id
		}
	}
}

func (g *ConnectorGen) nullString() odata.NullString {
	switch g.R.IntN(6) {
	case 0:
		return odata.NullString{}
	case 1:
		var b strings.Builder
		runes := []rune(alphabet)
		for range g.R.IntN(8) {
			b.WriteRune(runes[g.R.IntN(len(runes))])
		}
		return odata.Str(b.String())
	}
	return odata.Str(g.Strings[g.R.IntN(len(g.Strings))])
}

func (g *ConnectorGen) time() odata.DateTimeOffset {
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
