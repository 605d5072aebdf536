package phase

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// A zero is a real ceiling here (no open error finding, none in the last
// 0 days), but purser config init leaves out every field at its zero
// value as a default. These write an explicit zero as +0, which reads
// back as 0, so that a config written out reads back the same.

// MarshalYAML writes the target with an explicit zero kept.
func (t CountTarget) MarshalYAML() (any, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *int) {
		if v != nil {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, explicitInt(*v))
		}
	}
	add("max", t.Max)
	add("reductionPercent", t.ReductionPercent)
	return m, nil
}

// MarshalYAML writes the condition with an explicit zero kept.
func (d Days) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "days"}, explicitInt(d.Days)}}, nil
}

func explicitInt(v int) *yaml.Node {
	s := strconv.Itoa(v)
	if v == 0 {
		s = "+0"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s}
}
