// Package rightsizelive tests `purser rightsize` end to end: a real
// Prometheus loaded with a recorded fortnight (promtool's backfill), a
// counting proxy in front of it, and the local control plane holding the
// pods the history describes. It holds no code; it keeps the engine's
// own test binary free of API clients.
package rightsizelive
