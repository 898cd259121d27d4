package odata

// MetricSample is one health-metric observation of a connector: how many operations of a metric succeeded and
// failed at a time. The getHealthMetrics and getHealthMetricTimeSeries actions read them.
type MetricSample struct {
	ConnectorID  string // lower-case GUID
	MetricName   string
	DateTime     DateTimeOffset
	SuccessCount int64
	FailureCount int64
}
