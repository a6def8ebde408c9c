-- Durable, fleet-wide call history. Every replica buffers its calls in
-- memory and writes them here in batches (one COPY and one rollup upsert per
-- flush); nothing is written per call on the request path.
--
-- Partitions are by day on every table and created ahead of time by the
-- replicas (tenant.Store.MaintainCallHistory); retention drops whole
-- partitions, never DELETE. Partition names end in _YYYYMMDD (UTC).
CREATE SEQUENCE calls_id_seq AS bigint;

-- One row per tool call or resource read. Never arguments or results: the
-- outcome, timings, sizes and the start of a failed call's redacted message.
CREATE TABLE calls (
    id              bigint NOT NULL DEFAULT nextval('calls_id_seq'),
    tenant_id       text NOT NULL,
    at              timestamptz NOT NULL,
    kind            text NOT NULL,              -- tool | resource
    tool            text NOT NULL,
    token_id        text NOT NULL DEFAULT '',
    status          text NOT NULL,              -- ok or the error class (upstream_4xx, timeout, …)
    is_error        boolean NOT NULL,
    upstream_status integer NOT NULL DEFAULT 0, -- HTTP status of the upstream's answer, 0 when none
    latency_ms      double precision NOT NULL,
    upstream_ms     double precision NOT NULL,
    gateway_ms      double precision NOT NULL,
    bytes           bigint NOT NULL DEFAULT 0,  -- upstream response body bytes
    error           text NOT NULL DEFAULT ''
) PARTITION BY RANGE (at);
ALTER SEQUENCE calls_id_seq OWNED BY calls.id;
CREATE INDEX calls_tenant_at ON calls (tenant_id, at DESC, id DESC);
CREATE INDEX calls_tenant_tool_at ON calls (tenant_id, tool, at DESC, id DESC);

-- Per-minute and per-hour rollups, written in the same transaction as the
-- raw rows they summarize, so their counts are exact. The *_hist columns are
-- latency histograms over the fixed bucket bounds of tenant.LatencyBounds.
CREATE TABLE call_minutes (
    tenant_id       text NOT NULL,
    start           timestamptz NOT NULL,
    tool            text NOT NULL,
    calls           bigint NOT NULL,
    errors          bigint NOT NULL,
    bytes           bigint NOT NULL,
    latency_sum_ms  double precision NOT NULL,
    latency_max_ms  double precision NOT NULL,
    upstream_sum_ms double precision NOT NULL,
    gateway_sum_ms  double precision NOT NULL,
    gateway_hist    bigint[] NOT NULL,
    upstream_hist   bigint[] NOT NULL,
    PRIMARY KEY (tenant_id, start, tool)
) PARTITION BY RANGE (start);

CREATE TABLE call_hours (LIKE call_minutes INCLUDING DEFAULTS, PRIMARY KEY (tenant_id, start, tool))
    PARTITION BY RANGE (start);

-- Shared token buckets behind the fleet-wide rate limits. Replicas lease
-- batches of tokens (rate_lease) instead of asking per call; the bucket's
-- level is computed with the database's clock, so replica clocks need not
-- agree.
CREATE TABLE rate_buckets (
    key    text PRIMARY KEY,
    tokens double precision NOT NULL,
    at     timestamptz NOT NULL
);

-- rate_lease takes up to want whole tokens from bucket key (rate tokens a
-- second, at most burst held) and returns how many it granted and the
-- bucket's level after the grant. want < 0 returns -want tokens unused.
CREATE FUNCTION rate_lease(p_key text, p_rate double precision, p_burst double precision, p_want double precision,
                           OUT granted double precision, OUT level double precision)
LANGUAGE plpgsql AS $$
DECLARE
    n timestamptz := clock_timestamp();
    t double precision;
BEGIN
    INSERT INTO rate_buckets (key, tokens, at) VALUES (p_key, p_burst, n) ON CONFLICT (key) DO NOTHING;
    SELECT least(p_burst, b.tokens + p_rate * greatest(0, extract(epoch FROM n - b.at)))
        INTO t FROM rate_buckets b WHERE b.key = p_key FOR UPDATE;
    IF p_want < 0 THEN
        granted := 0;
        t := least(p_burst, t - p_want);
    ELSE
        granted := least(p_want, greatest(0, floor(t)));
        t := t - granted;
    END IF;
    UPDATE rate_buckets SET tokens = t, at = n WHERE key = p_key;
    level := t;
END $$;

-- Replicas say they are alive every few seconds; a rate limit falls back to
-- rate ÷ (replicas seen lately) on a replica that cannot reach the buckets.
CREATE TABLE replicas (
    id         text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
