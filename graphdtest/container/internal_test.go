package container

import (
	"testing"

	"github.com/graphd/graphd/httpapi"
)

// The module checks the admin token's length itself (without importing the server), so that a short token fails
// Run at once instead of graphd's start: the same minimum as graphd's.
func TestMinAdminToken(t *testing.T) {
	t.Parallel()
	if minAdminToken != httpapi.MinAdminTokenLength {
		t.Errorf("minAdminToken = %d, graphd's httpapi.MinAdminTokenLength = %d", minAdminToken, httpapi.MinAdminTokenLength)
	}
	if tok, err := randomToken(); err != nil || len(tok) < 2*minAdminToken {
		t.Errorf("randomToken() = %q, %v", tok, err)
	}
}
