// One member's replica in one SQLite file: what a Ready asks to persist (log, hard state) and to
// apply (key-value writes, membership changes) happens in ONE transaction — one fsync per Ready
// however many proposals it carries. Also makes and installs snapshots, and compacts the log.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfChange, ConfState, Entry, NodeId, Ready, Snapshot } from '../raft/index.ts';
import { applyConfChange, decodeConfChange } from '../raft/index.ts';
import type { Logger } from '../log/index.ts';
import type { ReadyStore } from './driver.ts';
import { KvStateMachine } from './kv/mvcc.ts';
import { decodeWriteOp } from './kv/op-codec.ts';
import type { WatchEvent, WriteResult } from './kv/types.ts';
import type { Db } from './sqlite/database.ts';
import { Meta, StoreError, WalSync, closeDatabase, openDatabase } from './sqlite/database.ts';
import { SqliteLog } from './sqlite/log-store.ts';

/** What a member's conf-change context carries (JSON). */
export interface MemberInfo {
  name: string;
  peerURL: string;
  apiURL: string;
  labels?: Record<string, string>;
}

export interface Member extends MemberInfo {
  id: NodeId;
  role: 'voter' | 'learner';
}

export interface ReplicaOptions {
  path: string;
  /** Where snapshot files live (made for followers, or received from the leader). */
  snapshotDir: string;
  cacheBytes: number;
  walAutocheckpointPages: number;
  /** Compact the log every this many applied entries... */
  snapshotEntries: number;
  /** ...keeping this many behind, so a briefly absent follower catches up from the log. */
  keepEntries: number;
  logger: Logger;
}

export interface ReplicaHooks {
  /** Changes applied by one Ready, after its transaction committed. */
  onEvents?(events: WatchEvent[], revision: number): void;
  /** The state was replaced by a snapshot: history before it is gone. */
  onSnapshotInstalled?(revision: number): void;
  onMembersChanged?(members: Member[]): void;
  /** Whether some watcher wants previous values with its events. */
  prevKvWanted?(): boolean;
}

export type ApplyResult = WriteResult | null;

interface SnapshotFile {
  index: number;
  term: number;
  conf: ConfState;
  path: string;
}

const decoder = new TextDecoder();

export function parseMemberInfo(context: string): MemberInfo | null {
  try {
    const v = JSON.parse(context) as Partial<MemberInfo>;
    if (typeof v.name !== 'string' || typeof v.peerURL !== 'string' || typeof v.apiURL !== 'string') return null;
    return { name: v.name, peerURL: v.peerURL, apiURL: v.apiURL, ...(v.labels ? { labels: v.labels } : {}) };
  } catch {
    return null;
  }
}

export function snapshotPath(snap: Snapshot): string {
  const handle = JSON.parse(decoder.decode(snap.data)) as { path?: unknown };
  if (typeof handle.path !== 'string') throw new Error('snapshot handle without a path');
  return handle.path;
}

export class Replica implements ReadyStore<ApplyResult> {
  readonly db: Db;
  readonly meta: Meta;
  private readonly walSync: WalSync;
  readonly log: SqliteLog;
  kv: KvStateMachine;
  hooks: ReplicaHooks = {};
  private readonly options: ReplicaOptions;
  private readonly logger: Logger;
  private appliedIndex: number;
  private appliedTerm: number;
  private appliedConf: ConfState;
  /** Peer URLs of members whose conf entry is in the log but not applied yet. */
  private readonly pendingMembers = new Map<NodeId, MemberInfo>();
  private memberCache: Member[] | null = null;
  private snapshotFile: SnapshotFile | null = null;
  private snapshotScheduled = false;

  private readonly insertConfHistory;
  private readonly upsertMember;
  private readonly deleteMember;
  private readonly setRole;

