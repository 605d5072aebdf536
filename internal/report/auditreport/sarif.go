package auditreport

import (
	"io"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/version"
)

// SARIF 2.1.0, the subset code-scanning services read: one run, the
// checks as rules, the findings as results located on Kubernetes objects
// (logical locations: there is no source file to point at).
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool sarifTool `json:"tool"`
	// Invocations carry, as tool execution notifications, the checks that
	// ran without a kind they read; absent when every check is complete.
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level          string         `json:"level"`
	Message        sarifText      `json:"message"`
	AssociatedRule sarifRuleRef   `json:"associatedRule"`
	Properties     map[string]any `json:"properties"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           map[string]string `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties sarifProps      `json:"properties"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifProps struct {
	Cause       string   `json:"cause,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Command     string   `json:"command,omitempty"`
}

func sarifLevel(s audit.Severity) string {
	switch s {
	case audit.Error:
		return "error"
	case audit.Warning:
		return "warning"
	}
	return "note"
}

// SARIF writes the findings as a SARIF 2.1.0 log.
func SARIF(w io.Writer, res *audit.Result) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "purser", Version: version.Get().Version,
		InformationURI: "https://github.com/purserhq/purser/blob/main/docs/checks.md"}}, Results: []sarifResult{}}
	index := map[string]int{}
	for _, c := range res.Checks {
		index[c.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: c.ID, Name: c.ID, ShortDescription: sarifText{firstSentence(c.Description)},
			FullDescription:      sarifText{c.Description},
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(c.Severity)},
			Properties:           map[string]string{"category": string(c.Category)},
		})
	}
	if incomplete := res.IncompleteChecks(); len(incomplete) > 0 {
		// The audit itself succeeded; the notifications say which checks
		// could not see everything.
		inv := sarifInvocation{ExecutionSuccessful: true}
		for _, c := range incomplete {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "warning",
				Message: sarifText{"Check " + c.ID + " is incomplete: " + strings.Join(c.Unread, ", ") +
					" could not be read, so its findings may miss objects."},
				AssociatedRule: sarifRuleRef{ID: c.ID, Index: index[c.ID]},
				Properties:     map[string]any{"status": c.Status, "unreadKinds": c.Unread},
			})
		}
		run.Invocations = []sarifInvocation{inv}
	}
	for _, f := range res.Findings {
		msg := f.Message
		if f.Cause != "" {
			msg += ". " + f.Cause
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.CheckID, RuleIndex: index[f.CheckID], Level: sarifLevel(f.Severity), Message: sarifText{msg},
			Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{Name: f.Object.Name,
				FullyQualifiedName: f.Object.String(), Kind: strings.ToLower(f.Object.Kind)}}}},
			Properties: sarifProps{Cause: f.Cause, Evidence: f.Evidence, Remediation: f.Remediation.Text, Command: f.Remediation.Command},
		})
	}
	return report.WriteJSON(w, sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
