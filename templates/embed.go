// Package templates holds the portal's html/template pages, embedded in the
// binary. layout.html defines the page frame; every other file defines a
// "content" block (and optionally "title") rendered inside it.
package templates

import "embed"

// FS holds every template file.
//
//go:embed *.html
var FS embed.FS
