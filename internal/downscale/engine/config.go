package engine

import (
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/yamldoc"
)

// GitOps modes: what to do with a workload a GitOps controller would put
// back.
const (
	// GitOpsSkip leaves such a workload awake and says why (the default).
	GitOpsSkip = "skip"
	// GitOpsPause suspends the controller's sync of it for the night
	// (Argo CD automated sync removed, Flux suspend) and restores it after.
	GitOpsPause = "pause"
)

// Config is the `downscale` section of purser.yaml.
//
//	downscale:
//	  gitops: skip            # or pause
//	  downtimeReplicas: 0
//	  holidays: ["2026-12-24"]
//	  holidaysFile: holidays.ics
//	  schedules:
//	  - name: dev-nights
//	    schedule: "Mon-Fri 20:00-08:00 Europe/Paris"
//	    environments: [development]
type Config struct {
	GitOps string `yaml:"gitops"`
	// DowntimeReplicas is what a sleeping Deployment or StatefulSet runs;
	// above zero, a workload an HPA scales gets the HPA's minReplicas
	// lowered to it instead.
	DowntimeReplicas int32 `yaml:"downtimeReplicas"`
	// Holidays are dates (YYYY-MM-DD) slept all day; HolidaysFile an
	// iCalendar file of all-day events, relative to the config file.
	Holidays     []string `yaml:"holidays"`
	HolidaysFile string   `yaml:"holidaysFile"`
	// Schedules are tried in order; the first that matches a workload
	// gives its schedule.
	Schedules []Rule `yaml:"schedules"`
}

// Rule gives a schedule to the workloads it matches: every criterion
// given must match (namespace name patterns, teams and environments as
// the classify section names them, a label selector on the workload).
type Rule struct {
	Name         string   `yaml:"name"`
	Schedule     string   `yaml:"schedule"`
	Namespaces   []string `yaml:"namespaces"`
	Teams        []string `yaml:"teams"`
	Environments []string `yaml:"environments"`
	Selector     string   `yaml:"selector"`
}

// Mode is the GitOps mode, skip when unset.
func (c Config) Mode() string {
	if c.GitOps == "" {
		return GitOpsSkip
	}
	return c.GitOps
}

// Validate checks the section; errors are yamldoc.FieldErrors, so the
// config names the file and line.
func (c Config) Validate() error {
	if c.GitOps != "" && c.GitOps != GitOpsSkip && c.GitOps != GitOpsPause {
		return &yamldoc.FieldError{Path: "gitops", Msg: fmt.Sprintf("expected skip or pause, got %q", c.GitOps)}
	}
	if c.DowntimeReplicas < 0 {
		return &yamldoc.FieldError{Path: "downtimeReplicas", Msg: fmt.Sprintf("expected 0 or more, got %d", c.DowntimeReplicas)}
	}
	for i, d := range c.Holidays {
		if _, err := ParseDates([]string{d}); err != nil {
			return &yamldoc.FieldError{Path: fmt.Sprintf("holidays[%d]", i), Msg: fmt.Sprintf("expected a date as YYYY-MM-DD, got %q", d)}
		}
	}
	for i, r := range c.Schedules {
		p := fmt.Sprintf("schedules[%d]", i)
		if r.Name == "" {
			return &yamldoc.FieldError{Path: p + ".name", Msg: "missing name"}
		}
		if _, err := ParseSchedule(r.Schedule); err != nil {
			return &yamldoc.FieldError{Path: p + ".schedule", Msg: err.Error()}
		}
		for j, pat := range r.Namespaces {
			if _, err := path.Match(pat, ""); err != nil {
				return &yamldoc.FieldError{Path: fmt.Sprintf("%s.namespaces[%d]", p, j), Msg: fmt.Sprintf("bad pattern %q: %v", pat, err)}
			}
		}
		if r.Selector != "" {
			if _, err := labels.Parse(r.Selector); err != nil {
				return &yamldoc.FieldError{Path: p + ".selector", Msg: err.Error()}
			}
		}
		if len(r.Namespaces)+len(r.Teams)+len(r.Environments) == 0 && r.Selector == "" {
			return &yamldoc.FieldError{Path: p, Msg: "matches every workload of the cluster: give namespaces, teams, environments or a selector"}
		}
	}
	return nil
}
