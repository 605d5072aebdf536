package usage

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
)

// answers is a Prometheus that answers the CPU query with cpu and the
// memory query with memory, in memory: the fuzz target runs the client's
// own decoding of the response, without a server.
type answers struct{ cpu, memory []byte }

func (a answers) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	answer := a.memory
	if strings.Contains(form.Get("query"), "cpu") {
		answer = a.cpu
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(answer))}, nil
}

// vector is a query response as the Prometheus HTTP API writes it.
func vector(samples ...string) []byte {
	return []byte(`{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`)
}

func sample(ns, pod, value string) string {
	return `{"metric":{"namespace":"` + ns + `","pod":"` + pod + `"},"value":[1764547200.123,"` + value + `"]}`
}

// FuzzQueryUsage feeds Prometheus query responses to the usage reader.
// Usage weighs pods' costs: every figure read must be a non-negative
// whole number of millicores or bytes of a named pod, and an answer too
// large for one is an error, never a wrapped number.
func FuzzQueryUsage(f *testing.F) {
	f.Add(vector(sample("shop", "hungry", "0.8"), sample("shop", "modest", "0.1")),
		vector(sample("shop", "hungry", "1610612736"), sample("shop", "modest", "268435456")))
	f.Add(vector(), vector())
	for _, hostile := range [][2][]byte{
		// Special values, and values past int64 once scaled.
		{vector(sample("a", "b", "NaN"), sample("a", "c", "+Inf"), sample("a", "d", "-1")), vector(sample("a", "b", "-Inf"))},
		{vector(sample("a", "b", "9223372036854775.807")), vector(sample("a", "b", "1e300"))},
		{vector(sample("a", "b", "9.3e18")), vector(sample("a", "b", "9223372036854775808"))},
		// A pod twice, a label twice, labels missing.
		{vector(sample("a", "b", "1"), sample("a", "b", "2")), vector(`{"metric":{"namespace":"a","namespace":"x","pod":"b"},"value":[1,"3"]}`)},
		{vector(`{"metric":{},"value":[1,"3"]}`), vector(`{"metric":{"pod":"b"},"value":[1,"3"]}`)},
		// Other result types, errors and broken documents.
		{[]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`), vector()},
		{[]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`), vector()},
		{[]byte(`{"status":"success","data":{"resultType":"nope","result":null}}`), vector()},
		{[]byte(`{"status":"success","data":null}`), vector()},
		{[]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`), vector()},
		{[]byte(`{"status":"success","data":{"resultType":"vector","result":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`), vector()},
	} {
		f.Add(hostile[0], hostile[1])
	}
	f.Fuzz(func(t *testing.T, cpu, memory []byte) {
		client, err := api.NewClient(api.Config{Address: "http://prometheus.invalid", RoundTripper: answers{cpu, memory}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := queryUsage(context.Background(), client, "http://prometheus.invalid", "1h", time.Unix(1764547200, 0))
		if err != nil {
			if u != nil {
				t.Fatal("usage returned with an error")
			}
			return
		}
		if u == nil || u.Pods == nil {
			t.Fatal("no usage and no error")
		}
		for k, p := range u.Pods {
			if k.Namespace == "" || k.Name == "" {
				t.Fatalf("usage of an unnamed pod: %+v %+v", k, p)
			}
			if p.CPUMilli < 0 || p.MemoryBytes < 0 {
				t.Fatalf("%s/%s: %d millicores, %d bytes", k.Namespace, k.Name, p.CPUMilli, p.MemoryBytes)
			}
		}
	})
}
