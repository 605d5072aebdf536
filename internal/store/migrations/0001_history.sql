-- The first schema: scans, findings with a stable identity, what each scan
-- saw, costs by group per scan and per day, and the action log.
-- {{id}} is the dialect's auto-numbered primary key; every other type is
-- common to SQLite and PostgreSQL. Times are Unix milliseconds, UTC;
-- money is integer micro-units with its currency, as in internal/money.

-- One row per cluster; writers of a scan update it first, which makes
-- two writers of one cluster take turns (a row lock in PostgreSQL, the
-- database lock in SQLite).
CREATE TABLE clusters (
    name       TEXT PRIMARY KEY,
    scans      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE scans (
    id              {{id}},
    cluster         TEXT NOT NULL REFERENCES clusters (name),
    source          TEXT NOT NULL,
    scope           TEXT NOT NULL,
    snapshot_digest TEXT NOT NULL,
    collected_at    BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT NOT NULL,
    errors          TEXT NOT NULL,
    checks          TEXT NOT NULL,
    objects         TEXT NOT NULL,
    currency        TEXT NOT NULL,
    findings        INTEGER NOT NULL
);
CREATE INDEX scans_by_cluster ON scans (cluster, started_at);

CREATE TABLE findings (
    id                 {{id}},
    cluster            TEXT NOT NULL REFERENCES clusters (name),
    fingerprint        TEXT NOT NULL,
    check_id           TEXT NOT NULL,
    workload_kind      TEXT NOT NULL,
    workload_namespace TEXT NOT NULL,
    workload_name      TEXT NOT NULL,
    object_kind        TEXT NOT NULL,
    object_namespace   TEXT NOT NULL,
    object_name        TEXT NOT NULL,
    severity           TEXT NOT NULL,
    message            TEXT NOT NULL,
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    first_scan         BIGINT NOT NULL,
    last_scan          BIGINT NOT NULL,
    resolved_at        BIGINT,
    resolved_scan      BIGINT
);
CREATE INDEX findings_by_identity ON findings (cluster, fingerprint, resolved_at);
CREATE INDEX findings_by_resolution ON findings (cluster, resolved_at);

CREATE TABLE scan_findings (
    scan_id          BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    finding_id       BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    severity         TEXT NOT NULL,
    object_kind      TEXT NOT NULL,
    object_namespace TEXT NOT NULL,
    object_name      TEXT NOT NULL,
    message          TEXT NOT NULL,
    PRIMARY KEY (scan_id, finding_id)
);
CREATE INDEX scan_findings_by_finding ON scan_findings (finding_id);

CREATE TABLE scan_costs (
    scan_id   BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    grouping  TEXT NOT NULL,
    group_key TEXT NOT NULL,
    currency  TEXT NOT NULL,
    monthly   BIGINT NOT NULL,
    PRIMARY KEY (scan_id, grouping, group_key)
);

-- The day's cost as the day's latest scan priced it; kept apart from the
-- scans so that a month-to-date figure survives pruning the scans.
CREATE TABLE cost_daily (
    cluster   TEXT NOT NULL REFERENCES clusters (name),
    day       TEXT NOT NULL,
    grouping  TEXT NOT NULL,
    group_key TEXT NOT NULL,
    currency  TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    scan_id   BIGINT NOT NULL,
    PRIMARY KEY (cluster, day, grouping, group_key)
);

CREATE TABLE actions (
    id      {{id}},
    cluster TEXT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    object  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX actions_by_time ON actions (cluster, at);
