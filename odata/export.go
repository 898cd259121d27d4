package odata

import "strconv"

// AppendExport writes what a tenant holds as a fixture file that ParseImport reads back to the same values: an
// object with the tenant (when set.Tenant is set), a member per entity set, by the set's name, holding its entities as a GET returns them but with
// secrets and without @odata.etag (a version is the server's, and an import starts its own), and
// healthMetricSamples. Timestamps keep their seven digits and offsets, so export, import and export again gives
// the same bytes.
func AppendExport(b []byte, m *Model, set *ImportSet) []byte {
	b = append(b, '{')
	if set.Tenant != "" {
		b = append(b, `"tenant":`...)
		b = AppendJSONString(b, set.Tenant)
		b = append(b, ',')
	}
	for i, es := range m.Sets {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, es.Name)
		b = append(b, ":["...)
		for j := range set.Entities[i] {
			if j > 0 {
				b = append(b, ',')
			}
			b = AppendEntity(b, es, &set.Entities[i][j], EntityOptions{NoETag: true})
		}
		b = append(b, ']')
	}
	if len(m.Sets) > 0 {
		b = append(b, ',')
	}
	b = append(b, `"healthMetricSamples":[`...)
	for i, s := range set.Samples {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"connectorId":`...)
		b = AppendJSONString(b, s.ConnectorID)
		b = append(b, `,"metricName":`...)
		b = AppendJSONString(b, s.MetricName)
		b = append(b, `,"dateTime":"`...)
		b = s.DateTime.AppendText(b)
		b = append(b, `","successCount":`...)
		b = strconv.AppendInt(b, s.SuccessCount, 10)
		b = append(b, `,"failureCount":`...)
		b = strconv.AppendInt(b, s.FailureCount, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
