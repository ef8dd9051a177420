// Membership work that needs the leader: admitting a joining member as a learner, promoting
// learners once they have caught up, removing members, handing over leadership before a
// leader shuts down — plus forwarding writes from followers to the leader over the peer link.
import type { Logger } from '../log/index.ts';
import type { NodeId } from '../raft/index.ts';
import { ProposalError } from '../store/driver.ts';
import { LeaderUnreachableError } from '../store/kv-service.ts';
import { decodeJsonWithBytes, encodeJsonWithBytes } from '../store/kv/op-codec.ts';
import type { ResponseHeader } from '../store/kv/service.ts';
import type { WriteOp, WriteResult } from '../store/kv/types.ts';
import { KvError } from '../store/kv/types.ts';
import type { Member, MemberInfo } from '../store/replica.ts';
import { parseMemberInfo } from '../store/replica.ts';
import type { Store } from '../store/store.ts';
import { isDnsLabel } from '../config/server-options.ts';
import { newId } from './identity.ts';
import { PeerCallError } from './peer-client.ts';
import { MAX_VOTERS_DEFAULT, nextVoter, zoneOf, zoneQuorumWarnings } from './voters.ts';
import type { PeerClient } from './peer-client.ts';

/** An answer to a peer route: status and JSON body. */
export interface PeerAnswer {
  status: number;
  body: string;
}

const json = (status: number, value: unknown): PeerAnswer => ({ status, body: JSON.stringify(value) });
const problem = (status: number, message: string): PeerAnswer => json(status, { error: message, message });

/** HTTP status for "I am not the leader, ask again": the caller may retry elsewhere safely. */
export const NOT_LEADER_STATUS = 421;

export interface ClusterStatus {
  name: string;
  id: string;
  clusterId: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  revision: number;
  members: Array<{ name: string; id: string; peerURL: string; apiURL: string; role: 'voter' | 'learner'; labels: Record<string, string> }>;
  /** Zones whose loss would lose the store's quorum (see voters.ts). */
  warnings: string[];
}

export interface MembershipOptions {
  store: Store;
  client: PeerClient;
  clusterId: string;
  self: MemberInfo;
  logger: Logger;
  /** Learners within this many entries of the commit index count as caught up. */
  promotionLagEntries?: number;
  /** The cluster told this member it was removed. */
  onRemoved?: () => void;
  /** At most this many voters; further members stay learners (default 5). */
  maxVoters?: number;
}

