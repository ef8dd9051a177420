// Kubernetes objects in the replicated key-value store: one key per object under
// `/registry/<resource>/<namespace>/<name>` (cluster-scoped: `/registry/<resource>/<name>`), the
// value the object's JSON without `metadata.resourceVersion`, which is the key's mod revision and
// is filled in on the way out. Every write is one transaction whose compare makes it
// conditional (create only if absent, replace only at the revision read), so two API servers on
// two gateways can never overwrite each other's change unseen.
import type { KObject, ResourceInfo } from '../../model/index.ts';
import type { KvService } from '../../store/kv/service.ts';
import type { Compare, KeyValue, RangeRequest, RequestOp, TxnResponse, WriteOp } from '../../store/kv/types.ts';
import { KvError, rangeOf } from '../../store/kv/types.ts';
import { Status, StatusError } from './status.ts';

export const REGISTRY_PREFIX = '/registry/';

export function objectKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${REGISTRY_PREFIX}${info.resource}/${namespace}/${name}` : `${REGISTRY_PREFIX}${info.resource}/${name}`;
}

/** The key prefix of a list: one namespace, or every namespace when `namespace` is undefined. */
export function listPrefix(info: ResourceInfo, namespace: string | undefined): string {
  return info.namespaced && namespace !== undefined ? `${REGISTRY_PREFIX}${info.resource}/${namespace}/` : `${REGISTRY_PREFIX}${info.resource}/`;
}

/** The first key after every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** An object as stored, with the revision it was read at. */
export interface StoredObject {
  object: KObject;
  modRevision: number;
}

export interface ListResult {
  items: KObject[];
  /** The store revision the list reflects: the list's metadata.resourceVersion. */
  revision: number;
  /** The key to continue from when `limit` cut the list short. */
  continueKey: string | null;
  /** Objects left after this page (Kubernetes' remainingItemCount). */
  remaining: number;
}

/** Decodes a stored value; a value that is not an object is a bug or a foreign writer on the KV
 *  API, reported rather than served. */
export function decodeObject(kv: KeyValue): KObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(kv.value.toString('utf8'));
  } catch {
    throw Status.internal(`the stored value of ${kv.key.toString('utf8')} is not JSON; it was not written by the resource API (remove it with the KV API)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as KObject).metadata !== 'object') {
    throw Status.internal(`the stored value of ${kv.key.toString('utf8')} is not a Kubernetes object; it was not written by the resource API`);
  }
  const object = parsed as KObject;
  object.metadata.resourceVersion = String(kv.modRevision);
  return object;
}

