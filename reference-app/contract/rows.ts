/** The rows the chat stores and the changes the connector publishes about them. */
import type { ChangeName } from './names.ts';

/** A `chat_messages` row as the history endpoint and the connector send it. */
export interface ChatRow {
  id: string;
  room: string;
  author: string;
  username: string;
  text: string;
  version: number;
  edited: boolean;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  /**
   * Send order: the realtime service's publish timestamp and the client's send sequence. Views
   * order by them, not by created_at (commit time), because the integration may invoke the
   * writer out of order. Absent or null on rows written before the columns existed.
   */
  sent_at?: string | null;
  client_seq?: number | string | null;
}

/** The connector's payload on incoming; the message name repeats `type`. */
export interface ChangePayload {
  table?: string;
  type?: ChangeName;
  row: ChatRow;
}

/** Where a row reached a view from: a change on incoming, or a page of the history endpoint. */
export type RowSource = ChangeName | 'history';

/** One page of a room's history, newest first; `next` is the cursor for the page before it. */
export interface HistoryPage {
  messages: ChatRow[];
  next: string | null;
}
