package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/graphd/graphd/odata"
)

// The $skiptoken is a Cursor, signed, and bounded in size by construction whatever the sort values hold:
//
//   - a cursor whose JSON fits in MaxInlineCursor bytes travels in the token: base64url(JSON) "."
//     base64url(HMAC-SHA256(key, bind || JSON));
//   - a larger one (a long string sort key: values may be megabytes) is kept in the skiptoken_payloads table,
//     which every replica shares, under its SHA-256 digest, and the token is "s." base64url(digest) "."
//     base64url(HMAC). Rows are kept for at least CursorRetention; using a row again extends it.
//
// bind ties the token to the tenant and the query it was minted for, so a token is refused for another tenant or
// query, and a tampered token is refused outright. The key is a server secret shared by all replicas.

// SkipTokenSecret names the HMAC key in server_secrets.
const SkipTokenSecret = "skiptoken-hmac-v1"

// MaxInlineCursor is the largest cursor JSON a token carries itself; a token is at most about 2.8 kB.
const MaxInlineCursor = 2048

// CursorRetention is how long a stored cursor stays valid after its last use, at least: a client may page at
// leisure.
const CursorRetention = "7 days"

// maxToken bounds a token the decoder reads: an inline one is at most 4/3 of MaxInlineCursor plus the signature.
const maxToken = 4096

var errBadSkipToken = odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
	"The $skiptoken is not valid for this request. Follow @odata.nextLink exactly as the previous page returned it.")

type cursorJSON struct {
	Values []*string `json:"v"`
	Key    string    `json:"k"`
}

// EncodeCursor signs c for the given binding, storing its payload when it is too long to travel in the token.
func (s *Store) EncodeCursor(ctx context.Context, key []byte, bind string, c *Cursor) (string, error) {
	payload, err := json.Marshal(cursorJSON{Values: c.Values, Key: c.Key})
	if err != nil {
		return "", err
	}
	sig := base64.RawURLEncoding.EncodeToString(mac(key, bind, payload))
	if len(payload) <= MaxInlineCursor {
		return base64.RawURLEncoding.EncodeToString(payload) + "." + sig, nil
	}
	digest := sha256.Sum256(payload)
	_, err = s.db(ctx).Exec(ctx, `INSERT INTO skiptoken_payloads (digest, payload) VALUES ($1, $2)
		ON CONFLICT (digest) DO UPDATE SET created_at = now()`, digest[:], payload)
	if err != nil {
		return "", translate(err)
	}
	if sometimes(64) {
		if _, err := s.db(ctx).Exec(ctx, "DELETE FROM skiptoken_payloads WHERE created_at < now() - interval '"+CursorRetention+"'"); err != nil {
			return "", translate(err)
		}
	}
	return "s." + base64.RawURLEncoding.EncodeToString(digest[:]) + "." + sig, nil
}

// DecodeCursor verifies a token for the binding and a query of items $orderby items, and returns its cursor.
func (s *Store) DecodeCursor(ctx context.Context, key []byte, bind, token string, items int) (*Cursor, error) {
	if len(token) > maxToken {
		return nil, errBadSkipToken
	}
	var payload []byte
	if rest, stored := strings.CutPrefix(token, "s."); stored {
		d, sig, ok := strings.Cut(rest, ".")
		digest, err := base64.RawURLEncoding.DecodeString(d)
		if !ok || err != nil || len(digest) != sha256.Size {
			return nil, errBadSkipToken
		}
		err = s.db(ctx).QueryRow(ctx, "UPDATE skiptoken_payloads SET created_at = now() WHERE digest = $1 RETURNING payload", digest).Scan(&payload)
		if err = translate(err); errors.Is(err, odata.ErrNotFound) {
			return nil, odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
				"The $skiptoken has expired: start the listing again from its first page.")
		} else if err != nil {
			return nil, err
		}
		if got := sha256.Sum256(payload); !hmac.Equal(got[:], digest) || !verify(key, bind, payload, sig) {
			return nil, errBadSkipToken
		}
	} else {
		p, sig, ok := strings.Cut(token, ".")
		var err error
		payload, err = base64.RawURLEncoding.DecodeString(p)
		if !ok || err != nil || !verify(key, bind, payload, sig) {
			return nil, errBadSkipToken
		}
	}
	var cj cursorJSON
	if err := json.Unmarshal(payload, &cj); err != nil || len(cj.Values) != items || cj.Key == "" {
		return nil, errBadSkipToken
	}
	return &Cursor{Values: cj.Values, Key: cj.Key}, nil
}

func verify(key []byte, bind string, payload []byte, sig string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, mac(key, bind, payload))
}

func mac(key []byte, bind string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(bind))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:16]
}
