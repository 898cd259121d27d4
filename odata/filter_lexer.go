package odata

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on a $filter, so that no client text can make the parser, the evaluator or the SQL it becomes work
// without limit.
const (
	// MaxFilterLength bounds the $filter (and $orderby) text in bytes, after percent-decoding and with the values
	// of its parameter aliases counted once per use. It matches the default URL limit, so that any string
	// literal a URL can carry can be searched for: stored values have no length limit of their own.
	MaxFilterLength = 64 << 10
	// MaxFilterDepth bounds the nesting of parentheses, function calls and not operators. A chain of and/or
	// at one level does not nest; its length is bounded by MaxFilterLength.
	MaxFilterDepth = 100
	// maxExponent bounds the exponent of a decimal literal to what PostgreSQL's numeric accepts.
	maxExponent = 1000
)

// The $filter tokenizer: the ABNF's lexical rules (section 7, literal data values; section 9, punctuation) over
// the percent-decoded expression. It reads the whole expression into a slice of tokens up front, so the parser
// can look ahead freely and alias values can be spliced in as tokens.

type tokenKind uint8

const (
	tokEOF            tokenKind = iota
	tokIdent                    // odataIdentifier: a property, a function name, a keyword, true/false/null
	tokString                   // stringLiteral: '…' with '' for a quote
	tokJSONString               // stringInUrl: "…" with JSON escapes, only in a bracketed list
	tokInt                      // int64Literal
	tokDecimal                  // decimalLiteral with a fraction or an exponent
	tokDate                     // date: YYYY-MM-DD
	tokTimeOfDay                // timeOfDayLiteral: hh:mm[:ss[.fffffff]]
	tokDateTimeOffset           // dateTimeOffsetLiteral, offset required
	tokOpen                     // (
	tokClose                    // )
	tokComma                    // ,
	tokOpenBracket              // [
	tokCloseBracket             // ]
	tokAlias                    // @name
	tokEnum                     // enum = qualifiedEnumTypeName SQUOTE enumValue SQUOTE; resolved by the parser
)

type token struct {
	kind  tokenKind
	pos   int    // byte offset in the text it came from
	src   string // that text, for messages: "$filter" or "$filter's parameter alias '@n'"
	text  string // the token's source text; lower-cased copy in lower for identifiers
	lower string
	str   string         // tokString, tokJSONString: the value
	num   int64          // tokInt; tokDate: days since 0001-01-01; tokTimeOfDay: ticks since midnight
	dto   DateTimeOffset // tokDateTimeOffset
	enum  *Literal       // tokEnum, once resolved against the entity type
}

// filterError is the error for a problem at a position of a $filter (or of an alias value it uses).
func filterError(src string, pos int, format string, args ...any) *Error {
	return badRequest("%s (at position %d in %s).", fmt.Sprintf(format, args...), pos, src)
}

// quoteText shortens client text for a message.
func quoteText(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

type lexer struct {
	s   string
	src string
	pos int
}

// lexFilter splits s into tokens ending with tokEOF. It stops early, with the parser's error, where more
// parentheses are open than the parser could nest (all but an in-list's are levels of nesting): a long run of
// '(' would otherwise cost a token each, about 120 bytes, before the parser refuses it.
func lexFilter(s, src string) ([]token, error) {
	lx := lexer{s: s, src: src}
	toks := make([]token, 0, 8)
	open := 0
	for {
		for lx.pos < len(s) && isSpace(s[lx.pos]) {
			lx.pos++
		}
		if lx.pos >= len(s) {
			return append(toks, token{kind: tokEOF, pos: lx.pos, src: src}), nil
		}
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tokOpen:
			if open++; open > MaxFilterDepth+1 {
				return nil, lx.errorf(t.pos, "The $filter expression nests more than %d levels deep", MaxFilterDepth)
			}
		case tokClose:
			open = max(open-1, 0)
		}
		toks = append(toks, t)
	}
}

// isSpace is BWS/RWS: a space or a horizontal tab (%20 and %09 are decoded by then).
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// isDelimiter reports whether c may follow a numeric, date or time literal.
func isDelimiter(c byte) bool {
	return isSpace(c) || c == ')' || c == ',' || c == ']'
}

