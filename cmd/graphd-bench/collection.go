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
func collectionAvailable(ctx context.Context, client *http.Client, base string) (bool, int, error) {
	p, status, err := getPage(ctx, client, base+collectionPath+"?"+encodeQuery("$top=1"), nil)
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
// 1 and the last page reached again, repeat times each.
func walkPages(ctx context.Context, client *http.Client, base string, pageSize, target, repeat int) (pagingResult, error) {
	var r pagingResult
	header := http.Header{"Prefer": {fmt.Sprintf("odata.maxpagesize=%d", pageSize)}}
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
