-- Send order. The integration may invoke the chat-writer for one user's posts in another order
-- than they were published, so commit time (created_at) is not send order. Each post carries the
-- realtime service's publish timestamp and the client's own send sequence; views order by them.
-- Rows written before this migration keep NULL and are ordered by created_at.
ALTER TABLE chat_messages
  ADD COLUMN sent_at    timestamptz,
  ADD COLUMN client_seq bigint;

-- The author asks for the refusals of their own writes (GET /api/rejections).
CREATE INDEX chat_write_rejections_author ON chat_write_rejections (author, message_id);
