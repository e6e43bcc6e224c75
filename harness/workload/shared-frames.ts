/**
 * One decode per frame for all the light readers of a thread. The service sends every
 * subscriber of a channel the same frame, so a thread holding 250 readers of one room would
 * otherwise parse each change 250 times: work a real deployment spreads over 250 machines, and
 * which here is the generator's own cost, not the stack's.
 *
 * Messages are remembered by their text for as long as a burst can interleave them (a bounded
 * window, oldest out first), and the changes handed out are frozen, since every reader of the
 * frame gets the same objects.
 */
import { ownDecoder, type FrameDecoder } from '../../scenarios/k6/lib/client.ts';
import { Action, type ChangeEvent, type InboundFrame } from '../../scenarios/k6/lib/protocol.ts';

export class SharedFrameDecoder implements FrameDecoder {
  /** Recent messages' texts and frames, newest last; a ring, since a Map would hash every copy's text. */
  private readonly texts: string[] = [];
  private readonly frames: InboundFrame[] = [];
  private next = 0;
  private readonly decoded = new WeakMap<InboundFrame, readonly ChangeEvent[]>();

  /** @param window how many distinct messages are remembered: more than arrive while one is still being handed out. */
  constructor(private readonly window = 64) {}

  frame(text: string): InboundFrame | { invalid: string } {
    // Readers of one thread receive a message one after another, so the newest entry is the usual match.
    const n = this.texts.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.next - k + n) % n;
      if (this.texts[i] === text) return this.frames[i]!;
    }
    const f = ownDecoder.frame(text);
    // Only a channel's messages reach many readers; CONNECTED, ACK or HEARTBEAT is one connection's.
    if ('invalid' in f || f.action !== Action.MESSAGE) return f;
    this.texts[this.next] = text;
    this.frames[this.next] = f;
    this.next = (this.next + 1) % this.window;
    return f;
  }

  changes(f: InboundFrame): readonly ChangeEvent[] {
    let out = this.decoded.get(f);
    if (!out) {
      out = Object.freeze(ownDecoder.changes(f).map(freezeChange));
      this.decoded.set(f, out);
    }
    return out;
  }
}

function freezeChange(c: ChangeEvent): ChangeEvent {
  Object.freeze(c.row);
  if (c.position) Object.freeze(c.position);
  return Object.freeze(c);
}
