package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"web", "web"},
		{"kube-system", "kube-system"},
		{"app.kubernetes.io/name=web", "app.kubernetes.io/name=web"},
		{"a,b:c@d%e+f_g", "a,b:c@d%e+f_g"},
		{"--replicas=1", "--replicas=1"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(touch x)", "'$(touch x)'"},
		{"`id`", "'`id`'"},
		{"a;b", "'a;b'"},
		{"*", "'*'"},
		{"~", "'~'"},
		{"line\nbreak", "'line\nbreak'"},
		{"héllo", "'héllo'"},
		{`{"a":1}`, `'{"a":1}'`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestJoin(t *testing.T) {
	if got, want := Join("kubectl", "delete", "pod", "a b", "-n", "ns"), "kubectl delete pod 'a b' -n ns"; got != want {
		t.Errorf("Join = %s, want %s", got, want)
	}
	if got := Join(); got != "" {
		t.Errorf("Join() = %q", got)
	}
}

// hostile holds words a tenant may put in names, labels or env var names.
var hostile = []string{
	"plain", "", " ", "a b", "  two  spaces  ",
	"$(touch x)", "`touch x`", "${HOME}", "$HOME", "$1", "$@",
	"a;touch x", "a && touch x", "a || touch x", "a|touch x", "a > x", "a < x", ">x", "2>&1",
	"line\nbreak", "tab\there", "cr\rhere", "\x01\x07\x1b[31m",
	"'", "''", `"`, `it's "quoted"`, `\`, `\'`, `'\''`,
	"*", "?", "[a-z]", "~", "~root", "#comment", "!", "!!", "a=b", "{a,b}",
	"héllo", "日本語", "emoji 🙂",
	"-n", "--help", "-rf /",
	"DB_PASSWORD$(touch pwned)",
}

func TestJoinRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	for _, s := range hostile {
		for _, args := range [][]string{{s}, {"x", s, "y"}, {s, s}} {
			// printf each argument NUL-terminated to read them back exactly.
			cmd := exec.Command(sh, "-c", `printf '%s\0' `+Join(args...))
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%q: %v", args, err)
			}
			got := strings.Split(string(out), "\x00")
			got = got[:len(got)-1]
			if !reflect.DeepEqual(got, args) {
				t.Errorf("Join(%q) = %s: sh saw %q", args, Join(args...), got)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
			t.Fatalf("%q: the shell created a file", s)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("files created: %v", ents)
	}
}

func TestPrintfNewlineForm(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	args := []string{"$(touch x)", "a b", "it's", "-n"}
	out, err := exec.Command(sh, "-c", `printf "%s\n" `+Join(args...)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), strings.Join(args, "\n")+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
