package live

import (
	"fmt"
	"testing"
)

// The deprecated APIs clients called are the series of the gauge whose
// value is set; other metrics, and series at 0, are not.
func TestParseDeprecatedRequests(t *testing.T) {
	t.Parallel()
	const help = "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested.\n" +
		"# TYPE apiserver_requested_deprecated_apis gauge\n"
	tests := []struct {
		name, body string
		want       string
		wantErr    bool
	}{
		{name: "three series, one at 0", body: help +
			`apiserver_requested_deprecated_apis{group="",removed_release="",resource="endpoints",subresource="",version="v1"} 1` + "\n" +
			`apiserver_requested_deprecated_apis{group="example.purser.dev",removed_release="",resource="widgets",subresource="",version="v1alpha1"} 1` + "\n" +
			`apiserver_requested_deprecated_apis{group="policy",removed_release="1.25",resource="podsecuritypolicies",subresource="",version="v1beta1"} 0` + "\n" +
			"# TYPE registered_metrics_total counter\n" + `registered_metrics_total{deprecated_version="",stability_level="ALPHA"} 179` + "\n",
			want: `[{ v1 endpoints  } {example.purser.dev v1alpha1 widgets  }]`},
		{name: "none requested", body: "# TYPE registered_metrics_total counter\nregistered_metrics_total 3\n", want: `[]`},
		{name: "removed release and subresource", body: help +
			`apiserver_requested_deprecated_apis{group="autoscaling",removed_release="1.26",resource="horizontalpodautoscalers",subresource="status",version="v2beta2"} 1` + "\n",
			want: `[{autoscaling v2beta2 horizontalpodautoscalers status 1.26}]`},
		{name: "not the text format", body: "<html>forbidden</html>", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDeprecatedRequests([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}
