// Package notify sends alert notifications: a generic JSON webhook, a
// Slack incoming webhook and Alertmanager's v2 API. Receivers' URLs are
// secrets (a Slack webhook URL is a credential): they are read from an
// environment variable or a file, kept in memory, and left out of every
// error and log line. Delivery works through the store's outbox: a
// notification is marked sent only once its receiver acknowledged it, so
// a failed send is tried again after the next scan and never lost.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/store"
)

// Message is one notification: an alert that fired or resolved.
type Message struct {
	Kind  alert.Phase
	Alert alert.State
	// ExternalURL links to the server, when known.
	ExternalURL string
}

// Sender delivers messages to one receiver.
type Sender struct {
	Name   string
	Type   string
	url    string
	client *http.Client
	// Attempts and Backoff bound the retries of one delivery; Backoff
	// doubles after each failed attempt.
	Attempts int
	Backoff  time.Duration
}

// Options tune the senders New builds.
type Options struct {
	Client   *http.Client
	Attempts int
	Backoff  time.Duration
	// Getenv reads environment variables; os.Getenv when nil.
	Getenv func(string) string
}

// New builds the senders the config names, reading their URLs.
func New(cfg []alert.Notifier, o Options) ([]*Sender, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	var out []*Sender
	for _, n := range cfg {
		var u string
		switch {
		case n.URLFromEnv != "":
			if u = strings.TrimSpace(o.Getenv(n.URLFromEnv)); u == "" {
				return nil, fmt.Errorf("notifier %s: environment variable %s is empty or not set", n.Name, n.URLFromEnv)
			}
		case n.URLFromFile != "":
			b, err := os.ReadFile(n.URLFromFile)
			if err != nil {
				return nil, fmt.Errorf("notifier %s: reading its URL: %w", n.Name, err)
			}
			if u = strings.TrimSpace(string(b)); u == "" {
				return nil, fmt.Errorf("notifier %s: %s is empty", n.Name, n.URLFromFile)
			}
		}
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			// The value is not shown: it may be a secret in the wrong place.
			return nil, fmt.Errorf("notifier %s: its URL does not start with https:// or http://", n.Name)
		}
		out = append(out, &Sender{Name: n.Name, Type: n.Type, url: u, client: o.Client, Attempts: o.Attempts, Backoff: o.Backoff})
	}
	return out, nil
}

// Send delivers m, retrying with backoff on network errors, 429 and 5xx.
func (s *Sender) Send(ctx context.Context, m Message) error {
	target, body, err := s.request(m)
	if err != nil {
		return fmt.Errorf("notifier %s: %w", s.Name, err)
	}
	wait := s.Backoff
	var last error
	for attempt := range max(s.Attempts, 1) {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("notifier %s: %w (after: %w)", s.Name, ctx.Err(), last)
			case <-time.After(wait):
			}
			wait *= 2
		}
		retry, err := s.post(ctx, target, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return fmt.Errorf("notifier %s: %w", s.Name, last)
}

func (s *Sender) post(ctx context.Context, target string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("building the request failed (the URL is not shown: it is a secret)")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// A *url.Error carries the URL, which is a secret: keep its cause only.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return true, fmt.Errorf("POST failed: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, fmt.Errorf("receiver answered %s", resp.Status)
}

func (s *Sender) request(m Message) (string, []byte, error) {
	var v any
	target := s.url
	switch s.Type {
	case alert.NotifierWebhook:
		v = webhookBody(m)
	case alert.NotifierSlack:
		v = slackBody(m)
	case alert.NotifierAlertmanager:
		target = strings.TrimSuffix(s.url, "/") + "/api/v2/alerts"
		v = alertmanagerBody(m)
	default:
		return "", nil, fmt.Errorf("unknown type %q", s.Type)
	}
	b, err := json.Marshal(v)
	return target, b, err
}

// WebhookPayload is what the generic webhook receives.
type WebhookPayload struct {
	Version     string      `json:"version"`
	Status      alert.Phase `json:"status"`
	Alert       alert.State `json:"alert"`
	ExternalURL string      `json:"externalURL,omitempty"`
}

