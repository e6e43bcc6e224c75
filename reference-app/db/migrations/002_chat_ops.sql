-- Every edit and delete the chat-writer accepted for processing, once per realtime message id.
-- The log makes redelivery harmless (an op id seen before is skipped), lets an edit or delete
-- that overtook its post wait ('held') until the post commits, and lets the writer choose the
-- text of the newest edit by publish time whatever order the edits arrive in.
CREATE TABLE chat_ops (
  op_id       text        PRIMARY KEY,               -- realtime message id of the edit/delete
  message_id  text        NOT NULL,                  -- the post it targets
  room        text        NOT NULL,
  author      text        NOT NULL,                  -- clientId of the publisher
  kind        text        NOT NULL CHECK (kind IN ('edit', 'delete')),
  text        text,
  op_ts       bigint      NOT NULL,                  -- realtime service timestamp (ms): the publish order
  state       text        NOT NULL CHECK (state IN ('held', 'applied', 'rejected')),
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  settled_at  timestamptz
);
CREATE INDEX chat_ops_message ON chat_ops (message_id, kind, state);
CREATE INDEX chat_ops_held ON chat_ops (received_at) WHERE state = 'held';

-- A redelivered bad message must not be rejected twice.
CREATE UNIQUE INDEX chat_write_rejections_once ON chat_write_rejections (message_id, reason);
