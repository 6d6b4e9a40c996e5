package firstorion

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/retry/retrytest"
)

// TestPacerWaitsBeforeTheToken (defect #6): at a rate of one request a
// minute, a request waits its turn for longer than a token lives. The wait
// must come before the token is taken, so no request leaves with a token
// that expired while it waited (the server's 401 and a second login were
// the price on main, where the token was checked first). A fake clock,
// shared with the server, makes the waits and the expiry exact.
func TestPacerWaitsBeforeTheToken(t *testing.T) {
	clock := retrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const life = 90 * time.Second
	var (
		mu      sync.Mutex
		issued  = map[string]time.Time{} // token -> expiry
		logins  int
		expired []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		now := clock.Now()
		if strings.HasSuffix(r.URL.Path, "/v1/auth") {
			logins++
			tok := fmt.Sprintf("token-%d", logins)
			issued[tok] = now.Add(life)
			fmt.Fprintf(w, `{"token":%q,"expires_in":%d}`, tok, int(life.Seconds()))
			return
		}
		tok := r.Header.Get("Authorization")
		if exp, ok := issued[tok]; !ok || !now.Before(exp) {
			expired = append(expired, fmt.Sprintf("%s %s at +%s", r.Method, r.URL.Path, now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":401,"description":"token expired"}}`)
			return
		}
		fmt.Fprint(w, `{"body":[]}`)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, BusinessID: "biz", APIKey: "k", SecretKey: "s", RPS: 1.0 / 60, Burst: 1},
		WithClock(clock.Now), WithSleep(clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := c.Read(context.Background(), []string{"+12125550100"}); err != nil {
			t.Fatalf("read %d: %v", i+1, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(expired) > 0 {
		t.Errorf("requests left with a token that expired while they waited for the pacer:\n%s", strings.Join(expired, "\n"))
	}
}
