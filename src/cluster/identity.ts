// Who this member is: a new cluster's first member (bootstrap), a member joining an existing
// cluster (--join), or a member restarting from its data directory. Writes DATA/token.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrambleError } from '../errors.ts';
import type { Logger } from '../log/index.ts';
import { bootstrapLog } from '../raft/index.ts';
import type { MemberInfo, Replica } from '../store/replica.ts';
import { PeerCallError, PeerClient } from './peer-client.ts';

export const TOKEN_FILE = 'token';

export class JoinError extends BrambleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_JOIN', message, options);
  }
}

/** A random non-zero 64-bit id as a decimal string (etcd's member and cluster ids). */
export function newId(): string {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE();
    if (id !== 0n) return id.toString();
  }
}

export function newToken(): string {
  return `brt_${randomBytes(24).toString('base64url')}`;
}

export function readToken(dataDir: string): string | undefined {
  const path = join(dataDir, TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

function writeToken(dataDir: string, token: string): void {
  const path = join(dataDir, TOKEN_FILE);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export interface JoinResponse {
  clusterId: string;
  memberId: string;
  /** The members at the time of the join, so the joiner can answer them at once. */
  members: Array<{ id: string; name: string; peerURL: string; apiURL: string }>;
}

export interface IdentityOptions {
  replica: Replica;
  dataDir: string;
  self: MemberInfo;
  join?: string;
  token?: string;
  logger: Logger;
  /** How long to keep retrying a join that the cluster cannot take yet. */
  joinTimeoutMillis?: number;
}

export interface Identity {
  clusterId: string;
  memberId: string;
  name: string;
  token: string;
  how: 'bootstrapped' | 'joined' | 'restarted';
}

export async function establishIdentity(o: IdentityOptions): Promise<Identity> {
  const existing = o.replica.identity();
  if (existing) {
    if (existing.name !== o.self.name) {
      throw new JoinError(`the data directory ${o.dataDir} belongs to member "${existing.name}", not "${o.self.name}"; start with --name ${existing.name} or use another --data-dir`);
    }
    const token = readToken(o.dataDir);
    if (!token) throw new JoinError(`${join(o.dataDir, TOKEN_FILE)} is missing; copy the cluster token there (bramble token on another member prints it)`);
    if (o.join) o.logger.info('data directory already holds a member: --join is not needed and is ignored', { name: existing.name });
    return { ...existing, token, how: 'restarted' };
  }
  if (!o.join) {
    const id = { clusterId: newId(), memberId: newId(), name: o.self.name };
    const token = newToken();
    writeToken(o.dataDir, token);
    o.replica.setIdentity(id);
    const boot = bootstrapLog([{ node: id.memberId, context: JSON.stringify(o.self) }]);
    o.replica.bootstrap(boot.entries, boot.hardState);
    o.logger.info('bootstrapped a new cluster', { clusterId: id.clusterId, memberId: id.memberId, tokenFile: join(o.dataDir, TOKEN_FILE) });
    return { ...id, token, how: 'bootstrapped' };
  }
  if (!o.token) throw new JoinError('--join needs --token: the cluster token (bramble token --data-dir DIR on an existing member prints it)');
  const joined = await requestJoin(o.join, o.token, o.self, o.logger, o.joinTimeoutMillis ?? 120_000);
  writeToken(o.dataDir, o.token);
  const id = { clusterId: joined.clusterId, memberId: joined.memberId, name: o.self.name };
  o.replica.setIdentity(id);
  o.replica.rememberPeers(joined.members);
  o.logger.info('joined the cluster as a learner; catching up', { clusterId: id.clusterId, memberId: id.memberId, via: o.join });
  return { ...id, token: o.token, how: 'joined' };
}

async function requestJoin(joinURL: string, token: string, self: MemberInfo, logger: Logger, timeoutMillis: number): Promise<JoinResponse> {
  let url: URL;
  try {
    url = new URL(joinURL);
  } catch {
    throw new JoinError(`--join ${joinURL}: not a URL; give a member's peer URL such as http://10.0.0.1:7081`);
  }
  const client = new PeerClient(token);
  const started = Date.now();
  let attempt = 0;
  try {
    for (;;) {
      attempt++;
      try {
        const text = await client.post(url.origin, '/cluster/join', JSON.stringify(self), { timeoutMillis: 30_000 });
        const r = JSON.parse(text) as Partial<JoinResponse>;
        if (typeof r.clusterId !== 'string' || typeof r.memberId !== 'string') throw new JoinError(`${url.origin} answered the join with an unexpected body: ${text.slice(0, 200)}`);
        return { clusterId: r.clusterId, memberId: r.memberId, members: Array.isArray(r.members) ? r.members : [] };
      } catch (err) {
        if (err instanceof JoinError) throw err;
        // Refusals that retrying cannot fix.
        if (err instanceof PeerCallError && [400, 401, 403, 409].includes(err.status)) {
          throw new JoinError(`${url.origin} refused the join: ${err.message}`, { cause: err });
        }
        if (Date.now() - started > timeoutMillis) throw new JoinError(`could not join through ${url.origin} within ${timeoutMillis / 1000} s: ${(err as Error).message}`, { cause: err });
        const waitMillis = Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
        logger.info('join not accepted yet; retrying', { via: url.origin, attempt, retryInMillis: waitMillis, reason: (err as Error).message });
        await new Promise((r) => setTimeout(r, waitMillis));
      }
    }
  } finally {
    await client.close();
  }
}
