package govern

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/testutil/golden"
)

func TestAdmissionConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  AdmissionConfig
		want string
	}{
		{"defaults", AdmissionConfig{}, ""},
		{"bad regex", AdmissionConfig{NamingRegex: "^(a|b$"}, `admission.namingRegex: "^(a|b$" is not a regular expression`},
		{"unknown rule", AdmissionConfig{Rules: []string{"naming", "nmaing"}}, `admission.rules[1]: unknown rule "nmaing"`},
		{"bad label", AdmissionConfig{RequiredLabels: []string{"a b"}}, `admission.requiredLabels[0]: "a b" is not a label key`},
		{"bad limit", AdmissionConfig{Limits: []string{"gpu"}}, `admission.limits[0]: unknown resource "gpu"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Config{Admission: tc.cfg}.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestGatekeeperTemplates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   AdmissionConfig
		kinds []string
	}{
		{"all rules", AdmissionConfig{}, []string{"ConstraintTemplate", "PurserNaming", "ConstraintTemplate", "PurserRequiredLabels",
			"ConstraintTemplate", "PurserContainerLimits", "ConstraintTemplate", "PurserPinnedImages"}},
		{"naming only", AdmissionConfig{Rules: []string{RuleNaming}, NamingRegex: "^shop-[a-z]+$"}, []string{"ConstraintTemplate", "PurserNaming"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, err := GatekeeperTemplates(Input{Config: Config{Admission: tc.cfg}})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for i, o := range objs {
				u := o.(*unstructured.Unstructured)
				kinds = append(kinds, u.GetKind())
				if u.GetKind() != "ConstraintTemplate" {
					continue
				}
				// Every parameter the Rego reads is required.
				targets, _, _ := unstructured.NestedSlice(u.Object, "spec", "targets")
				rego, _ := targets[0].(map[string]any)["rego"].(string)
				required, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "crd", "spec", "validation", "openAPIV3Schema", "required")
				params, _, _ := unstructured.NestedMap(objs[i+1].(*unstructured.Unstructured).Object, "spec", "parameters")
				for _, p := range required {
					if !strings.Contains(rego, "input.parameters."+p) || params[p] == nil {
						t.Errorf("%s: required parameter %s is not read or not set", u.GetName(), p)
					}
				}
				if strings.Contains(rego, "input.parameters") && len(required) == 0 {
					t.Errorf("%s reads parameters but requires none", u.GetName())
				}
				if regexp.MustCompile(`(^|[^a-z])data\.`).MatchString(rego) {
					t.Errorf("%s references data", u.GetName())
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
				t.Errorf("kinds %v, want %v", kinds, tc.kinds)
			}
			if tc.cfg.NamingRegex != "" {
				p := AdmissionPolicies(Input{Config: Config{Admission: tc.cfg}})
				if len(p) != 2 || !strings.Contains(p[0].(interface{ String() string }).String(), tc.cfg.NamingRegex) {
					t.Errorf("the policy does not carry the configured pattern")
				}
			}
		})
	}
}

// The generated rules, as printed, are reviewed in their goldens
// (go test -update rewrites them).
func TestAdmissionGolden(t *testing.T) {
	t.Parallel()
	gk, err := GatekeeperTemplates(Input{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		objs []Object
	}{
		{"admission-gatekeeper.yaml", gk},
		{"admission-vap.yaml", AdmissionPolicies(Input{})},
	} {
		var buf bytes.Buffer
		if err := WriteYAML(&buf, tc.objs); err != nil {
			t.Fatal(err)
		}
		golden.Assert(t, filepath.Join("testdata", tc.file), buf.Bytes())
	}
}
