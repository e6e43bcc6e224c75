/**
 * Client-chosen realtime message ids. A post's id becomes its row id, which is how the pending
 * copy finds its INSERT, and a retry with the same id cannot create a second row.
 */
function randomPart(): string {
  // randomUUID exists only in secure contexts; a chat opened over plain http on a LAN IP is not one.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function newMessageId(clientId: string): string {
  return `${clientId}-${randomPart()}`;
}