func (lx *lexer) errorf(pos int, format string, args ...any) *Error {
	return filterError(lx.src, pos, format, args...)
}

func (lx *lexer) next() (token, error) {
	s, start := lx.s, lx.pos
	c := s[start]
	single := func(k tokenKind) (token, error) {
		lx.pos++
		return token{kind: k, pos: start, src: lx.src, text: s[start : start+1]}, nil
	}
	switch {
	case c == '(':
		return single(tokOpen)
	case c == ')':
		return single(tokClose)
	case c == ',':
		return single(tokComma)
	case c == '[':
		return single(tokOpenBracket)
	case c == ']':
		return single(tokCloseBracket)
	case c == '\'':
		return lx.lexString()
	case c == '"':
		return lx.lexJSONString()
	case c == '@':
		end := start + 1
		if end < len(s) && isIdentStart(s[end]) {
			for end < len(s) && isIdentChar(s[end]) {
				end++
			}
		}
		if end == start+1 {
			return token{}, lx.errorf(start, "Syntax error: '@' must start a parameter alias name such as @p1")
		}
		lx.pos = end
		return token{kind: tokAlias, pos: start, src: lx.src, text: s[start:end]}, nil
	}
	if len(s)-start >= 36 {
		if _, ok := ParseGUID(s[start : start+36]); ok && (len(s) == start+36 || isDelimiter(s[start+36])) {
			return token{}, lx.errorf(start, "Unquoted GUID literal '%s': the key property 'id' is an Edm.String, so write the value in single quotes", s[start:start+36])
		}
	}
	switch {
	case isDigit(c), (c == '-' || c == '+') && start+1 < len(s) && isDigit(s[start+1]):
		return lx.lexNumber()
	case isIdentStart(c):
		end := start + 1
		for end < len(s) && isIdentChar(s[end]) {
			end++
		}
		lx.pos = end
		text := s[start:end]
		if end < len(s) && s[end] == '.' {
			// A qualified name is only a literal's type here: namespace.enumType'member'.
			q := end
			for q < len(s) && s[q] == '.' && q+1 < len(s) && isIdentStart(s[q+1]) {
				q += 2
				for q < len(s) && isIdentChar(s[q]) {
					q++
				}
			}
			if q < len(s) && s[q] == '\'' {
				lx.pos = q
				lit, err := lx.lexString()
				if err != nil {
					return token{}, err
				}
				return token{kind: tokEnum, pos: start, src: lx.src, text: s[start:q], str: lit.str}, nil
			}
		}
		if end < len(s) && (s[end] == '/' || s[end] == '.') {
			return token{}, lx.errorf(end, "Syntax error: '%s%c' — property paths and type casts are not supported; the entities have only primitive properties", quoteText(text), s[end])
		}
		return token{kind: tokIdent, pos: start, src: lx.src, text: text, lower: strings.ToLower(text)}, nil
	case c == '-':
		return token{}, lx.errorf(start, "Syntax error: '-' is only allowed as the sign of a number literal; arithmetic is not supported")
	}
	r, _ := utf8.DecodeRuneInString(s[start:])
	if r == utf8.RuneError {
		return token{}, lx.errorf(start, "Syntax error: the byte 0x%02X is not valid UTF-8", c)
	}
	return token{}, lx.errorf(start, "Syntax error: unexpected character '%c'", r)
}

// checkStringValue refuses what a PostgreSQL text parameter cannot hold, so a literal never turns into a 500.
func (lx *lexer) checkStringValue(start int, v string) error {
	if !utf8.ValidString(v) {
		return lx.errorf(start, "The string literal is not valid UTF-8 after percent-decoding")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return lx.errorf(start, "The string literal contains the character U+0000, which is not supported")
	}
	return nil
}

