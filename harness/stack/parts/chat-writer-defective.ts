/**
 * The chat-writer with planted defects, for the self-check and property tests: the same writer as
 * the shipped handler, configured from the environment (DATABASE_URL, PG_POOL_MAX and
 * CHAT_WRITER_DEFECTS, a comma-separated list of firstOnly, noAuthorCheck). Never deployed.
 */
import { createChatWriter, type ChatWriter, type ChatWriterResult } from '../../../reference-app/functions/chat-writer.ts';

let writer: ChatWriter | undefined;

export const handler = async (event: unknown, context?: unknown): Promise<ChatWriterResult> => {
  if (!writer) {
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    const defects = new Set((process.env.CHAT_WRITER_DEFECTS ?? '').split(',').filter(Boolean));
    for (const d of defects) if (d !== 'firstOnly' && d !== 'noAuthorCheck') throw new Error(`CHAT_WRITER_DEFECTS: unknown defect "${d}" (expected firstOnly, noAuthorCheck)`);
    writer = createChatWriter({
      databaseUrl,
      poolMax: Number(process.env.PG_POOL_MAX ?? 2),
      plantedDefects: { firstOnly: defects.has('firstOnly'), noAuthorCheck: defects.has('noAuthorCheck') },
    });
  }
  return writer(event, context);
};
