package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/samples"
)

type labFlags struct {
	listen    string
	seed      string
	rps       float64
	faultRate float64
	latency   time.Duration
	lostRate  float64
	tokenTTL  time.Duration
	randSeed  int64
}

var labSpec = cmdSpec{
	name:     "lab",
	synopsis: "serve both vendor labs over HTTP for integration tests",
	usage:    "numsync lab [--listen 127.0.0.1:8080] [--seed FILE|DIR] [--rps N] [--fault-rate F] [--lost-rate F] [--latency D] [--token-ttl D] [--rand-seed N]",
	about: `Serves both vendor labs (in-memory implementations of the OneUC and First
Orion APIs as vendors.md describes them) over HTTP, for integration tests.`,
	examples: `  numsync lab
  numsync lab --listen 127.0.0.1:9090 --seed samples/ --fault-rate 0.05 --latency 50ms
`,
}

func (f *labFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "listen on `ADDR`")
	fs.StringVar(&f.seed, "seed", "", "seed the labs from `FILE`: a JSON {\"oneuc\": …, \"firstorion\": …} or a directory with oneuc-seed.json and firstorion-seed.json (default: the embedded samples)")
	fs.Float64Var(&f.rps, "rps", 10, "rate limit each lab to `N` requests a second (429 beyond; 10 is both vendors' documented or assumed limit; 0: unlimited)")
	fs.Float64Var(&f.faultRate, "fault-rate", 0, "inject faults (5xx, drops) into a share `F` (0–1) of requests")
	fs.DurationVar(&f.latency, "latency", 0, "add `D` of latency to every response")
	fs.Float64Var(&f.lostRate, "lost-rate", 0, "carry out a share `F` (0–1) of writes and then lose the answer")
	fs.DurationVar(&f.tokenTTL, "token-ttl", 0, "make tokens expire after `D` (0: the vendors' 60 minutes)")
	fs.Int64Var(&f.randSeed, "rand-seed", 1, "seed the labs' random choices with `N`")
}

// cmdLab is `numsync lab`.
func cmdLab(e *env) *cobra.Command {
	var f labFlags
	return e.command(labSpec, f.define, func(ctx context.Context, _ []string) error {
		return runLab(ctx, e, f)
	})
}

// runLab is `numsync lab` once its flags are parsed.
func runLab(ctx context.Context, e *env, f labFlags) error {
	var err error
	if f.faultRate < 0 || f.faultRate > 1 || f.lostRate < 0 || f.lostRate > 1 {
		return &usageError{errors.New("--fault-rate and --lost-rate must be between 0 and 1")}
	}
	if f.rps < 0 || f.latency < 0 {
		return &usageError{errors.New("--rps and --latency must not be negative")}
	}
	srv := labserver.New(labserver.Options{RPS: f.rps, Latency: f.latency, FaultRate: f.faultRate,
		LostRate: f.lostRate, TokenTTL: f.tokenTTL, Seed: f.randSeed, StatusDelay: 5 * time.Second})
	if f.seed == "" {
		err = srv.SeedFS(samples.FS)
	} else {
		err = srv.SeedFile(f.seed)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "numsync lab: OneUC at %s%s, First Orion at %s%s, stats at %s/_lab/stats\n\n%s",
		base, labserver.OneUCPrefix, base, labserver.FirstOrionPrefix, base, labserver.ConfigYAML(base))
	if fl, ok := e.stdout.(interface{ Sync() error }); ok {
		_ = fl.Sync()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	fmt.Fprintln(e.stderr, "numsync lab: shutting down")
	return hs.Shutdown(shut)
}
