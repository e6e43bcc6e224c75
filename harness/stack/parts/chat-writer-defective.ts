/**
 * The chat-writer with planted defects, for the self-check and property tests: the same writer as
 * the shipped handler, configured from the environment (DATABASE_URL, PG_POOL_MAX and
 * CHAT_WRITER_DEFECTS, a comma-separated list of the KNOWN defects). Never deployed.
 */
import { createChatWriter, type ChatWriter, type ChatWriterResult } from '../../../reference-app/functions/chat-writer.ts';

const KNOWN = ['firstOnly', 'noAuthorCheck', 'lastArrivalWins', 'postRevertsText', 'heldNoAuthorCheck'] as const;

let writer: ChatWriter | undefined;

export const handler = async (event: unknown, context?: unknown): Promise<ChatWriterResult> => {
  if (!writer) {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    const defects = new Set((process.env.CHAT_WRITER_DEFECTS ?? '').split(',').filter(Boolean));
    for (const d of defects) if (!(KNOWN as readonly string[]).includes(d)) throw new Error(`CHAT_WRITER_DEFECTS: unknown defect "${d}" (expected one of ${KNOWN.join(', ')})`);
    writer = createChatWriter({
      databaseUrl,
      poolMax: Number(process.env.PG_POOL_MAX ?? 2),
      plantedDefects: Object.fromEntries(KNOWN.map((d) => [d, defects.has(d)])),
    });
  }
  return writer(event, context);
};
