package odata

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// year1Unix is 0001-01-01T00:00:00Z in Unix seconds, worked out by the time package rather than by our constants.
var year1Unix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// ticksOf counts t's 100 ns ticks since 0001-01-01Z independently of the code under test.
func ticksOf(tb testing.TB, t time.Time) int64 {
	tb.Helper()
	return (t.Unix()-year1Unix)*TicksPerSecond + int64(t.Nanosecond())/100
}

func mustParseDateTimeOffset(tb testing.TB, s string) DateTimeOffset {
	tb.Helper()
	d, ok := ParseDateTimeOffset(s)
	if !ok {
		tb.Fatalf("ParseDateTimeOffset(%q) refused a valid value", s)
	}
	return d
}

func TestParseDateTimeOffsetValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   string // String() of the result
		utc    time.Time
		offset int16
	}{
		{"Seed", "2016-12-31T23:57:59.3726057-08:00", "2016-12-31T23:57:59.3726057-08:00",
			time.Date(2017, 1, 1, 7, 57, 59, 372605700, time.UTC), -480},
		{"SeedLastCheckin", "2017-01-01T00:02:46.0431416-08:00", "2017-01-01T00:02:46.0431416-08:00",
			time.Date(2017, 1, 1, 8, 2, 46, 43141600, time.UTC), -480},
		{"NoSeconds", "2006-01-02T15:04Z", "2006-01-02T15:04:00Z", time.Date(2006, 1, 2, 15, 4, 0, 0, time.UTC), 0},
		{"NoSecondsWithOffset", "2006-01-02T15:04+01:00", "2006-01-02T15:04:00+01:00",
			time.Date(2006, 1, 2, 14, 4, 0, 0, time.UTC), 60},
		{"Fraction0Digits", "2006-01-02T15:04:05Z", "2006-01-02T15:04:05Z", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), 0},
		{"Fraction1Digit", "2006-01-02T15:04:05.1Z", "2006-01-02T15:04:05.1Z",
			time.Date(2006, 1, 2, 15, 4, 5, 100000000, time.UTC), 0},
		{"Fraction2Digits", "2006-01-02T15:04:05.12Z", "2006-01-02T15:04:05.12Z",
			time.Date(2006, 1, 2, 15, 4, 5, 120000000, time.UTC), 0},
		{"Fraction3Digits", "2006-01-02T15:04:05.123Z", "2006-01-02T15:04:05.123Z",
			time.Date(2006, 1, 2, 15, 4, 5, 123000000, time.UTC), 0},
		{"Fraction4Digits", "2006-01-02T15:04:05.1234Z", "2006-01-02T15:04:05.1234Z",
			time.Date(2006, 1, 2, 15, 4, 5, 123400000, time.UTC), 0},
		{"Fraction5Digits", "2006-01-02T15:04:05.12345Z", "2006-01-02T15:04:05.12345Z",
			time.Date(2006, 1, 2, 15, 4, 5, 123450000, time.UTC), 0},
		{"Fraction6Digits", "2006-01-02T15:04:05.123456Z", "2006-01-02T15:04:05.123456Z",
			time.Date(2006, 1, 2, 15, 4, 5, 123456000, time.UTC), 0},
		{"Fraction7Digits", "2006-01-02T15:04:05.1234567Z", "2006-01-02T15:04:05.1234567Z",
			time.Date(2006, 1, 2, 15, 4, 5, 123456700, time.UTC), 0},
		{"FractionOneTick", "2006-01-02T15:04:05.0000001Z", "2006-01-02T15:04:05.0000001Z",
			time.Date(2006, 1, 2, 15, 4, 5, 100, time.UTC), 0},
		{"FractionTrailingZerosTrimmed", "2006-01-02T15:04:05.1000000Z", "2006-01-02T15:04:05.1Z",
			time.Date(2006, 1, 2, 15, 4, 5, 100000000, time.UTC), 0},
		{"FractionAllZerosDropsDot", "2006-01-02T15:04:05.0000000Z", "2006-01-02T15:04:05Z",
			time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), 0},
		{"FractionSingleZeroDropsDot", "2006-01-02T15:04:05.0Z", "2006-01-02T15:04:05Z",
			time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), 0},
		{"PlusZeroOffsetIsZ", "2006-01-02T15:04:05+00:00", "2006-01-02T15:04:05Z",
			time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), 0},
		{"MinusZeroOffsetIsZ", "2006-01-02T15:04:05-00:00", "2006-01-02T15:04:05Z",
			time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), 0},
		{"OffsetIndia", "2006-01-02T15:04:05+05:30", "2006-01-02T15:04:05+05:30",
			time.Date(2006, 1, 2, 9, 34, 5, 0, time.UTC), 330},
		{"OffsetNepal", "2006-01-02T15:04:05+05:45", "2006-01-02T15:04:05+05:45",
			time.Date(2006, 1, 2, 9, 19, 5, 0, time.UTC), 345},
		{"OffsetNewfoundland", "2006-01-02T15:04:05-03:30", "2006-01-02T15:04:05-03:30",
			time.Date(2006, 1, 2, 18, 34, 5, 0, time.UTC), -210},
		{"OffsetPlus14", "2006-01-02T15:04:05+14:00", "2006-01-02T15:04:05+14:00",
			time.Date(2006, 1, 2, 1, 4, 5, 0, time.UTC), 840},
		{"OffsetMinus14", "2006-01-02T15:04:05-14:00", "2006-01-02T15:04:05-14:00",
			time.Date(2006, 1, 3, 5, 4, 5, 0, time.UTC), -840},
		{"OffsetPlus13h59", "2006-01-02T15:04:05+13:59", "2006-01-02T15:04:05+13:59",
			time.Date(2006, 1, 2, 1, 5, 5, 0, time.UTC), 839},
		{"LowerCaseTAndZ", "2006-01-02t15:04:05.5z", "2006-01-02T15:04:05.5Z",
			time.Date(2006, 1, 2, 15, 4, 5, 500000000, time.UTC), 0},
		{"LeapDay2000", "2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), 0},
		{"LeapDay2024", "2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), 0},
		{"LeapDay1600", "1600-02-29T00:00:00Z", "1600-02-29T00:00:00Z", time.Date(1600, 2, 29, 0, 0, 0, 0, time.UTC), 0},
		{"LeapDay0004", "0004-02-29T00:00:00Z", "0004-02-29T00:00:00Z", time.Date(4, 2, 29, 0, 0, 0, 0, time.UTC), 0},
		{"Mar1st1900", "1900-03-01T00:00:00Z", "1900-03-01T00:00:00Z", time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 0},
		{"Feb28th1900", "1900-02-28T23:59:59.9999999Z", "1900-02-28T23:59:59.9999999Z",
			time.Date(1900, 2, 28, 23, 59, 59, 999999900, time.UTC), 0},
		{"Dec31stLeapYear", "2024-12-31T00:00:00Z", "2024-12-31T00:00:00Z", time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 0},
		{"LocalDayRollsOverInUTC", "2016-12-31T23:00:00-08:00", "2016-12-31T23:00:00-08:00",
			time.Date(2017, 1, 1, 7, 0, 0, 0, time.UTC), -480},
		{"MinValue", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"MinLocalWestOfUTC", "0001-01-01T00:00:00-01:00", "0001-01-01T00:00:00-01:00",
			time.Date(1, 1, 1, 1, 0, 0, 0, time.UTC), -60},
		{"MinUTCEastOfUTC", "0001-01-01T01:00:00+01:00", "0001-01-01T01:00:00+01:00",
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), 60},
		{"MaxValue", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z",
			time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC), 0},
		{"MaxLocalEastOfUTC", "9999-12-31T23:59:59.9999999+01:00", "9999-12-31T23:59:59.9999999+01:00",
			time.Date(9999, 12, 31, 22, 59, 59, 999999900, time.UTC), 60},
		{"MaxUTCWestOfUTC", "9999-12-31T22:59:59.9999999-01:00", "9999-12-31T22:59:59.9999999-01:00",
			time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC), -60},
		{"EndOfDay", "2006-01-02T23:59:59.9999999Z", "2006-01-02T23:59:59.9999999Z",
			time.Date(2006, 1, 2, 23, 59, 59, 999999900, time.UTC), 0},
		{"UnixEpoch", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", time.Unix(0, 0).UTC(), 0},
		{"BeforeUnixEpochWithFraction", "1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.9Z",
			time.Date(1969, 12, 31, 23, 59, 59, 900000000, time.UTC), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := ParseDateTimeOffset(tt.in)
			if !ok {
				t.Fatalf("ParseDateTimeOffset(%q) refused it", tt.in)
			}
			if want := ticksOf(t, tt.utc); d.Ticks != want {
				t.Errorf("Ticks = %d, want %d (%s)", d.Ticks, want, tt.utc.Format(time.RFC3339Nano))
			}
			if d.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d", d.Offset, tt.offset)
			}
			if !d.Valid() {
				t.Errorf("%+v: Valid() = false", d)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			again := mustParseDateTimeOffset(t, d.String())
			if again != d {
				t.Errorf("String() re-parses to %+v, want %+v", again, d)
			}
		})
	}
}

func TestParseDateTimeOffsetInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"Empty", ""},
		{"DateOnly", "2006-01-02"},
		{"DateAndT", "2006-01-02T"},
		{"NoOffset", "2006-01-02T15:04:05"},
		{"NoOffsetWithFraction", "2024-01-19T13:38:22.169688"},
		{"NoOffsetNoSeconds", "2006-01-02T15:04"},
		{"Fraction8Digits", "2006-01-02T15:04:05.12345678Z"},
		{"Fraction8DigitsAllZero", "2006-01-02T15:04:05.00000000Z"},
		{"Fraction12Digits", "2006-01-02T15:04:05.123456789012Z"},
		{"FractionEmpty", "2006-01-02T15:04:05.Z"},
		{"FractionWithoutSeconds", "2006-01-02T15:04.5Z"},
		{"FractionComma", "2006-01-02T15:04:05,5Z"},
		{"OffsetPlus14h01", "2006-01-02T15:04:05+14:01"},
		{"OffsetMinus14h01", "2006-01-02T15:04:05-14:01"},
		{"OffsetPlus15", "2006-01-02T15:04:05+15:00"},
		{"OffsetPlus99", "2006-01-02T15:04:05+99:00"},
		{"OffsetMinute60", "2006-01-02T15:04:05+05:60"},
		{"OffsetNoColon", "2006-01-02T15:04:05+0530"},
		{"OffsetHoursOnly", "2006-01-02T15:04:05+05"},
		{"OffsetOneDigitHour", "2006-01-02T15:04:05+5:30"},
		{"OffsetWithSeconds", "2006-01-02T15:04:05+05:30:00"},
		{"OffsetSignOnly", "2006-01-02T15:04:05-"},
		{"OffsetUnicodeMinus", "2006-01-02T15:04:05\u221208:00"},
		{"OffsetAfterZ", "2006-01-02T15:04:05Z+01:00"},
		{"OffsetLetterUTC", "2006-01-02T15:04:05UTC"},
		{"Feb29NonLeap2023", "2023-02-29T00:00:00Z"},
		{"Feb29NonLeap1900", "1900-02-29T00:00:00Z"},
		{"Feb29NonLeap2100", "2100-02-29T00:00:00Z"},
		{"Feb30LeapYear", "2000-02-30T00:00:00Z"},
		{"Apr31", "2006-04-31T00:00:00Z"},
		{"Jun31", "2006-06-31T00:00:00Z"},
		{"Sep31", "2006-09-31T00:00:00Z"},
		{"Nov31", "2006-11-31T00:00:00Z"},
		{"Jan32", "2006-01-32T00:00:00Z"},
		{"Day00", "2006-01-00T00:00:00Z"},
		{"Month00", "2006-00-01T00:00:00Z"},
		{"Month13", "2006-13-01T00:00:00Z"},
		{"Hour24", "2006-01-02T24:00:00Z"},
		{"Hour24NoSeconds", "2006-01-02T24:00Z"},
		{"Minute60", "2006-01-02T15:60:00Z"},
		{"Second60", "2006-01-02T23:59:60Z"},
		{"Second60LeapSecondDay", "2016-12-31T23:59:60Z"},
		{"SecondOneDigit", "2006-01-02T15:04:5Z"},
		{"Year0000", "0000-01-01T00:00:00Z"},
		{"Year0000Dec31", "0000-12-31T23:59:59Z"},
		{"Year5Digits", "10000-01-01T00:00:00Z"},
		{"Year3Digits", "999-01-01T00:00:00Z"},
		{"YearNegative", "-0001-01-01T00:00:00Z"},
		{"YearPlusSign", "+2006-01-02T15:04:05Z"},
		{"MinAsLocalBeforeRangeInUTC", "0001-01-01T00:00:00+01:00"},
		{"MinPlusOneTickEast", "0001-01-01T00:00:00.0000001+00:01"},
		{"MaxAsLocalAfterRangeInUTC", "9999-12-31T23:59:59-01:00"},
		{"MaxTickWestOneMinute", "9999-12-31T23:59:59.9999999-00:01"},
		{"LeadingSpace", " 2006-01-02T15:04:05Z"},
		{"TrailingSpace", "2006-01-02T15:04:05Z "},
		{"TrailingNewline", "2006-01-02T15:04:05Z\n"},
		{"TrailingGarbage", "2006-01-02T15:04:05Zx"},
		{"SpaceSeparator", "2006-01-02 15:04:05Z"},
		{"SlashDate", "2006/01/02T15:04:05Z"},
		{"NoDashes", "20060102T150405Z"},
		{"FullWidthDigits", "２００６-01-02T15:04:05Z"},
		{"SignedMonth", "2006-+1-02T15:04:05Z"},
		{"NULByte", "2006-01-02T15:04:05Z\x00"},
		{"TooLong", "2006-01-02T15:04:05" + strings.Repeat("0", 30) + "Z"},
		{"Quoted", `"2006-01-02T15:04:05Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if d, ok := ParseDateTimeOffset(tt.in); ok {
				t.Errorf("ParseDateTimeOffset(%q) = %+v (%s), want refused", tt.in, d, d)
			}
		})
	}
}

func TestDateTimeOffsetValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    DateTimeOffset
		want bool
	}{
		{"Zero", DateTimeOffset{}, true},
		{"ZeroDateTimeOffset", ZeroDateTimeOffset, true},
		{"NegativeTicks", DateTimeOffset{Ticks: -1}, false},
		{"MaxTicks", DateTimeOffset{Ticks: MaxTicks}, true},
		{"MaxTicksPlusOne", DateTimeOffset{Ticks: MaxTicks + 1}, false},
		{"OffsetPlus14", DateTimeOffset{Ticks: TicksPerDay, Offset: MaxOffsetMinutes}, true},
		{"OffsetMinus14", DateTimeOffset{Ticks: TicksPerDay, Offset: -MaxOffsetMinutes}, true},
		{"OffsetPlus14h01", DateTimeOffset{Ticks: TicksPerDay, Offset: MaxOffsetMinutes + 1}, false},
		{"OffsetMinus14h01", DateTimeOffset{Ticks: TicksPerDay, Offset: -MaxOffsetMinutes - 1}, false},
		{"LocalBeforeRange", DateTimeOffset{Ticks: 0, Offset: -60}, false},
		{"LocalAtMinEast", DateTimeOffset{Ticks: 0, Offset: 60}, true},
		{"LocalAfterRange", DateTimeOffset{Ticks: MaxTicks, Offset: 1}, false},
		{"LocalAtMaxWest", DateTimeOffset{Ticks: MaxTicks, Offset: -1}, true},
		{"MinInt16Offset", DateTimeOffset{Ticks: TicksPerDay, Offset: math.MinInt16}, false},
		{"MaxInt64Ticks", DateTimeOffset{Ticks: math.MaxInt64}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.d.Valid(); got != tt.want {
				t.Errorf("%+v.Valid() = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
}

func TestDateTimeOffsetString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    DateTimeOffset
		want string
	}{
		{"Zero", ZeroDateTimeOffset, "0001-01-01T00:00:00Z"},
		{"Max", DateTimeOffset{Ticks: MaxTicks}, "9999-12-31T23:59:59.9999999Z"},
		{"OneTick", DateTimeOffset{Ticks: 1}, "0001-01-01T00:00:00.0000001Z"},
		{"HalfSecond", DateTimeOffset{Ticks: TicksPerSecond / 2}, "0001-01-01T00:00:00.5Z"},
		{"OneMinuteEast", DateTimeOffset{Ticks: 0, Offset: 1}, "0001-01-01T00:01:00+00:01"},
		{"MinuteOffsetWest", DateTimeOffset{Ticks: TicksPerDay, Offset: -(9*60 + 30)}, "0001-01-01T14:30:00-09:30"},
		{"Plus14", DateTimeOffset{Ticks: 0, Offset: 840}, "0001-01-01T14:00:00+14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := string(tt.d.AppendText([]byte("x"))); got != "x"+tt.want {
				t.Errorf("AppendText appended %q, want %q", got, "x"+tt.want)
			}
		})
	}
}

// randomDateTimeOffsetText writes a random lexically valid value; its instant may still fall outside the range
// near the ends, which the callers check. The form always has seconds and an upper-case T so that
// time.RFC3339Nano can parse it too.
func randomDateTimeOffsetText(rng *rand.Rand) string {
	year := 1 + rng.IntN(9999)
	switch rng.IntN(8) { // weight the ends of the range, where the edge cases live
	case 0:
		year = 1 + rng.IntN(2)
	case 1:
		year = 9998 + rng.IntN(2)
	}
	month := 1 + rng.IntN(12)
	day := 1 + rng.IntN(daysIn(year, month))
	b := make([]byte, 0, 40)
	b = fmt.Appendf(b, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, rng.IntN(24), rng.IntN(60), rng.IntN(60))
	if n := rng.IntN(8); n > 0 {
		b = append(b, '.')
		for range n {
			b = append(b, byte('0'+rng.IntN(10)))
		}
	}
	switch off := rng.IntN(2*MaxOffsetMinutes+1) - MaxOffsetMinutes; {
	case rng.IntN(4) == 0:
		b = append(b, 'Z')
	case off < 0:
		b = fmt.Appendf(b, "-%02d:%02d", -off/60, -off%60)
	default:
		b = fmt.Appendf(b, "+%02d:%02d", off/60, off%60)
	}
	return string(b)
}

// TestParseDateTimeOffsetMatchesTimePackage cross-checks random values against time.Parse: same instant, same
// offset, same canonical text (RFC3339Nano also trims trailing zeros and writes Z for a zero offset).
func TestParseDateTimeOffsetMatchesTimePackage(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	minT := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxT := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	for range 30_000 {
		s := randomDateTimeOffsetText(rng)
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		d, ok := ParseDateTimeOffset(s)
		inRange := !want.Before(minT) && !want.After(maxT)
		if ok != inRange {
			t.Fatalf("ParseDateTimeOffset(%q) ok = %v, want %v (instant %s)", s, ok, inRange, want.UTC())
		}
		if !ok {
			continue
		}
		_, off := want.Zone()
		if d.Ticks != ticksOf(t, want) || int(d.Offset)*60 != off {
			t.Fatalf("ParseDateTimeOffset(%q) = %+v, want ticks %d offset %d", s, d, ticksOf(t, want), off/60)
		}
		if got, wantS := d.String(), want.Format(time.RFC3339Nano); got != wantS {
			t.Fatalf("String() of %q = %q, want %q", s, got, wantS)
		}
		if tt := d.Time(); !tt.Equal(want) || tt.Format(time.RFC3339Nano) != want.Format(time.RFC3339Nano) {
			t.Fatalf("Time() of %q = %s, want %s", s, tt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
		if back := FromTime(d.Time()); back != d {
			t.Fatalf("FromTime(Time()) of %q = %+v, want %+v", s, back, d)
		}
	}
}

// TestDateTimeOffsetOrdering checks that comparing Ticks orders values as their instants are ordered, whatever
// offsets they were written with.
func TestDateTimeOffsetOrdering(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	next := func() (DateTimeOffset, time.Time) {
		for {
			s := randomDateTimeOffsetText(rng)
			if d, ok := ParseDateTimeOffset(s); ok {
				tt, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatalf("time.Parse(%q): %v", s, err)
				}
				return d, tt
			}
		}
	}
	for range 20_000 {
		a, at := next()
		b, bt := next()
		if rng.IntN(4) == 0 { // the same instant seen from another offset
			b = DateTimeOffset{Ticks: a.Ticks, Offset: int16(rng.IntN(2*MaxOffsetMinutes+1) - MaxOffsetMinutes)}
			if !b.Valid() {
				continue
			}
			bt = b.Time()
		}
		if got, want := cmpInt64(a.Ticks, b.Ticks), at.Compare(bt); got != want {
			t.Fatalf("ticks order %s vs %s = %d, instants order %d", a, b, got, want)
		}
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestFromTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    time.Time
		want  DateTimeOffset
		valid bool
	}{
		{"UTC", time.Date(2006, 1, 2, 15, 4, 5, 123456789, time.UTC),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 2, 15, 4, 5, 123456700, time.UTC))}, true},
		{"TruncatesTo100ns", time.Date(2006, 1, 2, 15, 4, 5, 199, time.UTC),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 2, 15, 4, 5, 100, time.UTC))}, true},
		{"MinuteOffset", time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", 5*3600+45*60)),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 2, 9, 19, 5, 0, time.UTC)), Offset: 345}, true},
		{"OffsetSecondsRoundDown", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", 60+29)),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 1, 23, 58, 31, 0, time.UTC)), Offset: 1}, true},
		{"OffsetSecondsRoundUp", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", 60+30)),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 1, 23, 58, 30, 0, time.UTC)), Offset: 2}, true},
		{"NegativeOffsetSecondsRoundDown", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", -29)),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 2, 0, 0, 29, 0, time.UTC)), Offset: 0}, true},
		{"NegativeOffsetSecondsRoundUp", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", -30)),
			DateTimeOffset{Ticks: ticksOf(t, time.Date(2006, 1, 2, 0, 0, 30, 0, time.UTC)), Offset: -1}, true},
		{"Min", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), DateTimeOffset{}, true},
		{"Max", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), DateTimeOffset{Ticks: MaxTicks}, true},
		{"BeforeRange", time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC), DateTimeOffset{}, false},
		{"AfterRange", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), DateTimeOffset{}, false},
		{"FarFutureDoesNotWrap", time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC), DateTimeOffset{}, false},
		{"FarPastDoesNotWrap", time.Date(-300_000_000, 1, 1, 0, 0, 0, 0, time.UTC), DateTimeOffset{}, false},
		{"OffsetBeyond14h", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", 15*3600)), DateTimeOffset{}, false},
		{"OffsetBeyondInt16DoesNotWrap", time.Date(2006, 1, 2, 0, 0, 0, 0, time.FixedZone("", 65536*60)), DateTimeOffset{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FromTime(tt.in)
			if got.Valid() != tt.valid {
				t.Fatalf("FromTime(%s) = %+v, Valid() = %v, want %v", tt.in, got, got.Valid(), tt.valid)
			}
			if tt.valid && got != tt.want {
				t.Errorf("FromTime(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestCivilExhaustive checks the day-count conversions for every day of the Edm range against the time package.
func TestCivilExhaustive(t *testing.T) {
	t.Parallel()
	day := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	var n int64
	for ; n < MaxTicks/TicksPerDay+1; n++ {
		y, m, d := day.Date()
		if gy, gm, gd := civilFromDays(n); gy != y || gm != int(m) || gd != d {
			t.Fatalf("civilFromDays(%d) = %04d-%02d-%02d, want %s", n, gy, gm, gd, day.Format(time.DateOnly))
		}
		if got := daysFromCivil(y, int(m), d); got != n {
			t.Fatalf("daysFromCivil(%s) = %d, want %d", day.Format(time.DateOnly), got, n)
		}
		if d == 1 {
			want := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if got := daysIn(y, int(m)); got != want {
				t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, got, want)
			}
		}
		day = day.Add(24 * time.Hour)
	}
	if y, m, d := day.Date(); y != 10000 || m != 1 || d != 1 {
		t.Fatalf("walked to %s, want 10000-01-01 after %d days", day.Format(time.DateOnly), n)
	}
}

func TestIsLeap(t *testing.T) {
	t.Parallel()
	for y := 1; y <= 9999; y++ {
		want := time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366
		if got := isLeap(y); got != want {
			t.Fatalf("isLeap(%d) = %v, want %v", y, got, want)
		}
	}
}

func TestDateTimeOffsetAppendTextAllocs(t *testing.T) {
	d := mustParseDateTimeOffset(t, "2016-12-31T23:57:59.3726057-08:00")
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = d.AppendText(buf[:0]) }); n != 0 {
		t.Errorf("AppendText allocates %v times per run, want 0", n)
	}
}

func BenchmarkParseDateTimeOffset(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseDateTimeOffset("2016-12-31T23:57:59.3726057-08:00"); !ok {
			b.Fatal("refused")
		}
	}
}
