// The KV API's view of the store: linearizable reads through ReadIndex (or local reads when
// asked), writes proposed on the leader or forwarded to it, watches from the hub. Every wait
// is bounded: without a quorum a request fails with Unavailable, it never hangs.
import type { NodeId } from '../raft/index.ts';
import type { RaftDriver } from './driver.ts';
import { ProposalError } from './driver.ts';
import { encodeWriteOp } from './kv/op-codec.ts';
import type { KvService, ResponseHeader, WatchHandle, WatchSink } from './kv/service.ts';
import type { RangeRequest, WatchRequest, WriteOp, WriteResult } from './kv/types.ts';
import { GrpcCode, KvError } from './kv/types.ts';
import type { ApplyResult, Replica } from './replica.ts';
import type { WatchHub } from './watch-hub.ts';

/** The write was certainly not delivered to the leader (e.g. connection refused), so it may
 *  be retried; any other failure leaves the outcome unknown and is not retried. */
export class LeaderUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaderUnreachableError';
  }
}

/** Sends a write to the leader over the peer link and returns its answer. */
export type WriteForwarder = (leader: NodeId, op: WriteOp) => Promise<{ header: ResponseHeader; result: WriteResult }>;

export interface KvServiceOptions {
  driver: RaftDriver<ApplyResult>;
  replica: Replica;
  hub: WatchHub;
  forward: WriteForwarder;
  header: (revision: number) => ResponseHeader;
  /** How long a write or linearizable read may wait for a leader and a quorum. */
  requestTimeoutMillis: number;
}

export const errNoLeader = () => new KvError(GrpcCode.Unavailable, 'etcdserver: no leader');
export const errTimeout = () => new KvError(GrpcCode.Unavailable, 'etcdserver: request timed out (no quorum reached; is a majority of members up and connected?)');

function toKvError(err: unknown): KvError {
  if (err instanceof KvError) return err;
  if (err instanceof ProposalError) {
    switch (err.code) {
      case 'E_NOT_LEADER':
        return errNoLeader();
      case 'E_PROPOSAL_LOST':
        return new KvError(GrpcCode.Unavailable, `etcdserver: leader changed (${err.message})`);
      case 'E_STOPPED':
        return new KvError(GrpcCode.Unavailable, 'etcdserver: server stopped');
      default:
        return new KvError(GrpcCode.Unavailable, `etcdserver: ${err.message}`);
    }
  }
  throw err;
}

export class StoreKvService implements KvService {
  constructor(private readonly o: KvServiceOptions) {}

  header(revision: number): ResponseHeader {
    return this.o.header(revision);
  }

  private deadline<T>(work: Promise<T>, started: number): Promise<T> {
    const left = this.o.requestTimeoutMillis - (Date.now() - started);
    if (left <= 0) return Promise.reject(errTimeout());
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(errTimeout()), left);
      work.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Waits (bounded) until some member is known to lead. */
  private async leader(started: number): Promise<NodeId> {
    const { driver } = this.o;
    while (driver.leader === '') {
      if (Date.now() - started >= this.o.requestTimeoutMillis) throw errNoLeader();
      await new Promise((r) => setTimeout(r, 20));
    }
    return driver.leader;
  }

  async range(req: RangeRequest) {
    if (!req.serializable) {
      const started = Date.now();
      await this.leader(started);
      try {
        await this.deadline(this.o.driver.readIndex(), started);
      } catch (err) {
        throw toKvError(err);
      }
    }
    const kv = this.o.replica.kv;
    const response = kv.range(req);
    return { header: this.header(kv.revision()), response };
  }

  async write(op: WriteOp): Promise<{ header: ResponseHeader; result: WriteResult }> {
    const started = Date.now();
    for (;;) {
      const leader = await this.leader(started);
      const { driver } = this.o;
      if (leader !== driver.raw.raft.id) {
        try {
          return await this.deadline(this.o.forward(leader, op), started);
        } catch (err) {
          if (err instanceof KvError) throw err;
          const message = `etcdserver: cannot reach the leader (${(err as Error).message})`;
          // Retried only when it surely did not arrive: a write must never apply twice.
          if (!(err instanceof LeaderUnreachableError) || Date.now() - started >= this.o.requestTimeoutMillis) {
            throw new KvError(GrpcCode.Unavailable, message);
          }
          // A new leader may be elected within the deadline.
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
      }
      try {
        const result = await this.deadline(driver.propose(encodeWriteOp(op)), started);
        if (result === null) throw new Error('a key-value write applied without a result');
        return { header: this.header(result.revision), result };
      } catch (err) {
        const kvErr = toKvError(err);
        // Leadership moved while we proposed: the new leader may take it, within the deadline.
        if (err instanceof ProposalError && err.code === 'E_NOT_LEADER' && Date.now() - started < this.o.requestTimeoutMillis) continue;
        throw kvErr;
      }
    }
  }

  watch(req: WatchRequest, sink: WatchSink): WatchHandle {
    return this.o.hub.watch(req, sink);
  }
}
