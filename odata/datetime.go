package odata

import (
	"math"
	"time"
)

// DateTimeOffset is an Edm.DateTimeOffset kept losslessly: the instant in 100 ns ticks since
// 0001-01-01T00:00:00Z (as .NET, and so Graph, counts them) plus the offset the client wrote, in minutes.
// Ordering and equality of instants use Ticks alone, so "…-08:00" and the same instant in "Z" compare equal.
type DateTimeOffset struct {
	Ticks  int64 // UTC instant
	Offset int16 // minutes east of UTC, within ±14:00
}

const (
	TicksPerSecond = 10_000_000
	TicksPerMinute = 60 * TicksPerSecond
	TicksPerDay    = 24 * 60 * TicksPerMinute
	// MaxTicks is 9999-12-31T23:59:59.9999999.
	MaxTicks = 3_652_059*TicksPerDay - 1
	// MaxOffsetMinutes is 14:00, the widest offset in use and the bound .NET enforces.
	MaxOffsetMinutes = 14 * 60
	// unixEpochTicks is 1970-01-01T00:00:00Z.
	unixEpochTicks = 719_162 * TicksPerDay
)

// ZeroDateTimeOffset is 0001-01-01T00:00:00Z, Intune's value for a non-nullable timestamp never set.
var ZeroDateTimeOffset = DateTimeOffset{}

// MinDateTime and MaxDateTime are the values of mindatetime() and maxdatetime(): the first and last instants an
// Edm.DateTimeOffset holds, in UTC.
var (
	MinDateTime = DateTimeOffset{}
	MaxDateTime = DateTimeOffset{Ticks: MaxTicks}
)

// ParseDateTimeOffset reads YYYY-MM-DDThh:mm[:ss[.f{1,7}]](Z|±hh:mm). It refuses, rather than rounds, more than
// seven fraction digits, and refuses a missing offset: both would silently change what the client wrote.
// Letters are case-insensitive, as ABNF strings are.
func ParseDateTimeOffset(s string) (DateTimeOffset, bool) {
	// Shortest form: 2006-01-02T15:04Z (17 bytes).
	if len(s) < 17 || len(s) > 40 {
		return DateTimeOffset{}, false
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	hour, ok4 := digits(s, 11, 2)
	minute, ok5 := digits(s, 14, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' {
		return DateTimeOffset{}, false
	}
	i := 16
	second, frac := 0, int64(0)
	if s[i] == ':' {
		var ok bool
		if second, ok = digits(s, i+1, 2); !ok {
			return DateTimeOffset{}, false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			i++
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			n := i - start
			if n == 0 || n > 7 {
				return DateTimeOffset{}, false
			}
			for k := start; k < i; k++ {
				frac = frac*10 + int64(s[k]-'0')
			}
			for ; n < 7; n++ {
				frac *= 10
			}
		}
	}
	if i >= len(s) {
		return DateTimeOffset{}, false
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		oh, ok1 := digits(s, i+1, 2)
		om, ok2 := digits(s, i+4, 2)
		if !ok1 || !ok2 || s[i+3] != ':' || om > 59 {
			return DateTimeOffset{}, false
		}
		offset = oh*60 + om
		if offset > MaxOffsetMinutes {
			return DateTimeOffset{}, false
		}
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return DateTimeOffset{}, false
	}
	if i != len(s) {
		return DateTimeOffset{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 {
		return DateTimeOffset{}, false
	}
	local := daysFromCivil(year, month, day)*TicksPerDay + int64(hour)*60*TicksPerMinute + int64(minute)*TicksPerMinute +
		int64(second)*TicksPerSecond + frac
	utc := local - int64(offset)*TicksPerMinute
	if utc < 0 || utc > MaxTicks {
		return DateTimeOffset{}, false
	}
	return DateTimeOffset{Ticks: utc, Offset: int16(offset)}, true
}

// Valid reports whether d is within the Edm range and its offset within ±14:00, with the local time in range too.
func (d DateTimeOffset) Valid() bool {
	if d.Offset < -MaxOffsetMinutes || d.Offset > MaxOffsetMinutes || d.Ticks < 0 || d.Ticks > MaxTicks {
		return false
	}
	local := d.local()
	return local >= 0 && local <= MaxTicks
}

func (d DateTimeOffset) local() int64 { return d.Ticks + int64(d.Offset)*TicksPerMinute }

// String renders d as Graph does: seconds always, up to seven fraction digits with trailing zeros trimmed,
// "Z" for a zero offset and the written offset otherwise.
func (d DateTimeOffset) String() string {
	return string(d.AppendText(make([]byte, 0, 33)))
}

// AppendText appends the String form of d to b without allocating.
func (d DateTimeOffset) AppendText(b []byte) []byte {
	local := d.local()
	days := local / TicksPerDay
	rem := local % TicksPerDay
	y, m, dd := civilFromDays(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, dd)
	b = append(b, 'T')
	secs := int(rem / TicksPerSecond)
	frac := rem % TicksPerSecond
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	if frac != 0 {
		var f [7]byte
		for k := 6; k >= 0; k-- {
			f[k] = byte('0' + frac%10)
			frac /= 10
		}
		n := 7
		for f[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, f[:n]...)
	}
	if d.Offset == 0 {
		return append(b, 'Z')
	}
	off := int(d.Offset)
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = append2(b, off/60)
	b = append(b, ':')
	return append2(b, off%60)
}

// Time returns d as a time.Time in a fixed zone of d's offset; time.Time has nanoseconds, so it is lossless.
func (d DateTimeOffset) Time() time.Time {
	rel := d.Ticks - unixEpochTicks
	return time.Unix(rel/TicksPerSecond, rel%TicksPerSecond*100).In(time.FixedZone("", int(d.Offset)*60))
}

// FromTime converts t (truncated to 100 ns) with its zone's offset, rounded to the nearest whole minute (half
// away from zero). The result is not Valid when t lies outside the Edm range or its offset beyond ±14:00.
func FromTime(t time.Time) DateTimeOffset {
	_, off := t.Zone()
	var ticks int64
	// Far outside the Edm range the multiplication would overflow and could wrap back into it.
	switch sec := t.Unix(); {
	case sec < -unixEpochTicks/TicksPerSecond:
		ticks = -1
	case sec > (MaxTicks-unixEpochTicks)/TicksPerSecond:
		ticks = MaxTicks + 1
	default:
		ticks = unixEpochTicks + sec*TicksPerSecond + int64(t.Nanosecond())/100
	}
	mins := off / 60
	switch rem := off % 60; {
	case rem >= 30:
		mins++
	case rem <= -30:
		mins--
	}
	// A fixed zone can be given any offset; keep an absurd one absurd rather than let int16 wrap it into range.
	mins = max(min(mins, math.MaxInt16), math.MinInt16)
	return DateTimeOffset{Ticks: ticks, Offset: int16(mins)}
}

func digits(s string, at, n int) (int, bool) {
	if at+n > len(s) {
		return 0, false
	}
	v := 0
	for k := at; k < at+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 0001-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm,
// shifted so that year 1 starts at day 0).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here, since year >= 1 and at most one was taken off
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	// era*146097 + doe counts from 0000-03-01; 0001-01-01 is day 306 of that count.
	return int64(era)*146097 + int64(doe) - 306
}

func civilFromDays(z int64) (y, m, d int) {
	z += 306
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

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
