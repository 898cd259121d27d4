package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// List filters and orders with odata's reference evaluator (ties broken by the key in the direction of the last
// order item, as store.List breaks them) and pages by position after the cursor's key, which is what the keyset
// query returns for entities that do not change between pages. $skip applies only without a cursor; a page size
// of 0 reads only the count.
func (f *fakeStore) List(ctx context.Context, set *odata.EntitySet, tenant string, req store.ListRequest) (store.ListResult, error) {
	if err := f.enter(ctx); err != nil {
		return store.ListResult{}, err
	}
	defer f.mu.Unlock()
	var rows []odata.Entity
	for _, e := range f.rows[set.Index][tenant] {
		if odata.Match(req.Query.Filter, &e, req.Now) {
			rows = append(rows, e)
		}
	}
	order := req.Query.OrderBy
	slices.SortFunc(rows, func(a, b odata.Entity) int { return odata.CompareOrder(&a, &b, order, req.Now) })
	var res store.ListResult
	if req.Query.Count {
		res.Count = int64(len(rows))
	}
	if req.PageSize <= 0 {
		return res, nil
	}
	start := 0
	if req.After != nil {
		if len(req.After.Values) != len(order) {
			return store.ListResult{}, errFakeSkipToken
		}
		start = slices.IndexFunc(rows, func(e odata.Entity) bool { return e.Key() == req.After.Key }) + 1
	} else {
		start = int(min(req.Query.Skip, int64(len(rows))))
	}
	end := min(start+req.PageSize, len(rows))
	res.Items = rows[start:end]
	if end < len(rows) && end > start {
		last := &rows[end-1]
		next := &store.Cursor{Key: last.Key(), Values: make([]*string, len(order))}
		for i, o := range order {
			if v := odata.Eval(o.Expr, last, req.Now); !v.Null {
				s := cursorText(v)
				next.Values[i] = &s
			}
		}
		res.Next = next
	}
	return res, nil
}

// cursorText is a sort value as text, as store keeps it in a cursor (the fake only needs its size to be
// realistic: the page itself is found by key).
func cursorText(v odata.Value3) string {
	switch v.Kind {
	case odata.KindString:
		return v.Str
	case odata.KindBoolean:
		return strconv.FormatBool(v.Bool)
	case odata.KindDateTimeOffset:
		return strconv.FormatInt(v.Time.Ticks, 10)
	case odata.KindDecimal:
		return v.Dec.RatString()
	}
	return strconv.FormatInt(v.Int, 10)
}

var errFakeSkipToken = odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
	"The $skiptoken is not valid for this request. Follow @odata.nextLink exactly as the previous page returned it.")

type fakeCursor struct {
	Values []*string `json:"v"`
	Key    string    `json:"k"`
}

// EncodeCursor signs the cursor for its binding as store does: inline when its JSON is at most
// store.MaxInlineCursor bytes, else kept in the fake's table and named by its digest.
func (f *fakeStore) EncodeCursor(ctx context.Context, key []byte, bind string, c *store.Cursor) (string, error) {
	if err := f.enter(ctx); err != nil {
		return "", err
	}
	defer f.mu.Unlock()
	payload, err := json.Marshal(fakeCursor{c.Values, c.Key})
	if err != nil {
		return "", err
	}
	sig := base64.RawURLEncoding.EncodeToString(fakeMAC(key, bind, payload))
	if len(payload) <= store.MaxInlineCursor {
		return base64.RawURLEncoding.EncodeToString(payload) + "." + sig, nil
	}
	digest := sha256.Sum256(payload)
	d := base64.RawURLEncoding.EncodeToString(digest[:])
	f.payloads[d] = payload
	return "s." + d + "." + sig, nil
}

func (f *fakeStore) DecodeCursor(ctx context.Context, key []byte, bind, token string, items int) (*store.Cursor, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	var payload []byte
	var sig string
	if rest, stored := strings.CutPrefix(token, "s."); stored {
		var d string
		var ok bool
		if d, sig, ok = strings.Cut(rest, "."); !ok || f.payloads[d] == nil {
			return nil, errFakeSkipToken
		}
		payload = f.payloads[d]
	} else {
		p, s, ok := strings.Cut(token, ".")
		var err error
		if payload, err = base64.RawURLEncoding.DecodeString(p); !ok || err != nil {
			return nil, errFakeSkipToken
		}
		sig = s
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, fakeMAC(key, bind, payload)) {
		return nil, errFakeSkipToken
	}
	var c fakeCursor
	if err := json.Unmarshal(payload, &c); err != nil || len(c.Values) != items || c.Key == "" {
		return nil, errFakeSkipToken
	}
	return &store.Cursor{Values: c.Values, Key: c.Key}, nil
}

func fakeMAC(key []byte, bind string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(bind))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// HealthMetrics and HealthMetricTimeSeries answer from samples kept per tenant and connector.
func (f *fakeStore) HealthMetrics(ctx context.Context, tenant, id string, names []string) ([]int64, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if _, ok := f.rows[connSet.Index][tenant][id]; !ok {
		return nil, odata.ErrNotFound
	}
	sums := make([]int64, len(names))
	for i, name := range names {
		for _, m := range f.samples[tenant] {
			if m.ConnectorID == id && m.MetricName == name {
				sums[i] += m.SuccessCount + m.FailureCount
			}
		}
	}
	return sums, nil
}

func (f *fakeStore) HealthMetricTimeSeries(ctx context.Context, tenant, id, metric string, start, end odata.DateTimeOffset) ([]odata.MetricSample, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if _, ok := f.rows[connSet.Index][tenant][id]; !ok {
		return nil, odata.ErrNotFound
	}
	var out []odata.MetricSample
	for _, m := range f.samples[tenant] {
		if m.ConnectorID == id && m.MetricName == metric && m.DateTime.Ticks >= start.Ticks && m.DateTime.Ticks <= end.Ticks {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b odata.MetricSample) int { return int(a.DateTime.Ticks - b.DateTime.Ticks) })
	return out, nil
}
