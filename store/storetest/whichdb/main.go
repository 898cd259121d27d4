// Command whichdb prints which PostgreSQL the integration tests will use, and why, as store/storetest decides it
// (storetest.Choose), without starting anything. make test runs it first, because go test shows nothing of the
// packages that pass.
package main

import (
	"context"
	"fmt"

	"github.com/graphd/graphd/store/storetest"
)

func main() {
	storetest.QuietDocker()
	fmt.Println("integration tests use " + storetest.Choose(context.Background()).String())
}