// lexString reads stringLiteral = SQUOTE *( SQUOTE-in-string / pchar-no-SQUOTE ) SQUOTE.
func (lx *lexer) lexString() (token, error) {
	s, start := lx.s, lx.pos
	i := start + 1
	var b strings.Builder
	for {
		j := strings.IndexByte(s[i:], '\'')
		if j < 0 {
			return token{}, lx.errorf(start, "Syntax error: the string literal is not terminated; write a quote inside a string as two quotes ('')")
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		break
	}
	lx.pos = i
	v := b.String()
	if err := lx.checkStringValue(start, v); err != nil {
		return token{}, err
	}
	return token{kind: tokString, pos: start, src: lx.src, text: s[start:i], str: v}, nil
}

// lexJSONString reads stringInUrl: a JSON string, as Graph accepts inside `in [...]`.
func (lx *lexer) lexJSONString() (token, error) {
	s, start := lx.s, lx.pos
	i := start + 1
	var b strings.Builder
	for {
		if i >= len(s) {
			return token{}, lx.errorf(start, "Syntax error: the double-quoted string is not terminated")
		}
		c := s[i]
		switch {
		case c == '"':
			i++
			lx.pos = i
			v := b.String()
			if err := lx.checkStringValue(start, v); err != nil {
				return token{}, err
			}
			return token{kind: tokJSONString, pos: start, src: lx.src, text: s[start:i], str: v}, nil
		case c < 0x20:
			return token{}, lx.errorf(i, "Syntax error: a control character must be escaped in a double-quoted string")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return token{}, lx.errorf(i, "Syntax error: the double-quoted string is not terminated")
		}
		esc := s[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return token{}, lx.errorf(i-2, "Syntax error: \\u must be followed by four hexadecimal digits")
			}
			i += 4
			if r >= 0xD800 && r <= 0xDBFF {
				lo, ok := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					lo, ok = hex4(s, i+2)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return token{}, lx.errorf(i-6, "Syntax error: the escape \\u%04X is a lone surrogate", r)
				}
				i += 6
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			} else if r >= 0xDC00 && r <= 0xDFFF {
				return token{}, lx.errorf(i-6, "Syntax error: the escape \\u%04X is a lone surrogate", r)
			}
			b.WriteRune(r)
		default:
			return token{}, lx.errorf(i-2, "Syntax error: invalid escape sequence in a double-quoted string")
		}
	}
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := at; k < at+4; k++ {
		c := s[k]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// lexNumber reads what starts with a digit or a signed digit: int64Literal, decimalLiteral, date,
// dateTimeOffsetLiteral or timeOfDayLiteral. They share their first digits, so the character after them decides:
// '-' after four digits makes a date (and a 'T' after the date a DateTimeOffset), ':' after two a time of day.
func (lx *lexer) lexNumber() (token, error) {
	s, start := lx.s, lx.pos
	i := start
	signed := s[i] == '-' || s[i] == '+'
	if signed {
		i++
	}
	digitsStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	nd := i - digitsStart
	switch {
	case i < len(s) && s[i] == '-' && nd >= 4:
		return lx.lexDateTime(signed)
	case i < len(s) && s[i] == ':' && nd == 2:
		if signed {
			return token{}, lx.errorf(start, "Syntax error: a TimeOfDay literal cannot have a sign")
		}
		end := i
		for end < len(s) && (isDigit(s[end]) || s[end] == ':' || s[end] == '.') {
			end++
		}
		text := s[start:end]
		ticks, ok := parseTimeOfDay(text)
		if !ok {
			return token{}, lx.errorf(start, "The TimeOfDay literal '%s' is not valid: write hh:mm[:ss[.fffffff]] with at most 7 fraction digits", quoteText(text))
		}
		if err := lx.endOfLiteral(end, text); err != nil {
			return token{}, err
		}
		lx.pos = end
		return token{kind: tokTimeOfDay, pos: start, src: lx.src, text: text, num: ticks}, nil
	}
	decimal := false
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fs {
			return token{}, lx.errorf(start, "The number literal '%s' is not valid: a decimal point must be followed by digits", quoteText(s[start:i]))
		}
		decimal = true
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		es := i
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		ds := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == ds {
			return token{}, lx.errorf(start, "The number literal '%s' is not valid: an exponent must have digits", quoteText(s[start:i]))
		}
		if e, err := strconv.Atoi(s[es:i]); err != nil || e > maxExponent || e < -maxExponent {
			return token{}, lx.errorf(start, "The number literal '%s' is out of range: the exponent must be within ±%d", quoteText(s[start:i]), maxExponent)
		}
		decimal = true
	}
	text := s[start:i]
	if err := lx.endOfLiteral(i, text); err != nil {
		return token{}, err
	}
	lx.pos = i
	value := strings.TrimPrefix(text, "+")
	if decimal {
		return token{kind: tokDecimal, pos: start, src: lx.src, text: value}, nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return token{}, lx.errorf(start, "The integer literal '%s' is out of range: integers must lie within the Edm.Int64 range", quoteText(text))
	}
	return token{kind: tokInt, pos: start, src: lx.src, text: text, num: n}, nil
}

