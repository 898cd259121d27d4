package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// collectionQuery is one timed collection request.
type collectionQuery struct {
	name   string
	query  string // the raw query options, unencoded
	median time.Duration
	rows   int
	note   string
}

// page is the part of a collection response the bench reads.
type page struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// encodeQuery percent-encodes OData query options the way careful clients do: spaces as %20 and quotes,
// commas and parentheses encoded.
func encodeQuery(options string) string {
	var parts []string
	for opt := range strings.SplitSeq(options, "&") {
		name, value, _ := strings.Cut(opt, "=")
		parts = append(parts, name+"="+strings.ReplaceAll(url.QueryEscape(value), "+", "%20"))
	}
	return strings.Join(parts, "&")
}

// collectionAvailable reports whether this graphd build serves the collection GET, with the status it gave.
func collectionAvailable(ctx context.Context, client *http.Client, base string, header http.Header) (bool, int, error) {
	p, status, err := getPage(ctx, client, base+collectionPath+"?"+encodeQuery("$top=1"), header)
	if err != nil && status == 0 {
		return false, 0, err
	}
	return status == http.StatusOK && p.Value != nil, status, nil
}

// getPage fetches and decodes one collection page.
func getPage(ctx context.Context, client *http.Client, u string, header http.Header) (page, int, error) {
	var p page
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return p, 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return p, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return p, resp.StatusCode, fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	err = json.NewDecoder(resp.Body).Decode(&p)
	return p, resp.StatusCode, err
}

// timeGet requests u once to warm up, then repeat times, and returns the median latency and the rows of the
// last response.
func timeGet(ctx context.Context, client *http.Client, u string, header http.Header, repeat int) (time.Duration, page, error) {
	var last page
	if _, _, err := getPage(ctx, client, u, header); err != nil {
		return 0, last, err
	}
	lat := make([]time.Duration, 0, repeat)
	for range repeat {
		began := time.Now()
		p, _, err := getPage(ctx, client, u, header)
		if err != nil {
			return 0, last, err
		}
		lat = append(lat, time.Since(began))
		last = p
	}
	return summarize(lat).p50, last, nil
}

// pagingResult is the walk from page 1 to page target through nextLinks.
type pagingResult struct {
	pages         int // pages reached (target, unless the collection ended first)
	walk          time.Duration
	first, target time.Duration // median latency of page 1 and of the last page reached
}

// walkPages follows @odata.nextLink from the first page (pageSize rows each) to page target, then times page
// 1 and the last page reached again, repeat times each. auth holds the Authorization header.
func walkPages(ctx context.Context, client *http.Client, base string, auth http.Header, pageSize, target, repeat int) (pagingResult, error) {
	var r pagingResult
	header := auth.Clone()
	header.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", pageSize))
	first := base + collectionPath
	u := first
	began := time.Now()
	for r.pages = 1; ; r.pages++ {
		p, _, err := getPage(ctx, client, u, header)
		if err != nil {
			return r, fmt.Errorf("page %d: %w", r.pages, err)
		}
		if r.pages == target || p.NextLink == "" {
			break
		}
		u = p.NextLink
	}
	r.walk = time.Since(began)
	var err error
	if r.first, _, err = timeGet(ctx, client, first, header, repeat); err != nil {
		return r, err
	}
	if r.target, _, err = timeGet(ctx, client, u, header, repeat); err != nil {
		return r, err
	}
	return r, nil
}

// collectionQueries times issue 3's collection cases, if this build serves the collection.
func (b *bench) collectionQueries(ctx context.Context) error {
	client := &http.Client{Timeout: 30 * time.Second}
	auth := http.Header{"Authorization": {"Bearer " + b.main.token}}
	base := b.main.srv.baseURL()
	ok, status, err := collectionAvailable(ctx, client, base, auth)
	if !ok {
		why := fmt.Sprintf("GET %s?$top=1 answered %d", collectionPath, status)
		if err != nil {
			why = err.Error()
		}
		b.collectionNote = "not available in this build (" + why + ")"
		fmt.Fprintf(b.out, "\ncollection queries: not available in this build (%s)\n", why)
		return nil
	}
	b.collectionRows = b.opt.rows
	if b.opt.scale {
		b.collectionRows = b.opt.scaleRows
	}
	b.progress("collection queries over %d rows", b.collectionRows)
	b.queries = []collectionQuery{
		{name: "a", query: "$filter=startswith(connectorName,'conn-0004')&$orderby=connectorName&$top=50"},
		{name: "b", query: "$filter=enrollmentDateTime ge 2020-01-01T00:00:00Z and enrollmentDateTime lt 2020-02-01T00:00:00Z&$orderby=enrollmentDateTime desc&$top=50"},
		// An ordering by a time property alone: the index must deliver the order, or every page sorts the table.
		{name: "d", query: "$orderby=lastCheckinDateTime&$top=50"},
		// An ordering by an expression, which no index holds: its cost is a sort of the tenant's rows.
		{name: "e", query: "$orderby=length(connectorName) desc&$top=50"},
	}
	for i := range b.queries {
		q := &b.queries[i]
		med, p, err := timeGet(ctx, client, base+collectionPath+"?"+encodeQuery(q.query), auth, b.opt.repeat)
		if err != nil {
			q.note = "failed: " + err.Error()
			continue
		}
		q.median, q.rows = med, len(p.Value)
	}
	r, err := walkPages(ctx, client, base, auth, 100, 1000, b.opt.repeat)
	if err != nil {
		b.collectionNote = "paging failed: " + err.Error()
	} else {
		b.paging = &r
	}
	b.printCollection()
	return nil
}
