package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/graphd/graphd/odata"
)

// The $skiptoken is a Cursor, signed: base64url(JSON) "." base64url(HMAC-SHA256(key, bind || JSON)). bind ties
// it to the tenant and the query it was minted for, so a token is refused for another tenant or filter, and
// a tampered token is refused outright. The key is a server secret shared by all replicas.

// SkipTokenSecret names the HMAC key in server_secrets.
const SkipTokenSecret = "skiptoken-hmac-v1"

var errBadSkipToken = odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
	"The $skiptoken is not valid for this request. Follow @odata.nextLink exactly as the previous page returned it.")

type cursorJSON struct {
	Keys      []json.RawMessage `json:"k"`
	ID        string            `json:"i"`
	Remaining int64             `json:"r"`
}

// EncodeCursor signs c for the given binding.
func EncodeCursor(key []byte, bind string, c *Cursor) string {
	cj := cursorJSON{ID: c.ID, Remaining: c.Remaining, Keys: make([]json.RawMessage, len(c.Keys))}
	for i, k := range c.Keys {
		switch v := k.(type) {
		case nil:
			cj.Keys[i] = json.RawMessage("null")
		case int64:
			// As a string, so no JSON reader turns it into a lossy float.
			cj.Keys[i] = json.RawMessage(`"#` + strconv.FormatInt(v, 10) + `"`)
		case string:
			b, _ := json.Marshal("$" + v)
			cj.Keys[i] = b
		}
	}
	payload, _ := json.Marshal(cj)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(mac(key, bind, payload))
}

// DecodeCursor verifies a token for the binding and the query's order and returns its cursor.
func DecodeCursor(key []byte, bind, token string, order []odata.OrderBy) (*Cursor, error) {
	dot := bytes.IndexByte([]byte(token), '.')
	if dot < 0 || len(token) > 4096 {
		return nil, errBadSkipToken
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(token[:dot])
	sig, err2 := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(key, bind, payload)) {
		return nil, errBadSkipToken
	}
	var cj cursorJSON
	if err := json.Unmarshal(payload, &cj); err != nil || len(cj.Keys) != len(order) || cj.Remaining < -1 {
		return nil, errBadSkipToken
	}
	if _, ok := odata.ParseGUID(cj.ID); !ok {
		return nil, errBadSkipToken
	}
	c := &Cursor{ID: cj.ID, Remaining: cj.Remaining, Keys: make([]any, len(order))}
	for i, raw := range cj.Keys {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errBadSkipToken
		}
		prop := odata.Properties[order[i].Prop]
		switch {
		case s == nil && prop.Nullable:
			c.Keys[i] = nil
		case s != nil && prop.Type == odata.EdmDateTimeOffset && len(*s) > 1 && (*s)[0] == '#':
			n, err := strconv.ParseInt((*s)[1:], 10, 64)
			if err != nil {
				return nil, errBadSkipToken
			}
			c.Keys[i] = n
		case s != nil && prop.Type == odata.EdmString && len(*s) > 0 && (*s)[0] == '$':
			c.Keys[i] = (*s)[1:]
		default:
			return nil, errBadSkipToken
		}
	}
	return c, nil
}

func mac(key []byte, bind string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(bind))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:16]
}
