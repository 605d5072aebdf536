// Package svcref finds Service addresses in free text: container
// environment values, ConfigMap data, annotations. The consolidation plan
// rewrites them; governance infers the flows they imply. One parser, so
// that both agree on what counts as a reference.
package svcref

import "regexp"

// dnsRE finds "<svc>.<ns>" optionally followed by ".svc" and
// ".svc.cluster.local"; callers keep only pairs naming a real Service.
var dnsRE = regexp.MustCompile(`([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)((?:\.svc)(?:\.cluster\.local)?)?`)

// Match is one candidate Service address in a text: text[Start:End] is
// Service + "." + Namespace + Suffix.
type Match struct {
	Start, End         int
	Service, Namespace string
	// Suffix is "", ".svc" or ".svc.cluster.local".
	Suffix string
}

// Find returns the candidate Service addresses of text, in order. A host
// name of a public domain ("api.example.io") and the tail of a longer name
// ("a.b.c", "x-a.b") are not candidates.
func Find(text string) []Match {
	var out []Match
	for _, m := range dnsRE.FindAllStringSubmatchIndex(text, -1) {
		suffix := ""
		if m[6] >= 0 {
			suffix = text[m[6]:m[7]]
		}
		if followedByDomain(text, m[1], suffix) || (m[0] > 0 && (text[m[0]-1] == '.' || text[m[0]-1] == '-')) {
			continue
		}
		out = append(out, Match{Start: m[0], End: m[1], Service: text[m[2]:m[3]], Namespace: text[m[4]:m[5]], Suffix: suffix})
	}
	return out
}

// followedByDomain tells a Service address from a public host name: in
// "svc.ns.io" the match "svc.ns" is followed by ".io".
func followedByDomain(text string, end int, suffix string) bool {
	if suffix != "" || end >= len(text) {
		return false
	}
	return text[end] == '.'
}
