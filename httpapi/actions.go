package httpapi

import (
	"net/http"

	"github.com/graphd/graphd/odata"
)

// actionHandlers are the implementations of the model's bound actions, by set name and action name. The model
// names the actions and their access; routes binds each to its path.
func (s *server) actionHandlers() map[string]func(*odata.EntitySet) http.Handler {
	return map[string]func(*odata.EntitySet) http.Handler{
		odata.ConnectorsSet + "/getHealthMetrics":          s.handleGetHealthMetrics,
		odata.ConnectorsSet + "/getHealthMetricTimeSeries": s.handleGetHealthMetricTimeSeries,
	}
}

// handleGetHealthMetrics serves the bound action getHealthMetrics: for each requested metric, the sum of
// successCount + failureCount over the connector's samples.
func (s *server) handleGetHealthMetrics(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, body, id, ok := s.actionRequest(set, w, r)
		if !ok {
			return
		}
		names, err := odata.ParseHealthMetricsRequest(body)
		if err == nil && id == "" {
			err = odata.ErrNotFound
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		sums, err := s.store.HealthMetrics(r.Context(), callerFrom(r.Context()).TenantID, id, names)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.writeValue(w, r, f, odata.AppendKeyLongValuePairs(nil, names, sums, s.valueOptions(r, f)))
	})
}

// handleGetHealthMetricTimeSeries serves the bound action getHealthMetricTimeSeries: one metric's samples
// between start and end (now when omitted), in time order.
func (s *server) handleGetHealthMetricTimeSeries(set *odata.EntitySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, body, id, ok := s.actionRequest(set, w, r)
		if !ok {
			return
		}
		ts, err := odata.ParseTimeSeriesRequest(body)
		if err == nil && id == "" {
			err = odata.ErrNotFound
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		end := ts.End
		if !ts.HasEnd {
			end = s.now()
		}
		samples, err := s.store.HealthMetricTimeSeries(r.Context(), callerFrom(r.Context()).TenantID, id, ts.MetricName, ts.Start, end)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.writeValue(w, r, f, odata.AppendHealthMetricValues(nil, samples, s.valueOptions(r, f)))
	})
}

// actionRequest checks what both actions share: Accept, the body's media type and size, and the key. The key
// is returned empty when it is not a GUID, so the caller answers 404 only after the body has been validated.
func (s *server) actionRequest(set *odata.EntitySet, w http.ResponseWriter, r *http.Request) (format, []byte, string, bool) {
	f, err := negotiate(r)
	if err == nil && r.URL.RawQuery != "" {
		// Actions take no query options; a $-option is an error, others are ignored.
		_, err = odata.ParseQuery(set.Type, r.URL.RawQuery, odata.ForEntity)
	}
	if err != nil {
		s.error(w, r, err)
		return format{}, nil, "", false
	}
	body, err := s.readJSONBody(w, r)
	if err != nil {
		s.error(w, r, err)
		return format{}, nil, "", false
	}
	id, _ := key(set, r)
	return f, body, id, true
}

func (s *server) valueOptions(r *http.Request, f format) odata.ValueOptions {
	return odata.ValueOptions{ServiceRoot: s.serviceRoot(r), Metadata: f.meta, IEEE754Compatible: f.ieee754}
}

func (s *server) writeValue(w http.ResponseWriter, r *http.Request, f format, b []byte) {
	writeRaw(w, r, f.contentType(), b)
}
