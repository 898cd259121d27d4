package httpapi

// The bounds of batches, for the tests of package httpapi_test.
const (
	BatchParallelism = batchParallelism
	GroupAttempts    = groupAttempts
)
