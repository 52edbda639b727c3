// Package modelmgr keeps a registry of model artifacts and a bounded cache
// of the ones loaded into memory, verifying each artifact's SHA-256 digest
// before it is used, and tracking every model's latency and health.
//
// # Registry
//
// A [Spec] names a model by ID and Version and records where its artifact
// lives (Path), the artifact's expected SHA-256 digest, and free-form
// Metadata. [Manager.Register] validates and adds a spec; [Manager.Specs],
// [Manager.Versions] and [Manager.Latest] query the registry.
//
// # Loading
//
// [Manager.Acquire] returns a [Lease] on a loaded model, loading it first if
// needed: the artifact is opened, its digest computed while streaming it
// (cancellable through the context), and compared with the spec; on a
// mismatch the load fails with a [*ChecksumError] that names the model, the
// file, and the expected and actual digests, and the user's loader is never
// called. Otherwise the user's [Loader] turns the verified artifact into a
// model value. Concurrent acquisitions of a model that is loading wait for
// that one load.
//
// # Cache
//
// Loaded models are kept in an LRU cache bounded by count (MaxModels) and,
// optionally, by bytes (MaxBytes; a model's size is its artifact's size
// unless Config.SizeOf says otherwise). When a load takes the cache over a
// bound, the least recently used models that no one holds a lease on are
// evicted and passed to the Unload hook. A leased model is never unloaded
// under its user: if every cached model is leased the cache runs over its
// bound until leases are released, at which point it shrinks back.
// [Manager.Load] is Acquire followed by an immediate Release, for callers
// that only want the model warm, or whose models need no unloading.
//
// # Latency and health
//
// Callers report each use of a model with [Manager.Observe] (or
// [Lease.Observe], or let [Manager.Run] do it). Successful calls update an
// exponentially weighted moving average of latency (weight LatencyAlpha for
// the newest sample) and a latency histogram. UnhealthyAfter consecutive
// failures — failed loads included — mark the model unhealthy; the next
// success marks it healthy again. [Manager.Health] reports the state.
//
// Every manager exports Prometheus metrics under tessera_sdk_modelmgr_*,
// labelled with the manager's Name and, for per-model series, the model and
// version.
package modelmgr
