package oneuc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:8080", AccountID: "acct", APIKey: "secret-key"}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url"},
		{"not http", func(c *Config) { c.URL = "ftp://x" }, "url"},
		{"no account", func(c *Config) { c.AccountID = "" }, "account_id"},
		{"account with a slash", func(c *Config) { c.AccountID = "a/b" }, "account_id"},
		{"no key", func(c *Config) { c.APIKey = "" }, "api_key"},
		{"negative batch", func(c *Config) { c.BatchSize = -1 }, "batch_size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := New(cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("New: %v, want an error about %s", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "secret-key"):
				t.Fatalf("error shows the key: %v", err)
			}
		})
	}
}

func TestGregorianToUnix(t *testing.T) {
	tests := []struct {
		name string
		in   json.Number
		want int64
	}{
		{"doc example", "63628550806", 63628550806 - 62167219200},
		{"float", "63628550806.0", 63628550806 - 62167219200},
		{"absent", "", 0},
		{"before 1970", "100", 0},
		{"garbage", "1e400", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := gregorianToUnix(tc.in); got != tc.want {
				t.Fatalf("gregorianToUnix(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestNumberPathAndBlock(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:1/base/", AccountID: "acct", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, number, wantPath, wantBlock string
		wantErr                           bool
	}{
		{"nanp", "+14155552671", "/v2/accounts/acct/phone_numbers/%2B14155552671", "+1415555267", false},
		{"short international", "+41234567", "/v2/accounts/acct/phone_numbers/%2B41234567", "+41234567", false},
		{"no plus", "14155552671", "", "", true},
		{"letters", "+1415555abcd", "", "", true},
		{"empty", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := c.numberPath(tc.number)
			if (err != nil) != tc.wantErr || p != tc.wantPath {
				t.Fatalf("numberPath(%q) = %q, %v", tc.number, p, err)
			}
			if !tc.wantErr && block(tc.number) != tc.wantBlock {
				t.Fatalf("block(%q) = %q, want %q", tc.number, block(tc.number), tc.wantBlock)
			}
		})
	}
}