/** The stored form: the object without its resourceVersion (the revision says it). */
export function encodeObject(object: KObject): Buffer {
  const { resourceVersion: _omit, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

function rangeRequest(key: Buffer, rangeEnd: Buffer, serializable: boolean, limit = 0, revision = 0): RangeRequest {
  return rangeOf({ key, rangeEnd, serializable, limit, revision });
}

function compareMod(key: Buffer, modRevision: number): Compare {
  return { key, rangeEnd: Buffer.alloc(0), target: 'MOD', result: 'EQUAL', version: 0, createRevision: 0, modRevision, value: Buffer.alloc(0) };
}

/** Store errors become Statuses: no quorum is 503, a compacted revision 410 Expired. */
export function statusFromKv(error: unknown): never {
  if (error instanceof StatusError) throw error;
  if (error instanceof KvError) {
    if (/compacted/.test(error.message)) throw Status.expired(`too old resource version: ${error.message}`);
    if (error.grpcCode === 14 || error.grpcCode === 4) throw Status.unavailable(`the store cannot answer now: ${error.message}`);
    if (error.grpcCode === 11) throw Status.badRequest(error.message);
    throw Status.internal(error.message);
  }
  throw error;
}

export class ObjectStore {
  constructor(readonly kv: KvService) {}

  async get(info: ResourceInfo, namespace: string | undefined, name: string, serializable: boolean): Promise<StoredObject | null> {
    const key = Buffer.from(objectKey(info, namespace, name));
    try {
      const { response } = await this.kv.range(rangeRequest(key, Buffer.alloc(0), serializable));
      const kv = response.kvs[0];
      return kv ? { object: decodeObject(kv), modRevision: kv.modRevision } : null;
    } catch (error) {
      return statusFromKv(error);
    }
  }

  /** One page of a list, in key order (namespace, then name). `revision` > 0 reads the past
   *  (a continued list sees the snapshot its first page saw). */
  async list(
    info: ResourceInfo,
    namespace: string | undefined,
    options: { serializable: boolean; limit?: number; continueKey?: string; revision?: number },
  ): Promise<ListResult> {
    const prefix = Buffer.from(listPrefix(info, namespace));
    const start = options.continueKey !== undefined ? Buffer.from(options.continueKey) : prefix;
    const limit = options.limit ?? 0;
    try {
      const { header, response } = await this.kv.range(rangeRequest(start, prefixEnd(prefix), options.serializable, limit, options.revision ?? 0));
      const items = response.kvs.map(decodeObject);
      const last = response.kvs[response.kvs.length - 1];
      const revision = options.revision && options.revision > 0 ? options.revision : header.revision;
      return {
        items,
        revision,
        continueKey: response.more && last ? `${last.key.toString('utf8')}\0` : null,
        remaining: response.more ? Math.max(0, response.count - items.length) : 0,
      };
    } catch (error) {
      return statusFromKv(error);
    }
  }

  /** Whether the store still has the history from `revision` on (a watch can start there). */
  async historyFrom(revision: number): Promise<'kept' | 'compacted' | 'future'> {
    try {
      await this.kv.range(rangeRequest(Buffer.from(REGISTRY_PREFIX), Buffer.from(REGISTRY_PREFIX), true, 1, revision));
      return 'kept';
    } catch (error) {
      if (error instanceof KvError && /compacted/.test(error.message)) return 'compacted';
      if (error instanceof KvError && /future/.test(error.message)) return 'future';
      return statusFromKv(error);
    }
  }

  /** Creates the object; 409 AlreadyExists when the key is taken. Returns it with its revision. */
  async create(info: ResourceInfo, object: KObject): Promise<StoredObject> {
    const name = object.metadata.name!;
    const key = Buffer.from(objectKey(info, object.metadata.namespace, name));
    const value = encodeObject(object);
    const txn = await this.txn({
      compare: [{ key, rangeEnd: Buffer.alloc(0), target: 'CREATE', result: 'EQUAL', version: 0, createRevision: 0, modRevision: 0, value: Buffer.alloc(0) }],
      success: [{ put: { key, value, prevKv: false, ignoreValue: false } }],
      failure: [],
    });
    if (!txn.succeeded) throw Status.alreadyExists(info, name);
    return this.written(object, txn.revision);
  }

  /** Replaces the object if it is still at `modRevision`; 409 Conflict otherwise. */
  async replace(info: ResourceInfo, object: KObject, modRevision: number): Promise<StoredObject> {
    const name = object.metadata.name!;
    const key = Buffer.from(objectKey(info, object.metadata.namespace, name));
    const txn = await this.txn({
      compare: [compareMod(key, modRevision)],
      success: [{ put: { key, value: encodeObject(object), prevKv: false, ignoreValue: false } }],
      failure: [],
    });
    if (!txn.succeeded) throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
    return this.written(object, txn.revision);
  }

  /** Removes the object if it is still at `modRevision`; 409 Conflict otherwise. Returns the
   *  deletion's revision. */
  async remove(info: ResourceInfo, namespace: string | undefined, name: string, modRevision: number): Promise<number> {
    const key = Buffer.from(objectKey(info, namespace, name));
    const txn = await this.txn({
      compare: [compareMod(key, modRevision)],
      success: [{ deleteRange: { key, rangeEnd: Buffer.alloc(0), prevKv: false } }],
      failure: [],
    });
    if (!txn.succeeded) throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
    return txn.revision;
  }

  /** The caller's object (built for this write, not shared) now carries its revision. */
  private written(object: KObject, revision: number): StoredObject {
    object.metadata.resourceVersion = String(revision);
    return { object, modRevision: revision };
  }

  private async txn(txn: { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }): Promise<TxnResponse & { revision: number }> {
    const op: WriteOp = { op: 'txn', txn };
    try {
      const { result } = await this.kv.write(op);
      if (result.op === 'error') throw result.error;
      if (result.op !== 'txn') throw Status.internal(`the store answered a transaction with ${result.op}`);
      return { ...result.txn, revision: result.revision };
    } catch (error) {
      return statusFromKv(error);
    }
  }
}