func webhookBody(m Message) WebhookPayload {
	return WebhookPayload{Version: "purser.dev/v1alpha1", Status: m.Kind, Alert: m.Alert, ExternalURL: m.ExternalURL}
}

// SlackEscape escapes text for Slack's mrkdwn: &, < and > are its control
// characters (<url|label> links, <!channel> mentions), so a cluster's
// object names cannot ping a channel or forge a link.
func SlackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackBody(m Message) map[string]any {
	head := ":rotating_light: FIRING"
	if m.Kind == alert.Resolved {
		head = ":white_check_mark: RESOLVED"
	}
	text := fmt.Sprintf("%s [%s] %s: %s", head, SlackEscape(m.Alert.Severity), SlackEscape(m.Alert.Rule), SlackEscape(m.Alert.Summary))
	if m.Alert.Cluster != "" {
		text += " (cluster " + SlackEscape(m.Alert.Cluster) + ")"
	}
	return map[string]any{
		"text":   text,
		"blocks": []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}},
	}
}

// amAlert is one alert of Alertmanager's v2 API (postableAlert).
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func alertmanagerBody(m Message) []amAlert {
	labels := map[string]string{}
	for k, v := range m.Alert.Labels {
		labels[k] = v
	}
	a := amAlert{Labels: labels, Annotations: map[string]string{"summary": m.Alert.Summary}, StartsAt: m.Alert.FiredAt.UTC()}
	if a.StartsAt.IsZero() {
		a.StartsAt = m.Alert.ActiveSince.UTC()
	}
	if m.Kind == alert.Resolved {
		a.EndsAt = m.Alert.ResolvedAt.UTC()
	} else {
		// Alertmanager resolves an alert by itself after resolve_timeout
		// unless endsAt says otherwise; Purser sends an explicit resolve,
		// so it asks for a long life meanwhile.
		a.EndsAt = a.StartsAt.Add(90 * 24 * time.Hour)
	}
	if m.ExternalURL != "" {
		a.GeneratorURL = strings.TrimSuffix(m.ExternalURL, "/") + "/api/v1/alerts?rule=" + m.Alert.Rule
	}
	return []amAlert{a}
}

// Outbox is the part of the store delivery reads and marks.
type Outbox interface {
	Unsent(ctx context.Context, cluster string) ([]store.Notification, error)
	MarkSent(ctx context.Context, n store.Notification, at time.Time) (bool, error)
	MarkFailed(ctx context.Context, n store.Notification, cause error) error
}

// Result counts what Deliver did.
type Result struct {
	Sent, Failed int
}

// Deliver sends a cluster's unsent notifications, each to its notifier,
// and marks each acknowledged one sent. A notification whose notifier is
// no longer configured is left unsent, and counted failed. A failed
// resolve of an alert whose firing also failed is not sent before it:
// receivers see the two in order.
func Deliver(ctx context.Context, box Outbox, cluster string, senders []*Sender, externalURL string, clk clock.PassiveClock, log *slog.Logger) (Result, error) {
	var r Result
	unsent, err := box.Unsent(ctx, cluster)
	if err != nil {
		return r, err
	}
	byName := map[string]*Sender{}
	for _, s := range senders {
		byName[s.Name] = s
	}
	blocked := map[string]bool{}
	for _, n := range unsent {
		key := fmt.Sprintf("%d|%s", n.Alert.ID, n.Notifier)
		s, ok := byName[n.Notifier]
		if !ok || blocked[key] {
			r.Failed++
			continue
		}
		err := s.Send(ctx, Message{Kind: n.Kind, Alert: n.Alert, ExternalURL: externalURL})
		if err != nil {
			r.Failed++
			blocked[key] = true
			log.Warn("notification not delivered; it will be tried again after the next scan", "notifier", n.Notifier, "alert", n.Alert.Rule, "kind", n.Kind, "error", err)
			if err := box.MarkFailed(ctx, n, err); err != nil {
				return r, err
			}
			continue
		}
		first, err := box.MarkSent(ctx, n, clk.Now())
		if err != nil {
			return r, err
		}
		if !first {
			log.Warn("notification was sent by another replica too", "notifier", n.Notifier, "alert", n.Alert.Rule, "kind", n.Kind)
		}
		r.Sent++
	}
	return r, nil
}
