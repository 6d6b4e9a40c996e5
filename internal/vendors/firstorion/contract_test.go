package firstorion_test

import (
	"flag"
	"os"
	"testing"

	"github.com/numsync/numsync/internal/plan/vendortest"
	"github.com/numsync/numsync/internal/vendors/firstorion/firstoriontest"
	"github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// The contract suite runs against the lab in every `go test`, and against a
// real First Orion lab account when given one:
//
//	go test ./internal/vendors/firstorion -run TestContractSandbox \
//	  -firstorion-sandbox https://api.forp-lab.com \
//	  -firstorion-business 719d140e-... -firstorion-prefix +1201555
//
// with FO_API_KEY and FO_SECRET_KEY in the environment (or -firstorion-key
// and -firstorion-secret). The account needs two business units, the first
// with at least two programs; numbers are created in the given prefix
// block and deleted again. Cases that need the lab's fault injection or
// short tokens are skipped there.
var (
	sandboxURL      = flag.String("firstorion-sandbox", "", "First Orion base URL to run the contract suite against (skipped when empty)")
	sandboxBusiness = flag.String("firstorion-business", "", "business id for -firstorion-sandbox")
	sandboxKey      = flag.String("firstorion-key", "", "API key for -firstorion-sandbox (default $FO_API_KEY)")
	sandboxSecret   = flag.String("firstorion-secret", "", "secret key for -firstorion-sandbox (default $FO_SECRET_KEY)")
	sandboxRPS      = flag.Float64("firstorion-rps", 5, "requests per second for -firstorion-sandbox")
	sandboxPrefix   = flag.String("firstorion-prefix", "+1201555", "E.164 prefix of the numbers the sandbox suite may create (4 digits are appended)")
)

func TestContractLab(t *testing.T) {
	firstoriontest.RunContract(t, firstoriontest.LabHarness())
}

func TestContractSandbox(t *testing.T) {
	if *sandboxURL == "" {
		t.Skip("no -firstorion-sandbox URL given")
	}
	key, secret := *sandboxKey, *sandboxSecret
	if key == "" {
		key = os.Getenv("FO_API_KEY")
	}
	if secret == "" {
		secret = os.Getenv("FO_SECRET_KEY")
	}
	firstoriontest.RunContract(t, firstoriontest.SandboxHarness(*sandboxURL, *sandboxBusiness, key, secret, *sandboxPrefix, *sandboxRPS))
}

// TestContractSandboxHarness runs the sandbox harness itself against a lab
// served over HTTP, so the path real accounts take is not left untested.
func TestContractSandboxHarness(t *testing.T) {
	l, url := firstoriontest.StartLab(t, lab.Options{}, lab.BaseSeed())
	o := l.Options()
	firstoriontest.RunContract(t, firstoriontest.SandboxHarness(url, o.BusinessID, o.APIKey, o.SecretKey, "+1201666", -1))
	if n := l.DeleteAllCalls(); n != 0 {
		t.Fatalf("delete-all calls: %d", n)
	}
	if n := l.Count(); n != 0 {
		t.Fatalf("sandbox cleanup left %d numbers", n)
	}
}

// TestVendorContractLab runs the suite every plan.Vendor passes (the fake
// of plantest and OneUC's client too) through the client against the lab.
func TestVendorContractLab(t *testing.T) {
	vendortest.Run(t, firstoriontest.VendorHarness())
}

// TestVendorContractSandbox runs the shared plan.Vendor suite against a
// real account, with the -firstorion-sandbox flags of TestContractSandbox.
func TestVendorContractSandbox(t *testing.T) {
	if *sandboxURL == "" {
		t.Skip("no -firstorion-sandbox URL given")
	}
	key, secret := *sandboxKey, *sandboxSecret
	if key == "" {
		key = os.Getenv("FO_API_KEY")
	}
	if secret == "" {
		secret = os.Getenv("FO_SECRET_KEY")
	}
	vendortest.Run(t, firstoriontest.VendorSandboxHarness(*sandboxURL, *sandboxBusiness, key, secret, *sandboxPrefix, *sandboxRPS))
}

// TestVendorContractSandboxHarness runs the sandbox path of the shared
// suite against a lab served over HTTP, so it is not left untested.
func TestVendorContractSandboxHarness(t *testing.T) {
	l, url := firstoriontest.StartLab(t, lab.Options{}, lab.BaseSeed())
	o := l.Options()
	t.Run("suite", func(t *testing.T) {
		vendortest.Run(t, firstoriontest.VendorSandboxHarness(url, o.BusinessID, o.APIKey, o.SecretKey, "+1201777", -1))
	})
	if n := l.DeleteAllCalls(); n != 0 {
		t.Fatalf("delete-all calls: %d", n)
	}
	if n := l.Count(); n != 0 {
		t.Fatalf("sandbox cleanup left %d numbers", n)
	}
}
