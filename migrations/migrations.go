// Package migrations holds graphd's database schema as goose migrations embedded in the binary. Files are
// append-only: a released migration is never edited, a change is a new file.
package migrations

import "embed"

// FS holds the NNNNN_name.sql files, each with an Up and a Down section.
//
//go:embed *.sql
var FS embed.FS
