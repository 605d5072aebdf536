-- Alerts of `purser serve`: one row per episode of a rule applied to one
-- subject (a finding's identity, or "cluster"), and an outbox of the
-- notifications each transition to firing or resolved owes each notifier.
-- Both outlive the process that wrote them, so a restarted server or
-- another replica neither repeats nor loses a notification.

CREATE TABLE alerts (
    id           {{id}},
    cluster      TEXT NOT NULL REFERENCES clusters (name),
    rule         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    phase        TEXT NOT NULL,
    severity     TEXT NOT NULL,
    summary      TEXT NOT NULL,
    labels       TEXT NOT NULL,
    active_since BIGINT NOT NULL,
    fired_at     BIGINT,
    resolved_at  BIGINT
);
-- At most one episode of an alert is open at a time: a second writer
-- opening the same one fails instead of notifying twice.
CREATE UNIQUE INDEX alerts_open ON alerts (cluster, rule, subject) WHERE phase IN ('pending', 'firing');
CREATE INDEX alerts_by_cluster ON alerts (cluster, phase);

CREATE TABLE alert_notifications (
    alert_id   BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    notifier   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_id, notifier, kind)
);
CREATE INDEX alert_notifications_unsent ON alert_notifications (sent_at);
