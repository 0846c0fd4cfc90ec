//go:build vectors

package zapbuild

// Register does nothing in a build with Bleve's vectors tag: zapx then
// lists a vector section for every field, which sections does not, and
// builds vector fields, which Handles does not know. zapx's own builder
// stays in use.
func Register() {}