export class Membership {
  private readonly o: MembershipOptions;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: MembershipOptions) {
    this.o = options;
  }

  private get raft() {
    return this.o.store.driver.raw.raft;
  }

  private members(): Member[] {
    return this.o.store.replica.members();
  }

  nameOf(id: NodeId): string | null {
    if (id === '') return null;
    return this.members().find((m) => m.id === id)?.name ?? id;
  }

  status(): ClusterStatus {
    const raft = this.raft;
    const identity = this.o.store.replica.identity()!;
    const members = this.members().map((m) => ({ name: m.name, id: m.id, peerURL: m.peerURL, apiURL: m.apiURL, role: m.role, labels: m.labels ?? {} }));
    return {
      name: identity.name,
      id: identity.memberId,
      clusterId: identity.clusterId,
      leader: this.nameOf(raft.lead),
      term: raft.term,
      commitIndex: raft.raftLog.committed,
      appliedIndex: this.o.store.replica.applied,
      revision: this.o.store.replica.kv.revision(),
      members,
      warnings: zoneQuorumWarnings(members),
    };
  }

  /** The member knows a leader and has applied everything it knows committed. */
  ready(): boolean {
    const raft = this.raft;
    return raft.lead !== '' && this.o.store.replica.applied >= raft.raftLog.committed;
  }

  // ---- promotion ------------------------------------------------------------------------

  start(): void {
    this.timer = setInterval(() => this.promoteCaughtUpLearners(), 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private promoteCaughtUpLearners(): void {
    const raft = this.raft;
    if (raft.state !== 'leader' || raft.pendingConfIndex() > 0) return;
    const lag = this.o.promotionLagEntries ?? 64;
    const caughtUp = new Set<string>();
    for (const id of raft.learners) {
      const pr = raft.progress.get(id);
      if (pr && pr.state === 'replicate' && pr.match + lag >= raft.raftLog.committed) caughtUp.add(id);
    }
    if (caughtUp.size === 0) return;
    // Voters as Raft knows them now (the replica's roles follow the applied log).
    const members = this.members().map((m) => ({ ...m, role: raft.voters.has(m.id) ? ('voter' as const) : ('learner' as const) }));
    const next = nextVoter(members, caughtUp, this.o.maxVoters ?? MAX_VOTERS_DEFAULT);
    if (!next) return;
    const pr = raft.progress.get(next.id);
    this.o.logger.info('promoting a caught-up learner to voter', { member: next.name, zone: zoneOf(next), match: pr?.match, commit: raft.raftLog.committed });
    this.o.store.driver.proposeConfChange({ type: 'promote', node: next.id, context: '' }).catch((err: Error) => {
      this.o.logger.info('promotion did not go through; will retry', { member: next.name, reason: err.message });
    });
  }

  // ---- leader forwarding ------------------------------------------------------------------

  private leaderPeerUrl(): string | undefined {
    const lead = this.raft.lead;
    return lead === '' ? undefined : this.o.store.replica.peerUrl(lead);
  }

  /** Forwards a write to the leader (used by the KV service on followers). */
  async forwardWrite(leader: NodeId, op: WriteOp): Promise<{ header: ResponseHeader; result: WriteResult }> {
    const url = this.o.store.replica.peerUrl(leader);
    if (!url) throw new LeaderUnreachableError(`no address known for leader ${leader}`);
    try {
      const text = await this.o.client.post(url, '/kv/write', encodeJsonWithBytes(op), { clusterId: this.o.clusterId });
      return decodeJsonWithBytes<{ header: ResponseHeader; result: WriteResult }>(text);
    } catch (err) {
      // It reached a member that no longer leads: it proposed nothing, so retrying is safe.
      if (err instanceof PeerCallError && err.status === NOT_LEADER_STATUS) throw new LeaderUnreachableError(err.message);
      throw err;
    }
  }

  /** Peer route /kv/write: a follower's forwarded write. */
  async handleForwardedWrite(body: string): Promise<PeerAnswer> {
    if (this.raft.state !== 'leader') return problem(NOT_LEADER_STATUS, 'this member is not the leader');
    let op: WriteOp;
    try {
      op = decodeJsonWithBytes<WriteOp>(body);
    } catch (err) {
      return problem(400, `forwarded write: ${(err as Error).message}`);
    }
    try {
      const r = await this.o.store.service.write(op);
      return { status: 200, body: encodeJsonWithBytes(r) };
    } catch (err) {
      if (err instanceof KvError) {
        const result: WriteResult = { op: 'error', revision: this.o.store.replica.kv.revision(), error: err };
        return { status: 200, body: encodeJsonWithBytes({ header: this.o.store.service.header(result.revision), result }) };
      }
      throw err;
    }
  }

  // ---- join -------------------------------------------------------------------------------

  /** Peer route /cluster/join: admits a new member as a learner (on the leader; other members
   *  pass the request on to it). */
  async handleJoin(body: string, remoteAddress: string): Promise<PeerAnswer> {
    if (this.raft.state !== 'leader') {
      const url = this.leaderPeerUrl();
      if (!url) return problem(503, 'no leader is known right now; retry shortly');
      try {
        return { status: 200, body: await this.o.client.post(url, '/cluster/join', body) };
      } catch (err) {
        if (err instanceof PeerCallError) return problem(err.status, err.message);
        return problem(503, `could not reach the leader: ${(err as Error).message}`);
      }
    }
    const info = parseMemberInfo(body);
    if (!info) return problem(400, 'a join request needs JSON {"name","peerURL","apiURL"}');
    if (!isDnsLabel(info.name)) return problem(400, `member name "${info.name}" is not a DNS-1123 label`);
    let peer: URL;
    try {
      peer = new URL(info.peerURL);
    } catch {
      return problem(400, `peerURL "${info.peerURL}" is not a URL`);
    }
    if (peer.hostname === '0.0.0.0' || peer.hostname === '[::]') {
      // The joiner listens on every address: reach it at the one its request came from.
      peer.hostname = remoteAddress.replace(/^::ffff:/, '');
      info.peerURL = peer.origin;
    }
    const same = this.members().find((m) => m.name === info.name);
    if (same) {
      const pr = this.raft.progress.get(same.id);
      // A retried join (the first answer was lost) gets the same id back.
      if (same.peerURL === info.peerURL && same.role === 'learner' && (pr?.match ?? 0) === 0) {
        return json(200, { clusterId: this.o.clusterId, memberId: same.id, members: this.addressBook() });
      }
      return problem(409, `a member named "${info.name}" already exists (id ${same.id}); remove it first with "bramble cluster remove ${info.name}" or choose another --name`);
    }
    const memberId = newId();
    try {
      await this.o.store.driver.proposeConfChange({ type: 'addLearner', node: memberId, context: JSON.stringify(info) });
    } catch (err) {
      if (err instanceof ProposalError) return problem(503, `cannot add a member now: ${err.message}; retry shortly`);
      throw err;
    }
    this.o.logger.info('admitted a new member as a learner', { member: info.name, id: memberId, peerURL: info.peerURL });
    return json(200, { clusterId: this.o.clusterId, memberId, members: this.addressBook() });
  }

  /** Where the current members are: a joiner needs it before it has replicated the log. */
  private addressBook(): Array<{ id: string; name: string; peerURL: string; apiURL: string }> {
    return this.members().map((m) => ({ id: m.id, name: m.name, peerURL: m.peerURL, apiURL: m.apiURL }));
  }

  // ---- removal ------------------------------------------------------------------------------

  /** Removes the member called `name` (on the leader, or through it). */
  async removeMember(name: string): Promise<PeerAnswer> {
    if (this.raft.state !== 'leader') {
      const url = this.leaderPeerUrl();
      if (!url) return problem(503, 'no leader is known right now; retry shortly');
      try {
        return { status: 200, body: await this.o.client.post(url, '/cluster/remove', JSON.stringify({ name }), { clusterId: this.o.clusterId }) };
      } catch (err) {
        if (err instanceof PeerCallError) return problem(err.status, err.message);
        return problem(503, `could not reach the leader: ${(err as Error).message}`);
      }
    }
    const member = this.members().find((m) => m.name === name);
    if (!member) return problem(404, `no member named "${name}"; "bramble cluster status" lists them`);
    try {
      await this.o.store.driver.proposeConfChange({ type: 'remove', node: member.id, context: '' });
    } catch (err) {
      if (err instanceof ProposalError) return problem(503, `cannot remove a member now: ${err.message}; retry shortly`);
      throw err;
    }
    this.o.logger.info('removed a member', { member: name, id: member.id });
    if (member.id !== this.raft.id) {
      // It will not hear of its removal through Raft (nobody replicates to it any more): say so.
      this.o.client.post(member.peerURL, '/cluster/removed', JSON.stringify({ id: member.id }), { clusterId: this.o.clusterId, timeoutMillis: 3000 }).catch((err: Error) => {
        this.o.logger.info('could not tell the removed member; it stays isolated until stopped', { member: name, reason: err.message });
      });
    }
    return json(200, { removed: name, id: member.id });
  }

  /** Peer route /cluster/removed: the leader says this member is no longer in the cluster. */
  handleRemovedNotice(body: string): Promise<PeerAnswer> {
    let id: unknown;
    try {
      id = (JSON.parse(body) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (id !== this.raft.id) return Promise.resolve(problem(400, 'this notice is not about this member'));
    this.o.logger.warn('this member was removed from the cluster');
    setImmediate(() => this.o.onRemoved?.());
    return Promise.resolve(json(200, { ok: true }));
  }

  /** Peer route /cluster/remove. */
  handleRemove(body: string): Promise<PeerAnswer> {
    let name: unknown;
    try {
      name = (JSON.parse(body) as { name?: unknown }).name;
    } catch {
      name = undefined;
    }
    if (typeof name !== 'string') return Promise.resolve(problem(400, 'a remove request needs JSON {"name"}'));
    return this.removeMember(name);
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /** A leader about to stop hands leadership to the most up-to-date voter, so the cluster does
   *  not wait out an election timeout. Resolves when done or after `timeoutMillis`. */
  async handOverLeadership(timeoutMillis: number): Promise<void> {
    const raft = this.raft;
    if (raft.state !== 'leader') return;
    let best: NodeId = '';
    let bestMatch = -1;
    for (const id of raft.voters) {
      if (id === raft.id) continue;
      const match = raft.progress.get(id)?.match ?? -1;
      if (match > bestMatch) [best, bestMatch] = [id, match];
    }
    if (best === '') return;
    this.o.logger.info('handing leadership over before shutdown', { to: this.nameOf(best) });
    this.o.store.driver.raw.transferLeadership(best);
    this.o.store.driver.schedule();
    const started = Date.now();
    while (raft.state === 'leader' && Date.now() - started < timeoutMillis) await new Promise((r) => setTimeout(r, 10));
    if (raft.state === 'leader') this.o.logger.warn('leadership handover did not finish in time; stopping anyway', { to: this.nameOf(best) });
    else this.o.logger.info('leadership handed over', { to: this.nameOf(raft.lead) });
  }
}
