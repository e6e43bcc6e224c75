-- The chat's single source of truth. Keyed by the realtime service's message id of the post,
-- so a redelivered post cannot create a second row.
CREATE TABLE chat_messages (
  id          text        PRIMARY KEY,
  room        text        NOT NULL,
  author      text        NOT NULL,          -- the publisher's clientId, set by the realtime service
  username    text        NOT NULL,
  text        text        NOT NULL,
  version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  edited      boolean     NOT NULL DEFAULT false,
  deleted     boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- History by room, newest first, paged by (created_at, id).
CREATE INDEX chat_messages_room_created ON chat_messages (room, created_at DESC, id DESC);
CREATE INDEX chat_messages_room_live ON chat_messages (room, created_at DESC) WHERE NOT deleted;

-- Writes the chat-writer refused, with the reason, so that no acknowledged publish
-- disappears without a trace.
CREATE TABLE chat_write_rejections (
  seq         bigserial   PRIMARY KEY,
  message_id  text        NOT NULL,
  room        text,
  author      text,
  name        text,
  reason      text        NOT NULL,
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX chat_write_rejections_message ON chat_write_rejections (message_id);
