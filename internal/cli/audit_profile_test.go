package cli

import (
	"regexp"
	"strings"
	"testing"
)

func TestAuditProfile(t *testing.T) {
	t.Parallel()
	plain, _, err := runAudit(t, "--demo", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runAudit(t, "--demo", "-o", "json", "--profile", "--checks", "pod-pending,service-no-endpoints")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "{") || strings.Contains(out, "CHECK") {
		t.Errorf("the profile reached stdout: %.200s", out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	row := regexp.MustCompile(`^(\S+)\s+(\S+)\s+\d+\.\d%\s+(\d+)$`)
	var ids []string
	for _, l := range lines[1:] {
		if m := row.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			ids = append(ids, m[1])
		}
	}
	if !strings.HasPrefix(lines[0], "CHECK") || len(ids) != 2 || !strings.Contains(errOut, "\nchecks ") || !strings.Contains(errOut, "\ncommand ") {
		t.Fatalf("stderr is not a profile of the two checks:\n%s", errOut)
	}
	if _, noProfile, _ := runAudit(t, "--demo", "-o", "json"); strings.Contains(noProfile, "CHECK") {
		t.Errorf("a profile without --profile:\n%s", noProfile)
	}
	if plain == "" {
		t.Error("no output without --profile")
	}
}
