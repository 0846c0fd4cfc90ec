// Package static holds the portal's CSS, JavaScript and images, embedded in
// the binary and served under content-hashed URLs. Nothing is loaded from a CDN.
package static

import "embed"

// FS holds every static file, under css/, js/ and img/.
//
//go:embed css js img
var FS embed.FS
