-- Sign-in sessions, held server-side so that logging out ends a session everywhere at once (a
-- signed cookie alone stays valid until it expires, whoever holds a copy). The cookie carries a
-- random session id; only its SHA-256 is stored, so a copy of this table cannot be replayed.
CREATE TABLE chat_sessions (
  id_hash     bytea       PRIMARY KEY,
  client_id   text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX chat_sessions_expires ON chat_sessions (expires_at);

-- Retention: refused writes and settled-as-rejected ops are purged after a period (retention.ts).
CREATE INDEX chat_write_rejections_at ON chat_write_rejections (at);
CREATE INDEX chat_ops_rejected ON chat_ops (settled_at) WHERE state = 'rejected';
