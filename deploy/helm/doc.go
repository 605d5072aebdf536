// Package helm holds the tests of the Helm chart in ./purser: helm lint
// and helm template for every mode, the values schema, the restricted Pod
// Security profile, and, on the local control plane, a server-side dry
// run of what the chart renders, its RBAC checked with kubectl auth can-i
// and a real scan with the chart's ServiceAccount token. The chart itself
// is plain files; Go is only its test harness.
//
// helm comes from its Go module, built once per version into
// .cache/helm/<version>/ by `make helm` (make test does it); PURSER_HELM
// names another binary.
package helm
