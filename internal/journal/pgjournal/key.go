package pgjournal

import "hash/fnv"

// opKey is an operation's key in the ops table: the 64-bit FNV-1a hash of
// its id. An id ("firstorion/assign/+12125550123") is thirty bytes, and a
// run's hundred thousand progress rows carry it in the row and again in
// the primary key, twice over while updates leave old row versions behind;
// eight bytes do the same job. The id itself is in the operation's chunk,
// and reading checks the two agree. Two ids of one run with the same key
// (odds about 1 in 4·10⁹ for a run of 100,000) make Start refuse the run
// rather than mix them up.
func opKey(id string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return int64(h.Sum64())
}

// opKeys returns the keys of ids, in order.
func opKeys(ids []string) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = opKey(id)
	}
	return out
}