  constructor(options: ReplicaOptions) {
    this.options = options;
    this.logger = options.logger;
    this.db = openDatabase(options.path, { cacheBytes: options.cacheBytes, walAutocheckpointPages: options.walAutocheckpointPages });
    this.meta = new Meta(this.db);
    this.walSync = new WalSync(options.path);
    this.log = new SqliteLog(this.db, this.meta);
    this.kv = this.newStateMachine();
    this.appliedIndex = this.meta.number('applied_index');
    this.appliedTerm = this.meta.number('applied_term');
    this.appliedConf = this.meta.json<ConfState>('applied_conf', { voters: [], learners: [] });
    this.insertConfHistory = this.db.prepare('INSERT OR REPLACE INTO conf_history (idx, conf) VALUES (?, ?)');
    this.upsertMember = this.db.prepare(
      'INSERT INTO members (id, name, peer_url, api_url, role, labels) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET name = excluded.name, peer_url = excluded.peer_url, api_url = excluded.api_url, role = excluded.role, labels = excluded.labels',
    );
    this.deleteMember = this.db.prepare('DELETE FROM members WHERE id = ?');
    this.setRole = this.db.prepare('UPDATE members SET role = ? WHERE id = ?');
    mkdirSync(options.snapshotDir, { recursive: true, mode: 0o700 });
    this.removeStaleSnapshots();
    // Conf entries in the log beyond what is applied: their members may be contacted already.
    for (let i = this.appliedIndex + 1; i <= this.log.lastIndex(); i++) {
      const e = this.log.entry(i);
      if (e) this.notePendingMember(e);
    }
    // A joiner that has not yet applied the member list knows its peers from the join answer.
    for (const p of this.meta.json<Array<{ id: string } & MemberInfo>>('join_peers', [])) {
      if (!this.pendingMembers.has(p.id)) this.pendingMembers.set(p.id, { name: p.name, peerURL: p.peerURL, apiURL: p.apiURL });
    }
    this.log.snapshotSource = () => this.snapshotForSending();
  }

  /** Addresses of the members as the cluster told a joining member (kept until it has the list
   *  from the log itself). */
  rememberPeers(peers: Array<{ id: string } & MemberInfo>): void {
    this.durably(() => this.meta.setJson('join_peers', peers));
    for (const p of peers) this.pendingMembers.set(p.id, { name: p.name, peerURL: p.peerURL, apiURL: p.apiURL });
  }

  close(): void {
    this.walSync.close();
    try {
      // For a fast next start; a failure only costs that start a scan of the history.
      this.kv.saveIndexImage();
    } catch (err) {
      this.logger.warn('could not save the key index for the next start', { error: err });
    }
    closeDatabase(this.db);
  }

  /** Makes everything committed so far durable (the driver calls it when a Ready must sync). */
  sync(): Promise<void> {
    return this.walSync.sync();
  }

  get applied(): number {
    return this.appliedIndex;
  }

  // ---- identity -------------------------------------------------------------------------

  identity(): { clusterId: string; memberId: string; name: string } | null {
    const clusterId = this.meta.string('cluster_id');
    const memberId = this.meta.string('member_id');
    if (!clusterId || !memberId) return null;
    return { clusterId, memberId, name: this.meta.string('name') };
  }

  /** Records who this member is (bootstrap or join). Once only. */
  private newStateMachine(): KvStateMachine {
    return new KvStateMachine(this.db, this.meta, { prevKvWanted: () => this.hooks.prevKvWanted?.() ?? false });
  }

