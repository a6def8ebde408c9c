package tenant

import "time"

// SessionLogLevel is the log level an MCP session asked for with
// logging/setLevel. SessionKey is a hash of the session id, never the id.
type SessionLogLevel struct {
	TenantID   string
	SessionKey string
	Level      string
	ExpiresAt  time.Time
}

// LogLevelChange is the change kind that announces a session's log level;
// its Ref is "<session key>@<level>@<unix expiry>".
const LogLevelChange = "log_level"
