// Package respcache caches responses to expensive requests — model
// inferences, validator queries — by a hash of the request.
//
// A Cache holds at most MaxEntries responses, each for TTL after it was
// stored; when full it evicts the least recently used entry. Expired entries
// are dropped when next touched, or all at once by Sweep.
//
// [Cache.Get] returns a fresh cached response or calls the fetch function.
// Concurrent Gets for the same key while a fetch is running share that one
// fetch (singleflight): the backend sees one request, every caller gets its
// response. The fetch runs in its own goroutine under a context that keeps
// the values of the first caller's context but is cancelled only when every
// caller waiting on it has given up, so one impatient caller cannot fail the
// others. Errors are returned to the callers waiting at the time and are not
// cached.
//
// Close cancels the fetches in flight and waits for their goroutines; after
// it, misses fail with [ErrClosed].
//
// Keys are [Key] values: a SHA-256 digest. The default key function hashes
// the JSON encoding of the request ([HashJSON]); supply Config.Key to hash
// only the fields that determine the response. The clock is injectable
// (Config.Now) so expiry can be tested without sleeping.
//
// Every cache exports Prometheus metrics under tessera_sdk_respcache_*,
// labelled with the cache's Name.
package respcache
