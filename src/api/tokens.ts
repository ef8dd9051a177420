// API tokens. The admin token is derived from the cluster's join token (every member can check
// it without a lookup, and it is written to DATA/admin-token). Further tokens — read-only ones
// above all — are made through the API and kept in the store as SHA-256 digests under
// /bramble/tokens/, so every member accepts them and a copy of the database reveals none.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KvService } from '../store/kv/service.ts';
import { rangeOf } from '../store/kv/types.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const TOKEN_PREFIX = '/bramble/tokens/';

export function adminTokenFor(joinToken: string): string {
  return `bra_${createHmac('sha256', joinToken).update('bramble admin token v1').digest('base64url').slice(0, 40)}`;
}

/** Writes DATA/admin-token (0600) unless it is there already. */
export function writeAdminToken(dataDir: string, joinToken: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(path)) writeFileSync(path, `${adminTokenFor(joinToken)}\n`, { mode: 0o600 });
  return path;
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface StoredToken {
  readOnly: boolean;
  created: string;
  description?: string;
}

export class TokenRegistry {
  constructor(private readonly kv: KvService) {}

  /** A new token; only its digest is stored. */
  async create(readOnly: boolean, description: string | undefined, now: string): Promise<string> {
    const token = `${readOnly ? 'brr' : 'bra'}_${randomBytes(24).toString('base64url')}`;
    const record: StoredToken = { readOnly, created: now, ...(description ? { description } : {}) };
    const { result } = await this.kv.write({
      op: 'put',
      put: { key: Buffer.from(TOKEN_PREFIX + digest(token)), value: Buffer.from(JSON.stringify(record)), prevKv: false, ignoreValue: false },
    });
    if (result.op === 'error') throw result.error;
    return token;
  }

  /** What a presented token may do, from this member's replica (no quorum needed). */
  async lookup(token: string): Promise<StoredToken | null> {
    const { response } = await this.kv.range(rangeOf({ key: Buffer.from(TOKEN_PREFIX + digest(token)), limit: 1, serializable: true }));
    const kv = response.kvs[0];
    if (!kv) return null;
    try {
      const parsed = JSON.parse(kv.value.toString('utf8')) as StoredToken;
      return { readOnly: parsed.readOnly !== false, created: String(parsed.created ?? '') };
    } catch {
      return null;
    }
  }
}
