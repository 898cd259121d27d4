package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The SQL side of the entity model. Table and column names follow from the model's names by one fixed rule, so
// adding an entity set is a model entry plus a migration that creates its table:
//
//   - the table of a set is its name in snake case: certificateConnectorDetails → certificate_connector_details;
//   - every table has tenant_id uuid, the key column id (uuid for GUID keys, text COLLATE "C" for string keys),
//     a column per property, and version bigint; the primary key is (tenant_id, id);
//   - a property's column is its name in snake case: connectorName → connector_name;
//   - an Edm.DateTimeOffset is two columns, the UTC instant in 100 ns ticks and the offset in minutes, named after
//     the property without a trailing "DateTime": enrollmentDateTime → enrollment_ticks, enrollment_offset;
//   - types: Edm.String text COLLATE "C", Edm.Binary bytea, Edm.Boolean boolean, Edm.Int32 and enums integer,
//     Edm.Int64 bigint, DateTimeOffset bigint + smallint. Nullability follows the model.
//
// Identifiers in SQL come only from here; values only travel as parameters.

// PrefixChars is how many leading characters of a string column its indexes hold: a btree index row is at most
// about 2.7 kB, so an index on the whole value would refuse long values. Indexes on text columns are on
// left(column, PrefixChars); filters and orderings name that expression beside the column, so the index serves
// them whatever the values' length, and the column itself decides among equal prefixes.
const PrefixChars = 256

// column is the SQL of one property.
type column struct {
	prop    *odata.Property
	name    string // the value column; the ticks of a DateTimeOffset
	offset  string // the offset column of a DateTimeOffset
	sqlType string // the value column's type, for casts of parameters: text, uuid, bigint, integer, boolean, bytea
}

// prefixed reports whether the column's indexes and orderings use left(column, PrefixChars).
func (c *column) prefixed() bool { return c.prop.Type == odata.EdmString && !c.prop.Key }

// entitySQL is the compiled SQL of one entity set.
type entitySQL struct {
	set        *odata.EntitySet
	t          *odata.EntityType
	table      string
	cols       []column // by PropertyID
	selectList string   // every column in property order, then version
	// qualifiedSelect is selectList with the table's name, for RETURNING beside cur's columns.
	qualifiedSelect string
	nImmutable      int
	nSelect         int // the columns selectList names
	keyUUID         bool
	insertSQL       string
	upsertSQL       string
	getSQL          string
	existsSQL       string
	deleteSQL       [2]string // without and with a version condition
	immutable       uint64    // properties a PATCH may only repeat
	onWrite         []odata.PropertyID
	// updates caches the UPDATE text per set of properties and condition (index mask<<1 | cond) when the type
	// has at most maxCachedProps properties; there are few shapes, and the same text lets pgx reuse its prepared
	// statement.
	updates []atomic.Pointer[string]
}

const maxCachedProps = 16

// reserved are SQL key words a derived name must not be, since names are written unquoted.
var reserved = map[string]bool{"all": true, "and": true, "any": true, "as": true, "asc": true, "case": true,
	"check": true, "column": true, "constraint": true, "default": true, "desc": true, "distinct": true, "do": true,
	"else": true, "end": true, "false": true, "for": true, "from": true, "group": true, "having": true, "in": true,
	"limit": true, "not": true, "null": true, "offset": true, "on": true, "or": true, "order": true, "select": true,
	"table": true, "then": true, "to": true, "true": true, "union": true, "user": true, "where": true, "with": true,
	"version": true, "tenant_id": true, "id": true}

