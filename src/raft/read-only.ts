// Pending linearizable reads on the leader (ReadIndex, Raft thesis §6.4): each read is held at
// the commit index it arrived at until a quorum has answered a heartbeat sent after it.
import type { Message, NodeId } from './types.ts';

interface PendingRead {
  index: number;
  request: Message;
  acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private queue: string[] = [];

  constructor(readonly limit: number) {}

  get size(): number {
    return this.queue.length;
  }

  /** False if the request id is already queued or the queue is full. */
  add(index: number, request: Message): boolean {
    if (this.pending.has(request.context) || this.queue.length >= this.limit) return false;
    this.pending.set(request.context, { index, request, acks: new Set() });
    this.queue.push(request.context);
    return true;
  }

  /** Records a heartbeat acknowledgement; returns who has acknowledged the read so far. */
  ack(from: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const read = this.pending.get(context);
    if (!read) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Releases the read with `context` and every read queued before it (a quorum that answered
   *  a later heartbeat also vouches for the earlier reads). */
  advance(context: string): Array<{ index: number; request: Message }> {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: Array<{ index: number; request: Message }> = [];
    for (const ctx of released) {
      const read = this.pending.get(ctx)!;
      this.pending.delete(ctx);
      out.push({ index: read.index, request: read.request });
    }
    return out;
  }

  lastContext(): string | undefined {
    return this.queue[this.queue.length - 1];
  }
}
