// When objects were created, exactly: the store's creation revision of their keys, read from
// this member's replica. A pod's Service variables name the Services created before the pod
// (src/agent/env.ts), and creationTimestamp only says the second.
import type { KvService } from '../../../store/kv/service.ts';
import { rangeOf } from '../../../store/kv/types.ts';
import { statusFromKv } from '../object-store.ts';

/** A lookup of the creation revision of each key that exists (missing keys are left out). */
export function creationRevisions(kv: KvService): (keys: readonly string[]) => Promise<ReadonlyMap<string, number>> {
  return async (keys) => {
    const out = new Map<string, number>();
    try {
      for (const key of new Set(keys)) {
        const { response } = await kv.range(rangeOf({ key: Buffer.from(key), serializable: true, keysOnly: true }));
        const found = response.kvs[0];
        if (found) out.set(key, found.createRevision);
      }
    } catch (error) {
      statusFromKv(error);
    }
    return out;
  };
}
