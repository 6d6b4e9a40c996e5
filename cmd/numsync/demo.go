package main

import "context"

var demoSpec = cmdSpec{
	name:  "demo",
	usage: "numsync demo",
	about: `Starts both vendor labs in process on a free loopback port, seeded from
samples/, then runs plan and apply on samples/desired.csv and a second plan
that shows no changes. Needs no config, credentials or network.`,
	examples: `  numsync demo
`,
}

// cmdDemo is `numsync demo`.
func cmdDemo(ctx context.Context, e *env, args []string) error {
	if _, err := e.parse(demoSpec, args, nil); err != nil {
		return err
	}
	_ = ctx
	return errNotImplemented
}
