// Command numsync keeps a company's phone numbers at OneUC and First Orion
// in step with one desired-state CSV. See README.md.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
