package firstorion

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// tokenSource holds the client's token and keeps it fresh: it refreshes a
// sixth of the lifetime before expiry, retries a failed refresh every
// sixtieth of the lifetime while the token is still good, and logs in
// afresh once it is not (vendors.md, Authentication). The token, refresh
// token, key and secret never leave this struct except in the
// Authorization header or the auth requests themselves.
type tokenSource struct {
	c *Client
	// lock serialises logins and refreshes (a one-slot channel, so waiting
	// for it respects a context).
	lock chan struct{}

	mu       sync.Mutex
	token    string
	refresh  string
	obtained time.Time
	life     time.Duration
	nextTry  time.Time // earliest refresh attempt after a failed one
	gen      int       // bumped for every new token
}

func newTokenSource(c *Client) *tokenSource {
	return &tokenSource{c: c, lock: make(chan struct{}, 1)}
}

// schedule returns when the current token should be refreshed, when it
// must be considered expired, and the pause between refresh attempts.
// Called with mu held.
func (ts *tokenSource) schedule() (refreshAt, expiry time.Time, pause time.Duration) {
	pause = ts.life / retryShare
	if pause < minRefreshPause {
		pause = minRefreshPause
	}
	// A token is treated as expired one pause early, so none expires while
	// its request is in flight.
	expiry = ts.obtained.Add(ts.life - pause)
	refreshAt = ts.obtained.Add(ts.life - ts.life/refreshShare)
	return refreshAt, expiry, pause
}

// get returns a token valid for the next request and its generation (for
// invalidate).
func (ts *tokenSource) get(ctx context.Context) (string, int, error) {
	for {
		ts.mu.Lock()
		now := ts.c.now()
		if ts.token != "" {
			refreshAt, expiry, _ := ts.schedule()
			if now.Before(expiry) {
				tok, gen := ts.token, ts.gen
				due := !now.Before(refreshAt) && !now.Before(ts.nextTry) && ts.refresh != ""
				ts.mu.Unlock()
				if due {
					// One goroutine refreshes; the others go on with the
					// token, which is still good.
					select {
					case ts.lock <- struct{}{}:
						ts.tryRefresh(ctx, gen)
						<-ts.lock
						continue
					default:
					}
				}
				return tok, gen, nil
			}
		}
		gen := ts.gen
		ts.mu.Unlock()
		select {
		case ts.lock <- struct{}{}:
		case <-ctx.Done():
			return "", 0, &transportErr{ve: &plan.VendorError{Vendor: plan.FirstOrion, Code: "canceled", Temporary: true, Err: ctx.Err()}}
		}
		ts.mu.Lock()
		fresh := ts.gen != gen // someone else logged in while we waited
		ts.mu.Unlock()
		var err error
		if !fresh {
			err = ts.login(ctx)
		}
		<-ts.lock
		if err != nil {
			return "", 0, err
		}
	}
}

// invalidate drops the token of generation gen after a 401, so the next get
// logs in afresh. A newer token is left alone.
func (ts *tokenSource) invalidate(gen int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.gen == gen {
		ts.token, ts.refresh = "", ""
	}
}

// login runs POST /v1/auth. Called with lock held.
func (ts *tokenSource) login(ctx context.Context) error {
	hdr := http.Header{}
	hdr.Set("X-SERVICE", "auth")
	hdr.Set("X-API-KEY", ts.c.cfg.APIKey)
	hdr.Set("X-SECRET-KEY", ts.c.cfg.SecretKey)
	started := ts.c.now()
	tok, err := ts.c.authCall(ctx, pathAuth, hdr, nil)
	if err != nil {
		return err
	}
	ts.store(tok, started)
	ts.c.log.Debug("firstorion: logged in", "expires_in_s", tok.ExpiresIn)
	return nil
}

// tryRefresh runs POST /v1/auth/refresh. A failure is logged and retried
// after the pause; the current token stays in use until it expires.
// Called with lock held.
func (ts *tokenSource) tryRefresh(ctx context.Context, gen int) {
	ts.mu.Lock()
	if ts.gen != gen || ts.refresh == "" {
		ts.mu.Unlock()
		return
	}
	body := refreshRequest{RefreshToken: ts.refresh}
	ts.mu.Unlock()
	started := ts.c.now()
	tok, err := ts.c.authCall(ctx, pathRefresh, http.Header{}, body)
	if err != nil {
		ts.mu.Lock()
		_, _, pause := ts.schedule()
		ts.nextTry = ts.c.now().Add(pause)
		ts.mu.Unlock()
		// err never holds a token: authCall builds it from the status and
		// the vendor's description only.
		ts.c.log.Warn("firstorion: token refresh failed; will retry while the token is valid", "error", err)
		return
	}
	ts.store(tok, started)
	ts.c.log.Debug("firstorion: token refreshed", "expires_in_s", tok.ExpiresIn)
}

func (ts *tokenSource) store(tok tokenAnswer, obtained time.Time) {
	life := time.Duration(float64(tok.ExpiresIn) * float64(time.Second))
	if life <= 0 {
		life = defaultTokenLife
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.token = tok.Token
	if tok.RefreshToken != "" {
		ts.refresh = tok.RefreshToken
	}
	ts.obtained = obtained
	ts.life = life
	ts.nextTry = time.Time{}
	ts.gen++
}
