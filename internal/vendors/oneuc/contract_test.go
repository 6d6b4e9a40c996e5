package oneuc_test

import (
	"flag"
	"os"
	"testing"

	"github.com/numsync/numsync/internal/plan/vendortest"
	"github.com/numsync/numsync/internal/vendors/oneuc/oneuctest"
)

// The sandbox flags: the suite's read-only cases run against a real OneUC
// account when -oneuc-sandbox is given. The key comes from -oneuc-key or,
// so it stays out of shell history, from $ONEUC_SANDBOX_API_KEY.
var (
	sandboxURL     = flag.String("oneuc-sandbox", "", "base URL of a OneUC sandbox to run the contract suite against")
	sandboxAccount = flag.String("oneuc-account", "", "sandbox account id (or $ONEUC_SANDBOX_ACCOUNT)")
	sandboxKey     = flag.String("oneuc-key", "", "sandbox API key (or $ONEUC_SANDBOX_API_KEY)")
)

func TestContractLab(t *testing.T) {
	oneuctest.RunContract(t, oneuctest.LabHarness())
}

func TestContractSandbox(t *testing.T) {
	if *sandboxURL == "" {
		t.Skip("no -oneuc-sandbox URL given")
	}
	account, key := *sandboxAccount, *sandboxKey
	if account == "" {
		account = os.Getenv("ONEUC_SANDBOX_ACCOUNT")
	}
	if key == "" {
		key = os.Getenv("ONEUC_SANDBOX_API_KEY")
	}
	if account == "" || key == "" {
		t.Fatal("-oneuc-sandbox needs an account and a key (flags or environment)")
	}
	oneuctest.RunContract(t, oneuctest.SandboxHarness(*sandboxURL, account, key))
}

// TestVendorContractLab runs the suite every plan.Vendor passes (the fake
// of plantest and First Orion's client too) through the client against
// the lab.
func TestVendorContractLab(t *testing.T) {
	vendortest.Run(t, oneuctest.VendorHarness())
}
