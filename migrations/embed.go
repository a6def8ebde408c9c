// Package migrations holds Portico's numbered, reversible SQL migrations,
// embedded so the binary migrates its own database (`portico migrate up`).
package migrations

import "embed"

// FS holds the *.up.sql and *.down.sql files, read by golang-migrate's iofs source.
//
//go:embed *.sql
var FS embed.FS