// lexDateTime reads a date or a DateTimeOffset.
func (lx *lexer) lexDateTime(signed bool) (token, error) {
	s, start := lx.s, lx.pos
	end := start
	if signed {
		end++
	}
	for end < len(s) && (isDigit(s[end]) || strings.IndexByte("-:.+TtZz", s[end]) >= 0) {
		end++
	}
	text := s[start:end]
	if signed {
		return token{}, lx.errorf(start, "The literal '%s' is not valid: a date cannot have a sign", quoteText(text))
	}
	if err := lx.endOfLiteral(end, text); err != nil {
		return token{}, err
	}
	lx.pos = end
	if len(text) > 10 && (text[10] == 'T' || text[10] == 't') {
		d, ok := ParseDateTimeOffset(text)
		if !ok {
			if _, ok := ParseDateTimeOffset(text + "Z"); ok {
				return token{}, lx.errorf(start, "The DateTimeOffset literal '%s' has no offset: add Z or ±hh:mm (a '+' in a URL reads as a space, so write it as %%2B)", quoteText(text))
			}
			return token{}, lx.errorf(start, "The DateTimeOffset literal '%s' is not valid: write YYYY-MM-DDThh:mm[:ss[.fffffff]] with an offset Z or ±hh:mm within ±14:00, at most 7 fraction digits, between 0001-01-01 and 9999-12-31", quoteText(text))
		}
		return token{kind: tokDateTimeOffset, pos: start, src: lx.src, text: text, dto: d}, nil
	}
	days, ok := parseDate(text)
	if !ok {
		return token{}, lx.errorf(start, "The Date literal '%s' is not valid: write YYYY-MM-DD between 0001-01-01 and 9999-12-31", quoteText(text))
	}
	return token{kind: tokDate, pos: start, src: lx.src, text: text, num: days}, nil
}

// endOfLiteral refuses a literal glued to what follows it, like 5abc or 2024-01-01x.
func (lx *lexer) endOfLiteral(end int, text string) error {
	if end < len(lx.s) && !isDelimiter(lx.s[end]) {
		r, _ := utf8.DecodeRuneInString(lx.s[end:])
		return lx.errorf(end, "Syntax error: unexpected character '%c' after the literal '%s'", r, quoteText(text))
	}
	return nil
}

// parseDate reads YYYY-MM-DD into days since 0001-01-01.
func parseDate(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s, 0, 4)
	m, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseTimeOfDay reads hh:mm[:ss[.f{1,7}]] into ticks since midnight.
func parseTimeOfDay(s string) (int64, bool) {
	if len(s) != 5 && (len(s) < 8 || len(s) == 9 || len(s) > 16) {
		return 0, false
	}
	h, ok1 := digits(s, 0, 2)
	m, ok2 := digits(s, 3, 2)
	if !ok1 || !ok2 || s[2] != ':' || h > 23 || m > 59 {
		return 0, false
	}
	ticks := int64(h)*60*TicksPerMinute + int64(m)*TicksPerMinute
	if len(s) == 5 {
		return ticks, true
	}
	sec, ok := digits(s, 6, 2)
	if !ok || s[5] != ':' || sec > 59 {
		return 0, false
	}
	ticks += int64(sec) * TicksPerSecond
	if len(s) == 8 {
		return ticks, true
	}
	if s[8] != '.' {
		return 0, false
	}
	frac := int64(0)
	for k := 9; k < len(s); k++ {
		if !isDigit(s[k]) {
			return 0, false
		}
		frac = frac*10 + int64(s[k]-'0')
	}
	for n := len(s) - 9; n < 7; n++ {
		frac *= 10
	}
	return ticks + frac, true
}
