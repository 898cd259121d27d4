package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// Test helpers for the $filter AST: a compact S-expression rendering for table tests, and a rendering back to
// OData syntax for round-trip properties.

var funcNames = func() map[Func]string {
	m := make(map[Func]string)
	for _, s := range functions {
		m[s.fn] = s.name
	}
	return m
}()

var opNames = map[BinaryOp]string{OpEq: "eq", OpNe: "ne", OpGt: "gt", OpGe: "ge", OpLt: "lt", OpLe: "le", OpAnd: "and", OpOr: "or"}

// sexpr renders e as an S-expression: (and (eq connectorName 'x') (not (contains machineName 'y'))).
func sexpr(e Expr) string {
	var b strings.Builder
	writeSexpr(&b, e)
	return b.String()
}

func writeSexpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Literal:
		switch e.LitKind {
		case KindNull:
			b.WriteString("null")
		case KindBoolean:
			b.WriteString(strconv.FormatBool(e.Bool))
		case KindString:
			b.WriteString("'" + strings.ReplaceAll(e.Str, "'", "''") + "'")
		case KindInt:
			b.WriteString(strconv.FormatInt(e.Int, 10))
		case KindDecimal:
			b.WriteString("dec:" + e.Decimal)
		case KindDateTimeOffset:
			b.WriteString("dto:" + e.Time.String())
		case KindDate:
			b.WriteString("date:" + formatDate(e.Date))
		case KindTimeOfDay:
			b.WriteString("tod:" + formatTimeOfDay(e.Tod))
		case KindEnum:
			b.WriteString(enumText(e))
		default:
			fmt.Fprintf(b, "?lit%d", e.LitKind)
		}
	case *PropertyRef:
		b.WriteString(e.P.Name)
	case *Binary:
		b.WriteString("(" + opNames[e.Op] + " ")
		writeSexpr(b, e.Left)
		b.WriteByte(' ')
		writeSexpr(b, e.Right)
		b.WriteByte(')')
	case *Not:
		b.WriteString("(not ")
		writeSexpr(b, e.X)
		b.WriteByte(')')
	case *In:
		b.WriteString("(in ")
		writeSexpr(b, e.X)
		b.WriteString(" [")
		for i, x := range e.List {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeSexpr(b, x)
		}
		b.WriteString("])")
	case *Call:
		b.WriteString("(" + funcNames[e.Fn])
		for _, a := range e.Args {
			b.WriteByte(' ')
			writeSexpr(b, a)
		}
		b.WriteByte(')')
	default:
		fmt.Fprintf(b, "?%T", e)
	}
}

// enumText writes an enum literal as its qualified literal, microsoft.graph.userPfxIntendedPurpose'vpn'.
func enumText(l *Literal) string {
	name, ok := l.Enum.NameOf(l.Int)
	if !ok {
		name = "?" + strconv.FormatInt(l.Int, 10)
	}
	return l.Enum.Qualified + "'" + name + "'"
}

func formatDate(days int64) string {
	y, m, d := civilFromDays(days)
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

func formatTimeOfDay(t int64) string {
	s := t / TicksPerSecond
	return fmt.Sprintf("%02d:%02d:%02d.%07d", s/3600, s/60%60, s%60, t%TicksPerSecond)
}

// odataText renders e back into $filter syntax, fully parenthesised, so that parsing it gives e again.
func odataText(e Expr) string {
	var b strings.Builder
	writeOData(&b, e)
	return b.String()
}

func writeOData(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Literal:
		switch e.LitKind {
		case KindDecimal:
			b.WriteString(e.Decimal)
		case KindDateTimeOffset:
			b.WriteString(e.Time.String())
		case KindDate:
			b.WriteString(formatDate(e.Date))
		case KindTimeOfDay:
			b.WriteString(formatTimeOfDay(e.Tod))
		default:
			writeSexpr(b, e)
		}
	case *PropertyRef:
		b.WriteString(e.P.Name)
	case *Binary:
		b.WriteByte('(')
		writeOData(b, e.Left)
		b.WriteString(" " + opNames[e.Op] + " ")
		writeOData(b, e.Right)
		b.WriteByte(')')
	case *Not:
		b.WriteString("(not ")
		writeOData(b, e.X)
		b.WriteByte(')')
	case *In:
		b.WriteByte('(')
		writeOData(b, e.X)
		b.WriteString(" in (")
		for i, x := range e.List {
			if i > 0 {
				b.WriteByte(',')
			}
			writeOData(b, x)
		}
		b.WriteString("))")
	case *Call:
		b.WriteString(funcNames[e.Fn] + "(")
		for i, a := range e.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			writeOData(b, a)
		}
		b.WriteByte(')')
	}
}
