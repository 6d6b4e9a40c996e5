package main

import (
	"context"
	"errors"
	"flag"
	"time"
)

type labFlags struct {
	listen    string
	seed      string
	rps       float64
	faultRate float64
	latency   time.Duration
}

var labSpec = cmdSpec{
	name:  "lab",
	usage: "numsync lab [--listen 127.0.0.1:8080] [--seed FILE] [--rps N] [--fault-rate F] [--latency D]",
	about: `Serves both vendor labs (in-memory implementations of the OneUC and First
Orion APIs as vendors.md describes them) over HTTP, for integration tests.`,
	examples: `  numsync lab
  numsync lab --listen 127.0.0.1:9090 --seed samples/lab-seed.json --fault-rate 0.05 --latency 50ms
`,
}

func (f *labFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "listen on `ADDR`")
	fs.StringVar(&f.seed, "seed", "", "seed the labs' inventories from `FILE`")
	fs.Float64Var(&f.rps, "rps", 0, "rate limit each lab to `N` requests a second (429 beyond; 0: the vendor's documented limit)")
	fs.Float64Var(&f.faultRate, "fault-rate", 0, "inject faults (5xx, drops) into a share `F` (0–1) of requests")
	fs.DurationVar(&f.latency, "latency", 0, "add `D` of latency to every response")
}

// cmdLab is `numsync lab`.
func cmdLab(ctx context.Context, e *env, args []string) error {
	var f labFlags
	if _, err := e.parse(labSpec, args, f.define); err != nil {
		return err
	}
	if f.faultRate < 0 || f.faultRate > 1 {
		return &usageError{errors.New("--fault-rate must be between 0 and 1")}
	}
	if f.rps < 0 || f.latency < 0 {
		return &usageError{errors.New("--rps and --latency must not be negative")}
	}
	_ = ctx
	return errNotImplemented
}
