package httpapi

import (
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readJSONBody returns the request body after checking Content-Type and Content-Encoding. The size limit applies
// to the bytes on the wire and again to the decompressed bytes, so a small gzip bomb still gets 413.
func (s *server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, errUnsupportedMediaType("The request has no Content-Type: send the body as application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, errUnsupportedMediaType("The Content-Type '" + quoteText(ct) + "' is not supported: send the body as application/json.")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, errUnsupportedMediaType("The charset '" + quoteText(cs) + "' is not supported: send the body as UTF-8.")
	}
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	compressed := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, bodyError(err, true)
		}
		defer zr.Close()
		body, compressed = zr, true
	default:
		return nil, errUnsupportedMediaType("The Content-Encoding '" + quoteText(enc) + "' is not supported: send the body uncompressed or gzip-compressed.")
	}
	hint := r.ContentLength
	if compressed {
		hint = -1
	}
	b, err := readAtMost(body, limit, hint)
	if err != nil {
		return nil, bodyError(err, compressed)
	}
	if s.journal != nil {
		requestInfoFrom(r.Context()).body = b
	}
	return b, nil
}

// readAtMost reads r to its end, or fails with errTooLarge once it has more than limit bytes. Its buffer starts
// at the declared length, when there is one, and doubles: a body near the limit costs about twice its size,
// where io.ReadAll's gentler growth would allocate five times it. A declared length is trusted only up to
// maxHint, so a client cannot make the server hold the whole limit by announcing a body it never sends.
func readAtMost(r io.Reader, limit, hint int64) ([]byte, error) {
	const maxHint = 64 << 10
	size := int64(512)
	if hint >= 0 {
		size = min(hint+1, maxHint) // one more, so that the end is seen without growing
	}
	b := make([]byte, 0, min(size, limit+1))
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return nil, errTooLarge
			}
			grown := 2 * int64(cap(b))
			if grown >= limit {
				// Straight to the end: doubling to exactly limit bytes would need one more copy to see EOF.
				grown = limit + 1
			}
			nb := make([]byte, len(b), grown)
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case int64(len(b)) > limit:
			return nil, errTooLarge
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, err
		}
	}
}

func bodyError(err error, compressed bool) error {
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, errTooLarge), errors.As(err, &maxErr):
		return errTooLarge
	case compressed:
		return errBadEncoding
	}
	return errUnreadableBody
}
