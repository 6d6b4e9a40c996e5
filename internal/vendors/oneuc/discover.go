package oneuc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/numsync/numsync/internal/plan"
)

// Discovery: before OneUC activates a number the account does not hold, a
// carrier search must have returned it (vendors.md). This file finds the
// numbers of one Apply with as few searches as the rules allow.

// searchConcurrency bounds the searches one Apply runs at once.
const searchConcurrency = 4

// block returns the search prefix naming number's block of ten: "+" and
// its first ten digits.
func block(number string) string {
	if len(number) > blockDigits+1 {
		return number[:blockDigits+1]
	}
	return number
}

// wideBlock returns the prefix of number's wide block ("+" and its first
// wideDigits digits: a block of a hundred, for a NANP number) and the
// quantity that returns all of it; ok is false when the block is the
// number itself or larger than a search may ask for.
func wideBlock(number string) (prefix string, quantity int, ok bool) {
	free := len(number) - (wideDigits + 1)
	if free < 1 {
		return "", 0, false
	}
	quantity = 1
	for range free {
		quantity *= 10
		if quantity > maxSearchQuantity {
			return "", 0, false
		}
	}
	return number[:wideDigits+1], quantity, true
}

// search is one carrier search of a discovery round and the ops whose
// numbers it is to find.
type search struct {
	prefix   string
	quantity int
	idx      []int
	// wide marks a search on a block of a hundred: a number it does not
	// return is looked for again in its block of ten (vendors.md: a carrier
	// may return fewer than asked).
	wide bool
}

// discover finds the numbers of the ops at need with as few carrier
// searches as vendors.md allows, and returns the ops whose number a search
// returned; the others get their result here. Searching pays as wide as
// the numbers are dense:
//
//   - a block of a hundred in which the batch wants numbers of two or
//     more blocks of ten is searched once, with quantity 100, instead of
//     once per block of ten;
//   - a block of ten alone in its hundred is searched by itself (quantity
//     10), so sparse numbers cost what they did, except at the batch's two
//     ends (below);
//   - a wanted number a wide answer left out is looked for in its block of
//     ten before it is declared not available, so a carrier that returns
//     fewer than asked loses no number; once it has, the batches after
//     search blocks of ten only (wideAnswersShort) while the answers that
//     showed it are kept.
//
// Answers are kept for discoveryTTL (searchPrefix), so the batches after
// this one reuse them.
func (c *Client) discover(ctx context.Context, ops []plan.Op, need []int, results []plan.Result) []int {
	var found []int
	tens := map[string][]int{}
	var tenOrder []string
	wideTens := map[string][]string{} // block of a hundred -> its blocks of ten, in order
	var wideOrder []string
	for _, i := range need {
		n := ops[i].Number
		if sb, ok := c.cachedSearch(block(n)); ok {
			// A block of ten searched lately answers for itself.
			if sb[n] {
				found = append(found, i)
			} else {
				results[i] = notAvailable(ops[i], block(n))
			}
			continue
		}
		t := block(n)
		if _, seen := tens[t]; !seen {
			tenOrder = append(tenOrder, t)
			if w, _, ok := wideBlock(n); ok {
				if _, seen := wideTens[w]; !seen {
					wideOrder = append(wideOrder, w)
				}
				wideTens[w] = append(wideTens[w], t)
			}
		}
		tens[t] = append(tens[t], i)
	}

	// The blocks of a hundred holding the batch's lowest and highest
	// numbers are searched wide even for one block of ten: where numbers
	// are contiguous, the batches before and after want the rest of them
	// and find the answer kept (or join the search under way), where a
	// narrow search here would be repeated wide there. Against a carrier
	// that answers in full this costs sparse numbers nothing (one search
	// either way).
	lo, hi := "", ""
	for _, i := range need {
		n := ops[i].Number
		if lo == "" || n < lo {
			lo = n
		}
		if n > hi {
			hi = n
		}
	}
	edge := map[string]bool{}
	for _, n := range []string{lo, hi} {
		if w, _, ok := wideBlock(n); ok {
			edge[w] = true
		}
	}

	// Against a carrier seen lately to answer wide searches short, a wide
	// search is one request more, not fewer: search blocks of ten only
	// (answers already kept are still used).
	short := c.wideAnswersShort()

	var round []search
	covered := map[string]bool{}
	for _, w := range wideOrder {
		ts := wideTens[w]
		_, cached := c.cachedSearch(w)
		if !cached && (short || len(ts) < 2 && !edge[w]) {
			continue
		}
		_, q, _ := wideBlock(ops[tens[ts[0]][0]].Number)
		s := search{prefix: w, quantity: q, wide: true}
		for _, t := range ts {
			s.idx = append(s.idx, tens[t]...)
			covered[t] = true
		}
		round = append(round, s)
	}
	for _, t := range tenOrder {
		if !covered[t] {
			round = append(round, search{prefix: t, quantity: searchQuantity, idx: tens[t]})
		}
	}

	// Numbers a wide answer left out, by block of ten, for the second
	// round.
	missing := map[string][]int{}
	var missOrder []string
	c.runSearches(ctx, round, func(s search, avail map[string]bool, err error) {
		for _, i := range s.idx {
			op := ops[i]
			switch {
			case err != nil:
				results[i] = searchFailed(op, err)
			case avail[op.Number]:
				found = append(found, i)
			case s.wide:
				t := block(op.Number)
				if _, seen := missing[t]; !seen {
					missOrder = append(missOrder, t)
				}
				missing[t] = append(missing[t], i)
			default:
				results[i] = notAvailable(op, s.prefix)
			}
		}
	})
	if len(missOrder) == 0 {
		return found
	}
	round = round[:0]
	for _, t := range missOrder {
		round = append(round, search{prefix: t, quantity: searchQuantity, idx: missing[t]})
	}
	c.runSearches(ctx, round, func(s search, avail map[string]bool, err error) {
		for _, i := range s.idx {
			op := ops[i]
			switch {
			case err != nil:
				results[i] = searchFailed(op, err)
			case avail[op.Number]:
				found = append(found, i)
			default:
				results[i] = notAvailable(op, s.prefix)
			}
		}
	})
	return found
}

