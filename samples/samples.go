// Package samples embeds the sample desired-state CSV and the lab seeds, so
// `numsync demo` runs from any directory with nothing but the binary.
package samples

import "embed"

// FS holds desired.csv, bad.csv, oneuc-seed.json, firstorion-seed.json and
// numsync.yaml.
//
//go:embed desired.csv oneuc-seed.json firstorion-seed.json numsync.yaml
var FS embed.FS
