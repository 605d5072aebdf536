// Package apply carries out a reviewed plan on a live cluster: it turns the
// plan into ordered steps, verifies that the cluster is still the one the
// plan was built from (content hash, UID and resourceVersion of every
// object the plan acts on), dry-runs every write on the server unless the
// plan is approved, backs up every object before it changes it, journals
// every step so that a crashed run can be resumed, and restores the backup
// on rollback.
//
// It talks to the API server, so it is not an engine: the engines stay pure
// and this package stays out of their import graphs. Reading the cluster
// goes through the snapshot (internal/snapshot/live), as every other
// feature does; the only per-object calls are the ones a step needs at the
// moment it runs: re-reading the object it changes and re-checking that a
// namespace is still empty.
//
// It carries out namespace deletions and moves: targets created by
// server-side apply, Secrets copied, volumes handed over from claim to
// claim, each target verified before its sources are scaled down and
// deleted.
package apply
