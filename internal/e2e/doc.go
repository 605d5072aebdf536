// Package e2e runs Purser's verbs, through the action layer every front end
// calls, against the local control plane loaded with the BlueOcean demo:
// what a live cluster gives must be what the embedded demo gives, the
// audit's own fixes must fix the cluster, and a plan's tree must pass the
// API server's dry run. Keeping these tests here keeps the engines' own
// test binaries free of API clients.
package e2e
