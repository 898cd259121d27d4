package odata

import (
	"net/url"
	"strconv"
	"strings"
)

// The query string (ABNF: queryOptions = queryOption *( "&" queryOption )) and the system query options of a
// GET on the collection or on one entity. Each option's value goes to its own parser; this file splits, decodes
// and dispatches, and parses the small options ($top, $skip, $count, $expand, $format) itself.

type option uint8

const (
	optFilter option = iota
	optOrderBy
	optSelect
	optTop
	optSkip
	optCount
	optExpand
	optSearch
	optSkipToken
	optFormat
	numOptions
)

// optionNames are the recognised system query options, lower case and without '$'.
var optionNames = [numOptions]string{"filter", "orderby", "select", "top", "skip", "count", "expand", "search", "skiptoken", "format"}

// Target is what a query's request addresses, which decides the options it may carry.
type Target uint8

const (
	ForCollection Target = iota // every option
	ForEntity                   // a single entity: $select, $expand and $format
	ForCount                    // the /$count segment: $filter, $search, $expand and $format
)

// allowed is the set of options per Target.
var allowed = [...]uint16{
	ForCollection: 1<<numOptions - 1,
	ForEntity:     1<<optSelect | 1<<optExpand | 1<<optFormat,
	ForCount:      1<<optFilter | 1<<optSearch | 1<<optExpand | 1<<optFormat | 1<<optCount,
}

func lookupOption(key string) (option, bool) {
	for i, n := range optionNames {
		if n == key {
			return option(i), true
		}
	}
	return 0, false
}

// searchNotSupported is the answer to any $search.
const searchNotSupported = "The query option $search is not supported on this resource."

// ParseQuery parses the raw query string of a GET (the part after '?', still percent-encoded) into a Query over
// the properties of t. target says what the request addresses: a single entity takes only $select, $expand and
// $format; /$count refuses $top, $skip, $orderby, $select and $skiptoken, which OData says a client must not
// combine with it (the result would be undefined).
//
// The string is split on '&' here, not by net/url, which drops a whole parameter holding a raw ';' (legal in an
// OData string literal). Each name and value is percent-decoded with '+' read as a space. System query option
// names are case-insensitive and may omit the '$' (Graph beta): `filter`, `$filter` and `$FILTER` are the same
// option, and giving it twice is an error. Unknown names starting with '$' are errors; other unknown names are
// ignored. Names starting with '@' define parameter aliases for $filter; using an undefined alias is an error
// (rather than OData's null, which would quietly match nothing).
func ParseQuery(t *EntityType, rawQuery string, target Target) (Query, error) {
	q := Query{Top: -1}
	var (
		values  [numOptions]string
		given   [numOptions]string // the name as written, "" when absent
		order   []option
		aliases map[string]string
	)
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return Query{}, badRequest("The query string is malformed: the parameter name '%s' has an invalid percent-encoding.", quoteText(rawName))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return Query{}, badRequest("The query string is malformed: the value of the parameter '%s' has an invalid percent-encoding.", quoteText(name))
		}
		if strings.HasPrefix(name, "@") {
			if !isIdentifier(name[1:]) {
				return Query{}, badRequest("The parameter alias name '%s' is not valid: write @ followed by a letter or '_' and then letters, digits or '_'.", quoteText(name))
			}
			if _, dup := aliases[name]; dup {
				return Query{}, badRequest("The parameter alias '%s' is given more than once.", name)
			}
			if aliases == nil {
				aliases = make(map[string]string)
			}
			aliases[name] = value
			continue
		}
		opt, known := lookupOption(strings.ToLower(strings.TrimPrefix(name, "$")))
		if !known {
			if strings.HasPrefix(name, "$") {
				return Query{}, badRequest("The query parameter '%s' is not supported.", quoteText(name))
			}
			continue
		}
		canonical := "$" + optionNames[opt]
		if given[opt] != "" {
			return Query{}, badRequest("The query option '%s' is given more than once (as '%s' and '%s').", canonical, quoteText(given[opt]), quoteText(name))
		}
		if opt == optSearch {
			return Query{}, badRequest(searchNotSupported)
		}
		if allowed[target]&(1<<opt) == 0 {
			if target == ForEntity {
				return Query{}, badRequest("The query option '%s' is not supported when addressing a single entity; only $select and $expand apply.", canonical)
			}
			return Query{}, badRequest("The query option '%s' cannot be combined with /$count, which counts the entities $filter selects.", canonical)
		}
		given[opt], values[opt] = name, value
		order = append(order, opt)
	}
	for _, opt := range order {
		v := values[opt]
		var err error
		switch opt {
		case optFilter:
			q.Filter, err = ParseFilter(t, v, aliases)
		case optOrderBy:
			q.OrderBy, err = ParseOrderBy(t, v, aliases)
		case optSelect:
			q.Select, err = ParseSelect(t, v)
		case optTop:
			q.Top, err = parseNonNegative("$top", v)
		case optSkip:
			q.Skip, err = parseNonNegative("$skip", v)
		case optCount:
			q.Count, err = parseCount(v)
		case optExpand:
			err = parseExpand(t, v)
		case optSkipToken:
			q.SkipToken, q.HasSkipToken = v, true
		case optFormat:
			err = parseFormat(v)
		}
		if err != nil {
			return Query{}, err
		}
	}
	return q, nil
}

// isIdentifier reports whether s is an odataIdentifier (ASCII letters, digits and '_', not starting with a digit).
func isIdentifier(s string) bool {
	if s == "" || !isIdentStart(s[0]) || len(s) > 128 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// parseNonNegative reads $top and $skip: 1*DIGIT within the Int64 range. $top=0 is valid (no rows).
func parseNonNegative(name, v string) (int64, error) {
	ok := v != ""
	for i := 0; ok && i < len(v); i++ {
		ok = isDigit(v[i])
	}
	if ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		return 0, badRequest("The value '%s' of %s is out of range: it must be at most %d.", quoteText(v), name, int64(1<<63-1))
	}
	return 0, badRequest("The value '%s' of %s is not valid: it must be a non-negative integer.", quoteText(v), name)
}

// parseCount reads $count: true or false, case-insensitive.
func parseCount(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("The value '%s' of $count is not valid: it must be true or false.", quoteText(v))
}

// parseExpand reads $expand. The entities have no navigation properties, so only * (expand all: nothing) is
// valid.
func parseExpand(t *EntityType, v string) error {
	if strings.Trim(v, " \t") == "" {
		return badRequest("The value of $expand is empty.")
	}
	for item := range strings.SplitSeq(v, ",") {
		name := strings.Trim(item, " \t")
		if name == "*" {
			continue
		}
		if prop, ok := t.Property(name); ok {
			return badRequest("Property '%s' on type '%s' is not a navigation property or complex property. Only navigation properties can be expanded.", prop.Name, t.Qualified)
		}
		if name == "" {
			return badRequest("The $expand list '%s' has an empty item.", quoteText(v))
		}
		return unknownProperty(t, name)
	}
	return nil
}

// parseFormat reads $format: JSON is the only format served.
func parseFormat(v string) error {
	switch strings.ToLower(v) {
	case "json", "application/json":
		return nil
	}
	return badRequest("The value '%s' of $format is not supported: only json is.", quoteText(v))
}