// snake writes a camelCase name in snake case: connectorName → connector_name, userPFXCertificate →
// user_pfx_certificate.
func snake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) ||
				i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])) {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// compileSet derives the SQL of an entity set.
func compileSet(set *odata.EntitySet) (*entitySQL, error) {
	t := set.Type
	es := &entitySQL{set: set, t: t, table: snake(set.Name), keyUUID: t.KeyKind == odata.KeyGUID}
	if reserved[es.table] {
		return nil, fmt.Errorf("store: the table name %q of %s is a reserved word", es.table, set.Name)
	}
	es.cols = make([]column, len(t.Properties))
	var list, ins, params, upsert []string
	n := 2 // $1 is the tenant
	for i := range t.Properties {
		p := &t.Properties[i]
		c := column{prop: p}
		switch {
		case p.Key:
			c.name = "id"
			c.sqlType = "text"
			if es.keyUUID {
				c.sqlType = "uuid"
			}
		case p.Type == odata.EdmDateTimeOffset:
			base := snake(strings.TrimSuffix(p.Name, "DateTime"))
			c.name, c.offset, c.sqlType = base+"_ticks", base+"_offset", "bigint"
		default:
			c.name = snake(p.Name)
			c.sqlType = map[odata.EdmType]string{odata.EdmString: "text", odata.EdmBinary: "bytea", odata.EdmBoolean: "boolean",
				odata.EdmInt32: "integer", odata.EdmEnum: "integer", odata.EdmInt64: "bigint"}[p.Type]
		}
		if !p.Key && reserved[c.name] {
			return nil, fmt.Errorf("store: the column name %q of %s.%s is a reserved word", c.name, set.Name, p.Name)
		}
		es.cols[i] = c
		list = append(list, c.name)
		ins = append(ins, c.name)
		params = append(params, "$"+strconv.Itoa(n))
		n++
		if !p.Key {
			upsert = append(upsert, c.name+" = EXCLUDED."+c.name)
		}
		if c.offset != "" {
			list = append(list, c.offset)
			ins = append(ins, c.offset)
			params = append(params, "$"+strconv.Itoa(n))
			n++
			upsert = append(upsert, c.offset+" = EXCLUDED."+c.offset)
		}
		if p.Immutable {
			if c.offset != "" {
				return nil, fmt.Errorf("store: %s.%s: a DateTimeOffset cannot be immutable", set.Name, p.Name)
			}
			es.immutable |= 1 << p.ID
		}
		if p.ServerSet == odata.SetOnWrite {
			es.onWrite = append(es.onWrite, p.ID)
		}
	}
	es.nSelect = len(list) + 1
	es.selectList = strings.Join(list, ", ") + ", version"
	qualified := make([]string, len(list))
	for i, c := range list {
		qualified[i] = es.table + "." + c
	}
	es.qualifiedSelect = strings.Join(qualified, ", ") + ", " + es.table + ".version"
	es.nImmutable = bits.OnesCount64(es.immutable)
	es.insertSQL = "INSERT INTO " + es.table + " (tenant_id, " + strings.Join(ins, ", ") + ") VALUES ($1, " +
		strings.Join(params, ", ") + ") RETURNING version"
	es.upsertSQL = "INSERT INTO " + es.table + " (tenant_id, " + strings.Join(ins, ", ") + ") VALUES ($1, " +
		strings.Join(params, ", ") + ") ON CONFLICT (tenant_id, id) DO UPDATE SET " + strings.Join(upsert, ", ") +
		", version = " + es.table + ".version + 1"
	es.getSQL = "SELECT " + es.selectList + " FROM " + es.table + " WHERE tenant_id = $1 AND id = $2"
	es.existsSQL = "SELECT version FROM " + es.table + " WHERE tenant_id = $1 AND id = $2"
	es.deleteSQL[0] = "DELETE FROM " + es.table + " WHERE tenant_id = $1 AND id = $2"
	// The conditional delete decides 404 or 412 in the same statement, like the conditional update.
	es.deleteSQL[1] = "WITH cur AS (SELECT version AS cur_version FROM " + es.table + " WHERE tenant_id = $1 AND id = $2 FOR UPDATE), " +
		"del AS (DELETE FROM " + es.table + " USING cur WHERE tenant_id = $1 AND id = $2 AND cur_version = ANY($3) RETURNING 1 AS deleted) " +
		"SELECT cur_version, del.deleted IS NOT NULL FROM cur LEFT JOIN del ON TRUE"
	if len(t.Properties) <= maxCachedProps {
		es.updates = make([]atomic.Pointer[string], 2<<len(t.Properties))
	}
	return es, nil
}

// valueArgs appends the parameters of a value of column c.
func (c *column) valueArgs(args []any, v odata.Value) []any {
	switch c.prop.Type {
	case odata.EdmDateTimeOffset:
		if v.Null {
			return append(args, pgtype.Int8{}, pgtype.Int2{})
		}
		return append(args, v.Time.Ticks, v.Time.Offset)
	case odata.EdmBinary:
		if v.Null {
			return append(args, []byte(nil))
		}
		return append(args, []byte(v.Str))
	case odata.EdmBoolean:
		return append(args, pgtype.Bool{Bool: v.Int != 0, Valid: !v.Null})
	case odata.EdmInt32, odata.EdmInt64, odata.EdmEnum:
		return append(args, pgtype.Int8{Int64: v.Int, Valid: !v.Null})
	}
	return append(args, pgtype.Text{String: v.Str, Valid: !v.Null})
}

// entityArgs are the parameters of insertSQL and upsertSQL for e.
func (es *entitySQL) entityArgs(tenant string, e *odata.Entity) []any {
	args := make([]any, 1, 1+len(es.cols)+4)
	args[0] = tenant
	for i := range es.cols {
		args = es.cols[i].valueArgs(args, e.Values[i])
	}
	return args
}

// updateText is the UPDATE for a patch of the properties in mask, with or without a version condition. Immutable
// properties are not written; the statement matches only while they hold the patch's values.
//
// A statement that can fail for a row that exists (a version condition, or immutable properties in the patch)
// decides why in the same statement, so the answer describes one instant: it locks the row first (cur), then
// updates it only if it passes, and returns the row's version and immutable values beside the updated row. No
// row at all is 404; a row without an update is 412 or 400.
func (es *entitySQL) updateText(mask uint64, cond bool) string {
	idx := -1
	if es.updates != nil {
		idx = int(mask<<1) | b2i(cond)
		if p := es.updates[idx].Load(); p != nil {
			return *p
		}
	}
	decided := cond || mask&es.immutable != 0
	var sb strings.Builder
	var where strings.Builder
	var curCols []string
	if decided {
		curCols = append(curCols, "version AS cur_version")
		for i := range es.cols {
			if es.immutable&(1<<uint(i)) != 0 {
				curCols = append(curCols, es.cols[i].name+" AS cur_"+es.cols[i].name)
			}
		}
		sb.WriteString("WITH cur AS (SELECT " + strings.Join(curCols, ", ") + " FROM " + es.table +
			" WHERE tenant_id = $1 AND id = $2 FOR UPDATE), upd AS (")
	}
	sb.WriteString("UPDATE " + es.table + " SET ")
	n := 3 // $1 tenant, $2 id
	for i := 1; i < len(es.cols); i++ {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		c := &es.cols[i]
		if es.immutable&(1<<uint(i)) != 0 {
			where.WriteString(" AND " + c.name + " IS NOT DISTINCT FROM $" + strconv.Itoa(n))
			n++
			continue
		}
		sb.WriteString(c.name + " = $" + strconv.Itoa(n) + ", ")
		n++
		if c.offset != "" {
			sb.WriteString(c.offset + " = $" + strconv.Itoa(n) + ", ")
			n++
		}
	}
	for _, id := range es.onWrite {
		c := &es.cols[id]
		sb.WriteString(c.name + " = $" + strconv.Itoa(n) + ", " + c.offset + " = $" + strconv.Itoa(n+1) + ", ")
		n += 2
	}
	sb.WriteString("version = version + 1")
	if decided {
		sb.WriteString(" FROM cur")
	}
	sb.WriteString(" WHERE tenant_id = $1 AND id = $2")
	sb.WriteString(where.String())
	if cond {
		if decided {
			sb.WriteString(" AND cur_version = ANY($" + strconv.Itoa(n) + ")")
		} else {
			sb.WriteString(" AND version = ANY($" + strconv.Itoa(n) + ")")
		}
	}
	if decided {
		// RETURNING names the table's columns; cur's are all prefixed, so nothing is ambiguous.
		sb.WriteString(" RETURNING " + es.qualifiedSelect + ") SELECT cur.*, upd.* FROM cur LEFT JOIN upd ON TRUE")
	} else {
		sb.WriteString(" RETURNING " + es.selectList)
	}
	s := sb.String()
	if idx >= 0 {
		es.updates[idx].Store(&s)
	}
	return s
}

// updateArgs are the parameters of updateText(p.Mask(), cond.Set).
func (es *entitySQL) updateArgs(tenant, key string, p *odata.Patch, cond Precondition, now odata.DateTimeOffset) []any {
	args := make([]any, 2, 3+2*len(es.cols))
	args[0], args[1] = tenant, key
	for i := 1; i < len(es.cols); i++ {
		if p.Has(odata.PropertyID(i)) {
			args = es.cols[i].valueArgs(args, p.Get(odata.PropertyID(i)))
		}
	}
	for range es.onWrite {
		args = append(args, now.Ticks, now.Offset)
	}
	if cond.Set {
		args = append(args, cond.Versions)
	}
	return args
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeRow reads the selectList columns of a row (raw values in the formats fds give) into e, which must have
// its Type set. Rows are decoded here rather than through Scan: the model says each column's type, so no
// per-column reflection or scan plan is needed.
func (es *entitySQL) decodeRow(fds []pgconn.FieldDescription, raw [][]byte, e *odata.Entity) error {
	if len(raw) < es.nSelect {
		return fmt.Errorf("store: %s row has %d columns, want %d", es.table, len(raw), es.nSelect)
	}
	if e.Values == nil || len(e.Values) != len(es.cols) {
		e.Values = make([]odata.Value, len(es.cols))
	}
	e.Type = es.t
	j := 0
	for i := range es.cols {
		c := &es.cols[i]
		v, err := decodeValue(c, fds[j].Format, raw[j])
		if err != nil {
			return fmt.Errorf("store: %s.%s: %w", es.table, c.name, err)
		}
		j++
		if c.offset != "" {
			if raw[j] != nil && !v.Null {
				off, err := decodeInt(fds[j].Format, raw[j])
				if err != nil {
					return fmt.Errorf("store: %s.%s: %w", es.table, c.offset, err)
				}
				v.Time.Offset = int16(off)
			}
			j++
		}
		e.Values[i] = v
	}
	ver, err := decodeInt(fds[j].Format, raw[j])
	if err != nil {
		return fmt.Errorf("store: %s.version: %w", es.table, err)
	}
	e.Version = ver
	return nil
}

func decodeValue(c *column, format int16, raw []byte) (odata.Value, error) {
	if raw == nil {
		return odata.Null, nil
	}
	switch c.sqlType {
	case "uuid":
		if format == pgtype.BinaryFormatCode {
			if len(raw) != 16 {
				return odata.Value{}, fmt.Errorf("uuid of %d bytes", len(raw))
			}
			return odata.Str(odata.FormatGUID([16]byte(raw))), nil
		}
		return odata.Str(string(raw)), nil
	case "text":
		return odata.Str(string(raw)), nil
	case "bytea":
		if format == pgtype.BinaryFormatCode {
			return odata.Str(string(raw)), nil
		}
		b, err := hex.DecodeString(strings.TrimPrefix(string(raw), `\x`))
		return odata.Str(string(b)), err
	case "boolean":
		if format == pgtype.BinaryFormatCode {
			return odata.Bool(len(raw) == 1 && raw[0] != 0), nil
		}
		return odata.Bool(len(raw) > 0 && raw[0] == 't'), nil
	}
	n, err := decodeInt(format, raw)
	if c.prop.Type == odata.EdmDateTimeOffset {
		return odata.Time(odata.DateTimeOffset{Ticks: n}), err
	}
	return odata.Int(n), err
}

// decodeInt reads an int2, int4 or int8 in binary or text format.
func decodeInt(format int16, raw []byte) (int64, error) {
	if format != pgtype.BinaryFormatCode {
		return strconv.ParseInt(string(raw), 10, 64)
	}
	switch len(raw) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(raw))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(raw))), nil
	case 8:
		return int64(binary.BigEndian.Uint64(raw)), nil
	}
	return 0, fmt.Errorf("integer of %d bytes", len(raw))
}
