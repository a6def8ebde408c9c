-- The log level a 2025-xx MCP session asked for with logging/setLevel.
-- Sessions live in their signed ids, not here (any replica serves any
-- session); only this one choice must outlive the request that made it, so
-- that whichever replica serves the session's next tool call sends it the
-- log messages its level admits. session_key is a hash of the session id
-- (the id itself is not written anywhere); a row goes when its session
-- would have expired.
CREATE TABLE session_log_levels (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_key text NOT NULL,
    level       text NOT NULL CHECK (level IN ('debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency')),
    expires_at  timestamptz NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, session_key)
);
CREATE INDEX session_log_levels_expires ON session_log_levels (expires_at);