// runSearches runs the searches of one round, a few at a time, and hands
// each answer to done, one call at a time.
func (c *Client) runSearches(ctx context.Context, round []search, done func(search, map[string]bool, error)) {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, searchConcurrency)
	)
	for _, s := range round {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			avail, err := c.searchPrefix(ctx, s.prefix, s.quantity)
			mu.Lock()
			defer mu.Unlock()
			done(s, avail, err)
		}()
	}
	wg.Wait()
}

// searchFailed is the result of an activation whose search failed. A
// search changes nothing, so the activation was not attempted: Retry when
// the search may work later.
func searchFailed(op plan.Op, err error) plan.Result {
	out := plan.Failed
	if plan.IsTransient(err) {
		out = plan.Retry
	}
	return plan.Result{OpID: op.ID, Outcome: out, Err: withNumber(err, op.Number)}
}

// notAvailable is the result of an activation no search returned the
// number for, the last being the search of its block of ten.
func notAvailable(op plan.Op, prefix string) plan.Result {
	return failed(op, &plan.VendorError{Vendor: plan.OneUC, Number: op.Number,
		Code: "not_available", Message: "not available from the carrier (no search on " + prefix + " returned it)"})
}

// cachedSearch returns the answer of a recent search on prefix.
func (c *Client) cachedSearch(prefix string) (map[string]bool, bool) {
	c.blocksMu.Lock()
	defer c.blocksMu.Unlock()
	if sb, ok := c.blocks[prefix]; ok && c.clockNow().Sub(sb.at) < discoveryTTL {
		return sb.numbers, true
	}
	return nil, false
}

// wideAnswersShort reports whether a recent wide answer left out a number
// that the search of its block of ten then returned: the carrier answers
// wide searches with fewer numbers than asked. The kept answers say so
// themselves, so no other state is needed.
func (c *Client) wideAnswersShort() bool {
	c.blocksMu.Lock()
	defer c.blocksMu.Unlock()
	now := c.clockNow()
	for prefix, narrow := range c.blocks {
		if len(prefix) != blockDigits+1 || now.Sub(narrow.at) >= discoveryTTL {
			continue
		}
		// Only a search after the wide one tells: one before it may hold
		// numbers activated since, which no later search returns.
		wide, ok := c.blocks[prefix[:wideDigits+1]]
		if !ok || now.Sub(wide.at) >= discoveryTTL || narrow.at.Before(wide.at) {
			continue
		}
		for n := range narrow.numbers {
			if !wide.numbers[n] {
				return true
			}
		}
	}
	return false
}

// searchPrefix returns the numbers a carrier search on prefix with
// quantity returns. A recent answer is reused, and concurrent searches of
// one prefix share one request.
func (c *Client) searchPrefix(ctx context.Context, prefix string, quantity int) (map[string]bool, error) {
	if sb, ok := c.cachedSearch(prefix); ok {
		return sb, nil
	}
	v, err, _ := c.searches.Do(prefix, func() (any, error) {
		q := url.Values{"prefix": {prefix}, "quantity": {strconv.Itoa(quantity)}}
		ans, err := c.get(ctx, "/v2/phone_numbers", q)
		if err != nil {
			return nil, fmt.Errorf("oneuc: search %s: %w", prefix, err)
		}
		if ans.status != http.StatusOK {
			return nil, fmt.Errorf("oneuc: search %s: %w", prefix, c.httpError(ans, ""))
		}
		var hits []struct {
			E164   string `json:"e164"`
			Number string `json:"number"`
		}
		if err := json.Unmarshal(ans.env.Data, &hits); err != nil {
			return nil, fmt.Errorf("oneuc: search %s: %w", prefix, &plan.VendorError{Vendor: plan.OneUC,
				Status: ans.status, Code: "bad_answer", Message: "unreadable search answer", Err: err})
		}
		set := make(map[string]bool, len(hits))
		for _, h := range hits {
			if h.E164 != "" {
				set[h.E164] = true
			}
			if h.Number != "" {
				set[h.Number] = true
			}
		}
		c.blocksMu.Lock()
		c.blocks[prefix] = searchedBlock{at: c.clockNow(), numbers: set}
		c.blocksMu.Unlock()
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]bool), nil
}