  /** Runs a one-off write that must be on disk when this returns (identity, bootstrap). */
  private durably(fn: () => void): void {
    this.db.pragma('synchronous = FULL');
    try {
      this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  setIdentity(id: { clusterId: string; memberId: string; name: string }): void {
    this.durably(() => {
      this.meta.set('cluster_id', id.clusterId);
      this.meta.set('member_id', id.memberId);
      this.meta.set('name', id.name);
    });
  }

  /** A founding member's log: its own addVoter entry, committed at term 1. */
  bootstrap(entries: Entry[], hardState: { term: number; vote: string; commit: number }): void {
    this.durably(() => {
      this.log.append(entries);
      this.log.setHardState(hardState);
    });
    for (const e of entries) this.notePendingMember(e);
  }

  // ---- members --------------------------------------------------------------------------

  members(): Member[] {
    if (!this.memberCache) {
      const rows = this.db.prepare('SELECT id, name, peer_url, api_url, role, labels FROM members ORDER BY name').all() as Array<{
        id: string;
        name: string;
        peer_url: string;
        api_url: string;
        role: 'voter' | 'learner';
        labels: string;
      }>;
      this.memberCache = rows.map((r) => ({ id: r.id, name: r.name, peerURL: r.peer_url, apiURL: r.api_url, role: r.role, labels: JSON.parse(r.labels) as Record<string, string> }));
    }
    return this.memberCache;
  }

  /** Where to reach a member: from the applied member list, or a conf entry still in flight. */
  peerUrl(id: NodeId): string | undefined {
    return this.members().find((m) => m.id === id)?.peerURL ?? this.pendingMembers.get(id)?.peerURL;
  }

  private notePendingMember(e: Entry): void {
    if (e.type !== 'conf') return;
    const cc = decodeConfChange(e.data);
    if (!cc || (cc.type !== 'addLearner' && cc.type !== 'addVoter')) return;
    const info = parseMemberInfo(cc.context);
    if (info) this.pendingMembers.set(cc.node, info);
  }

  // ---- the Ready cycle --------------------------------------------------------------------

  commitReady(rd: Ready): ApplyResult[] {
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    // Most Readies of an idle or read-only cluster only carry messages: no transaction then.
    if (rd.entries.length === 0 && rd.hardState === null && rd.committedEntries.length === 0) return [];
    const events: WatchEvent[] = [];
    let membersChanged = false;
    const results = this.db.transaction(() => {
      this.log.append(rd.entries);
      if (rd.hardState) this.log.setHardState(rd.hardState);
      const out: ApplyResult[] = [];
      for (const e of rd.committedEntries) {
        if (e.type === 'conf') {
          this.applyConf(e);
          membersChanged = true;
          out.push(null);
        } else if (e.data.byteLength === 0) {
          out.push(null); // a new leader's no-op
        } else {
          out.push(this.kv.apply(decodeWriteOp(e.data), events));
        }
      }
      this.kv.flush();
      const last = rd.committedEntries[rd.committedEntries.length - 1];
      if (last) {
        this.appliedIndex = last.index;
        this.appliedTerm = last.term;
        this.meta.set('applied_index', last.index);
        this.meta.set('applied_term', last.term);
      }
      return out;
    })();
    for (const e of rd.entries) this.notePendingMember(e);
    if (events.length > 0) this.hooks.onEvents?.(events, this.kv.revision());
    if (membersChanged) {
      this.memberCache = null;
      this.hooks.onMembersChanged?.(this.members());
    }
    if (rd.committedEntries.length > 0) this.maybeCompactLog();
    return results;
  }

  private applyConf(e: Entry): void {
    const cc = decodeConfChange(e.data);
    if (!cc) {
      this.logger.warn('ignoring a malformed membership entry', { index: e.index });
      return;
    }
    this.appliedConf = applyConfChange(this.appliedConf, cc);
    this.meta.setJson('applied_conf', this.appliedConf);
    this.insertConfHistory.run(e.index, JSON.stringify(this.appliedConf));
    this.applyMemberChange(cc);
  }

  private applyMemberChange(cc: ConfChange): void {
    switch (cc.type) {
      case 'addVoter':
      case 'addLearner': {
        const info = parseMemberInfo(cc.context);
        if (!info) return;
        const role = this.appliedConf.voters.includes(cc.node) ? 'voter' : 'learner';
        this.upsertMember.run(cc.node, info.name, info.peerURL, info.apiURL, role, JSON.stringify(info.labels ?? {}));
        this.pendingMembers.delete(cc.node);
        return;
      }
      case 'promote':
        this.setRole.run('voter', cc.node);
        return;
      case 'remove':
        this.deleteMember.run(cc.node);
        return;
    }
  }

  appliedConfState(): ConfState {
    return this.appliedConf;
  }

  /** The configuration in force at `index` (for compacting the log there). */
  private confAt(index: number): ConfState {
    const row = this.db.prepare('SELECT conf FROM conf_history WHERE idx <= ? ORDER BY idx DESC LIMIT 1').pluck().get(index) as string | undefined;
    return row ? (JSON.parse(row) as ConfState) : this.log.initialState().confState;
  }

  private maybeCompactLog(): void {
    const retained = this.appliedIndex - (this.log.firstIndex() - 1);
    if (retained < this.options.snapshotEntries + this.options.keepEntries) return;
    const upTo = this.appliedIndex - this.options.keepEntries;
    this.db.transaction(() => {
      const conf = this.confAt(upTo);
      this.log.compact(upTo, conf);
      // Older configurations are no longer needed to describe the retained log.
      this.db.prepare('DELETE FROM conf_history WHERE idx < (SELECT MAX(idx) FROM conf_history WHERE idx <= ?)').run(upTo);
    })();
    this.logger.debug('raft log compacted', { upTo, firstIndex: this.log.firstIndex() });
  }

  // ---- snapshots --------------------------------------------------------------------------

  /** For the core: the latest snapshot file, or undefined while a fresh one is being made. */
  private snapshotForSending(): Snapshot | undefined {
    const f = this.snapshotFile;
    // Usable if it covers everything the log no longer has.
    if (f && f.index >= this.log.firstIndex() - 1 && existsSync(f.path)) {
      return { metadata: { index: f.index, term: f.term, confState: f.conf }, data: new TextEncoder().encode(JSON.stringify({ path: f.path })) };
    }
    if (!this.snapshotScheduled) {
      this.snapshotScheduled = true;
      setImmediate(() => {
        this.snapshotScheduled = false;
        try {
          this.createSnapshot();
        } catch (err) {
          this.logger.error('could not make a snapshot for a follower', { error: err });
        }
      });
    }
    return undefined;
  }

  /** Copies the applied state into a new file (VACUUM INTO: consistent, compact). */
  createSnapshot(): SnapshotFile {
    const started = Date.now();
    const index = this.appliedIndex;
    const path = join(this.options.snapshotDir, `snap-${index}-${Date.now()}.db`);
    this.db.prepare('VACUUM INTO ?').run(path);
    const old = this.snapshotFile;
    this.snapshotFile = { index, term: this.appliedTerm, conf: this.appliedConf, path };
    if (old && old.path !== path) rmSync(old.path, { force: true });
    this.logger.info('snapshot made for a follower', { index, revision: this.kv.revision(), millis: Date.now() - started });
    return this.snapshotFile;
  }

  /** Replaces this replica's state with a snapshot received from the leader. */
  private installSnapshot(snap: Snapshot): void {
    const path = snapshotPath(snap);
    const { index, term, confState } = snap.metadata;
    const started = Date.now();
    this.db.prepare('ATTACH DATABASE ? AS snap').run(path);
    try {
      const theirs = new Map(
        (this.db.prepare("SELECT key, value FROM snap.meta WHERE key IN ('cluster_id', 'applied_index', 'kv_revision', 'kv_compact_revision', 'applied_term')").all() as Array<{
          key: string;
          value: unknown;
        }>).map((r) => [r.key, r.value]),
      );
      const ours = this.meta.string('cluster_id');
      if (theirs.get('cluster_id') !== ours) throw new StoreError(`snapshot ${path} belongs to cluster ${String(theirs.get('cluster_id'))}, not ${ours}`);
      if (Number(theirs.get('applied_index')) !== index) throw new StoreError(`snapshot ${path} holds index ${String(theirs.get('applied_index'))}, the leader said ${index}`);
      this.db.transaction(() => {
        for (const table of ['kv_history', 'members', 'conf_history']) {
          this.db.exec(`DELETE FROM main.${table}; INSERT INTO main.${table} SELECT * FROM snap.${table};`);
        }
        this.meta.set('kv_revision', Number(theirs.get('kv_revision') ?? 1));
        this.meta.set('kv_compact_revision', Number(theirs.get('kv_compact_revision') ?? 0));
        this.meta.set('applied_index', index);
        this.meta.set('applied_term', term);
        this.meta.setJson('applied_conf', confState);
        this.insertConfHistory.run(index, JSON.stringify(confState));
        this.log.resetToSnapshot(index, term, confState);
        // Keep the persisted commit index within the (now shorter) log even if we crash before
        // this Ready's hard state is written.
        const hard = this.log.hardState();
        if (hard.commit < index) this.log.setHardState({ ...hard, commit: index });
      })();
    } finally {
      this.db.prepare('DETACH DATABASE snap').run();
    }
    rmSync(path, { force: true });
    this.appliedIndex = index;
    this.appliedTerm = term;
    this.appliedConf = confState;
    // The state machine keeps its index in memory: rebuild it from the new tables.
    this.kv = this.newStateMachine();
    this.memberCache = null;
    this.pendingMembers.clear();
    this.logger.info('installed a snapshot from the leader', { index, term, revision: this.kv.revision(), millis: Date.now() - started });
    this.hooks.onSnapshotInstalled?.(this.kv.revision());
    this.hooks.onMembersChanged?.(this.members());
  }

  /** Where a snapshot arriving from the leader is written before it is installed. */
  incomingDir(): string {
    const dir = join(this.options.snapshotDir, 'incoming');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  private removeStaleSnapshots(): void {
    // Files from before a restart: never half-installed (installation is one transaction),
    // so they are only leftovers.
    for (const name of readdirSync(this.options.snapshotDir)) {
      if (name.startsWith('snap-')) rmSync(join(this.options.snapshotDir, name), { force: true });
    }
    const incoming = join(this.options.snapshotDir, 'incoming');
    if (existsSync(incoming)) {
      for (const name of readdirSync(incoming)) rmSync(join(incoming, name), { force: true });
    }
  }
}
