package plan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// fuzzPlans are real plan files for seeds: the golden plan of the demo,
// and small ones built here from testdata/small.yaml, which the mutator
// gets through faster.
func fuzzPlans(f *testing.F) [][]byte {
	f.Helper()
	golden, err := os.ReadFile(filepath.Join("testdata", "blueocean-product.plan.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	out := [][]byte{golden}
	data, err := os.ReadFile(filepath.Join("testdata", "small.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	small, err := snapshot.LoadManifests("small.yaml", data)
	if err != nil {
		f.Fatal(err)
	}
	demo, err := scenario.DemoSnapshot()
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := parseConfig("purser.yaml", []byte(fmt.Sprintf(smallConfig, "")))
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []struct {
		s        *snapshot.Snapshot
		strategy string
	}{{small, StrategyFile}, {small, StrategyEmpty}, {demo, StrategyEmpty}} {
		p, err := Build(context.Background(), snapshot.NewIndex(c.s), Input{Config: cfg.Plan, Strategy: c.strategy, Prices: doPrices()})
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := p.WriteYAML(&buf); err != nil {
			f.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// FuzzParse feeds plan files to Parse. A plan file is what an operator
// approves and an executor carries out, so what Parse accepts must be
// exactly what its hash covers: written again it reads back with the same
// hash and the same bytes. Mutations almost never keep the hash right, so
// a file whose only fault is its hash is also tried with the hash put
// right: that must be accepted, which takes the mutations past the hash
// check into the checks that follow it.
func FuzzParse(f *testing.F) {
	for _, p := range fuzzPlans(f) {
		f.Add(p)
	}
	small := fuzzPlans(f)[1]
	at := bytes.Index(small, []byte("contentHash: ")) + len("contentHash: ")
	hash := small[at : at+len(hashPrefix)+64]
	for _, edit := range []func([]byte) []byte{
		// A duplicate key, inside the hash and outside.
		func(b []byte) []byte { return append(b, []byte("kind: Plan\n")...) },
		func(b []byte) []byte {
			return bytes.Replace(b, []byte("metadata:\n"), []byte("metadata:\n  strategy: x\n"), 1)
		},
		// Keys that differ from the real ones by case only.
		func(b []byte) []byte { return append(b, []byte("Spec: {}\n")...) },
		// Numbers past every integer width, and deep nesting.
		func(b []byte) []byte {
			return bytes.Replace(b, []byte("namespaces:\n"), []byte("namespaces:\n    huge: 1e400\n    wide: 99999999999999999999999\n"), 1)
		},
		func(b []byte) []byte {
			return append(b, []byte("x: "+strings.Repeat("[", 500)+strings.Repeat("]", 500)+"\n")...)
		},
		// A second document, and an anchor that refers to itself.
		func(b []byte) []byte { return append(b, []byte("---\nkind: Plan\n")...) },
		func(b []byte) []byte { return append(b, []byte("x: &a [*a]\n")...) },
		// The hash of another plan.
		func(b []byte) []byte {
			return bytes.Replace(b, hash, []byte(hashPrefix+strings.Repeat("0", 64)), 1)
		},
	} {
		f.Add(edit(bytes.Clone(small)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("plan.yaml", data)
		if err != nil {
			if p != nil {
				t.Fatal("a plan returned with an error")
			}
			fixed, ok := rehash(data)
			if !ok {
				return
			}
			if p, err = Parse("plan.yaml", fixed); err != nil {
				t.Fatalf("a plan refused for its hash alone is refused again with the right hash: %v", err)
			}
		}
		if p == nil {
			t.Fatal("no plan and no error")
		}
		var out bytes.Buffer
		if err := p.WriteYAML(&out); err != nil {
			t.Fatalf("an accepted plan does not write: %v", err)
		}
		back, err := Parse("plan.yaml", out.Bytes())
		if err != nil {
			t.Fatalf("an accepted plan, written again, is refused: %v\n%s", err, out.Bytes())
		}
		if back.Metadata.ContentHash != p.Metadata.ContentHash {
			t.Fatalf("hash %s read back as %s", p.Metadata.ContentHash, back.Metadata.ContentHash)
		}
		var again bytes.Buffer
		if err := back.WriteYAML(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("a plan read back writes differently:\n%s\nthen\n%s", out.Bytes(), again.Bytes())
		}
	})
}

// rehash returns data with its content hash replaced by the hash of what
// it says, when data decodes to a plan whose only fault is that hash;
// false otherwise. It decodes the way Parse does, step by step, so that
// Parse refusing the result is a disagreement with its own steps.
func rehash(data []byte) ([]byte, bool) {
	p, ok := decodeForHash(data)
	if !ok {
		return nil, false
	}
	old := p.Metadata.ContentHash
	if !validHash(old) || bytes.Count(data, []byte(old)) != 1 {
		return nil, false
	}
	h, err := p.Hash()
	if err != nil || h == old {
		return nil, false
	}
	fixed := bytes.Replace(data, []byte(old), []byte(h), 1)
	// The one occurrence may not be the field itself (an escaped value
	// and the hash in a comment): the fixed file must say the new hash.
	if q, ok := decodeForHash(fixed); !ok || q.Metadata.ContentHash != h {
		return nil, false
	}
	return fixed, true
}

func decodeForHash(data []byte) (*Plan, bool) {
	if _, err := checkYAML("plan.yaml", data); err != nil {
		return nil, false
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, false
	}
	var p Plan
	if strict, err := kjson.UnmarshalStrict(js, &p); err != nil || len(strict) > 0 {
		return nil, false
	}
	if p.APIVersion != APIVersion || p.Kind != Kind || p.check() != nil {
		return nil, false
	}
	return &p, true
}
