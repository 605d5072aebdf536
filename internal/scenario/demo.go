package scenario

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/purserhq/purser/internal/snapshot"
)

// blueoceanSnap is BlueOcean as recorded from the local control plane
// (re-record with `go test ./internal/scenario -run TestBlueOceanLive -update`
// once `make kcluster` has built the control plane).
//
//go:embed testdata/blueocean.snap
var blueoceanSnap []byte

// DemoSnapshot returns the embedded BlueOcean snapshot.
func DemoSnapshot() (*snapshot.Snapshot, error) {
	s, err := snapshot.Decode(bytes.NewReader(blueoceanSnap))
	if err != nil {
		return nil, fmt.Errorf("embedded BlueOcean snapshot: %w", err)
	}
	s.Meta.Source = "demo:blueocean"
	return s, nil
}

//go:embed blueocean-purser.yaml
var blueoceanConfig []byte

// DemoConfigFile is the name errors give the embedded demo config.
const DemoConfigFile = "blueocean-purser.yaml (embedded)"

// DemoConfigYAML returns the BlueOcean demo's purser.yaml, for
// config.Parse: what the cluster cannot tell by itself (teams,
// environments, bandwidth, the audit's load balancer price, plan rules).
func DemoConfigYAML() []byte { return bytes.Clone(blueoceanConfig) }
