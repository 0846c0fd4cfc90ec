//go:build !vectors

package zapbuild

import "github.com/blevesearch/bleve/v2/index/scorch"

// Register makes Plugin scorch's plugin for zap version 17 segments, the
// default for new ones. Indexes opened before keep the plugin they have.
func Register() {
	scorch.RegisterSegmentPlugin(&Plugin{}, true)
}
