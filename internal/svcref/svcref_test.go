package svcref

import (
	"reflect"
	"testing"
)

func TestFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []Match
	}{
		{"http://api.shop.svc.cluster.local:8080", []Match{{7, 33, "api", "shop", ".svc.cluster.local"}}},
		{"api.shop.svc", []Match{{0, 12, "api", "shop", ".svc"}}},
		{"redis.cache:6379,db.data", []Match{{0, 11, "redis", "cache", ""}, {17, 24, "db", "data", ""}}},
		{"https://api.example.io/v1", nil},
		{"www.api.shop.svc", nil},
		{"no address here", nil},
	}
	for _, tc := range tests {
		got := Find(tc.text)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Find(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}
