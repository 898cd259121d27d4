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
		return nil, errUnsupportedMediaType("The Content-Type '" + ct + "' is not supported: send the body as application/json.")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, errUnsupportedMediaType("The charset '" + cs + "' is not supported: send the body as UTF-8.")
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
		return nil, errUnsupportedMediaType("The Content-Encoding '" + enc + "' is not supported: send the body uncompressed or gzip-compressed.")
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, bodyError(err, compressed)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

func bodyError(err error, compressed bool) error {
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return errTooLarge
	case compressed:
		return errBadEncoding
	}
	return errUnreadableBody
}
