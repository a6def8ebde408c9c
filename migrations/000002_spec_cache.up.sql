-- Spec cache and live rebuild: version diffs, pinning, refresh state, the
-- signed refresh webhook, and cross-replica change notification.

ALTER TABLE spec_versions
    ADD COLUMN diff jsonb NOT NULL DEFAULT '{"added":[],"removed":[],"changed":[]}';

ALTER TABLE tenants
    ADD COLUMN pinned_version        integer,
    ADD COLUMN last_refresh_at       timestamptz,
    ADD COLUMN last_refresh_error    text NOT NULL DEFAULT '',
    ADD COLUMN last_refresh_error_at timestamptz,
    -- The webhook's HMAC key, sealed with the tenant's data key (it must be
    -- read back to verify signatures, so it cannot be a hash).
    ADD COLUMN hook_secret           bytea,
    -- generation moves on every change a replica must apply (status,
    -- settings, URLs, spec version, pin, credentials). Replicas compare it
    -- on resync, so a missed notification is never a missed change.
    ADD COLUMN generation            bigint NOT NULL DEFAULT 1;

ALTER TABLE tenants ADD CONSTRAINT tenants_pinned_version_fkey
    FOREIGN KEY (id, pinned_version) REFERENCES spec_versions (tenant_id, version);

-- Notifications are sent by triggers so every writer, including ones added
-- later, notifies in the same transaction as its change. Payloads stay tiny
-- ('<tenant id>:<kind>:<generation or token id>'); listeners re-read the rows.
CREATE FUNCTION portico_tenant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('portico_tenant', OLD.id || ':deleted:0');
        RETURN OLD;
    END IF;
    IF (NEW.status, NEW.settings, NEW.base_url, NEW.spec_url, NEW.spec_version, NEW.pinned_version, NEW.name)
       IS DISTINCT FROM
       (OLD.status, OLD.settings, OLD.base_url, OLD.spec_url, OLD.spec_version, OLD.pinned_version, OLD.name) THEN
        NEW.generation := OLD.generation + 1;
        PERFORM pg_notify('portico_tenant', NEW.id || ':tenant:' || NEW.generation);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER tenants_changed BEFORE UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION portico_tenant_changed();

CREATE FUNCTION portico_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid text := COALESCE(NEW.tenant_id, OLD.tenant_id);
    gen bigint;
BEGIN
    UPDATE tenants SET generation = generation + 1 WHERE id = tid RETURNING generation INTO gen;
    IF gen IS NOT NULL THEN
        PERFORM pg_notify('portico_tenant', tid || ':credentials:' || gen);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER credentials_changed AFTER INSERT OR UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION portico_credentials_changed();

CREATE FUNCTION portico_token_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portico_tenant', OLD.tenant_id || ':token:' || OLD.id);
    RETURN NULL;
END $$;

-- last_used_at bumps are not changes anyone needs to hear about.
CREATE TRIGGER mcp_tokens_revoked AFTER UPDATE ON mcp_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
    EXECUTE FUNCTION portico_token_revoked();
CREATE TRIGGER mcp_tokens_deleted AFTER DELETE ON mcp_tokens
    FOR EACH ROW EXECUTE FUNCTION portico_token_revoked();
