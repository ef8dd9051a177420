// ADD results cached on disk, like libcni's /var/lib/cni/results: DEL and CHECK need the exact
// config and result of the ADD, also after a daemon restart (and DEL must use the config the
// pod was attached with, even if this node's network settings changed since).
// An entry is written *before* ADD too (without a result): if the daemon dies mid-ADD, the
// entry still names the pod, so a cleanup after restart can DEL it and free its IP.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CapabilityArgs, CniResult, NetworkConfigList } from './types.ts';

export interface PodRef {
  uid: string;
  namespace: string;
  name: string;
}

export interface CacheEntry {
  kind: 'brambleCniCache';
  version: 1;
  containerId: string;
  ifName: string;
  networkName: string;
  netns: string;
  config: NetworkConfigList;
  args: Record<string, string>;
  capabilityArgs: CapabilityArgs;
  pod: PodRef;
  /** Absent while ADD is in progress or if it never finished. */
  result?: CniResult;
  createdAt: string;
}

const SUFFIX = '.json';

export class ResultCache {
  constructor(readonly dir: string) {}

  private file(networkName: string, containerId: string, ifName: string): string {
    return join(this.dir, `${networkName}-${containerId}-${ifName}${SUFFIX}`);
  }

  async write(entry: CacheEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(entry.networkName, entry.containerId, entry.ifName);
    const tmp = `${target}.tmp-${process.pid}`;
    // Write, fsync, rename: a power cut (common on gateways) leaves the old or the new entry,
    // never a torn one.
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  }

  /** The entry, undefined when there is none; a corrupt file counts as none. */
  async read(networkName: string, containerId: string, ifName: string): Promise<CacheEntry | undefined> {
    return readEntry(this.file(networkName, containerId, ifName));
  }

  async remove(networkName: string, containerId: string, ifName: string): Promise<void> {
    await rm(this.file(networkName, containerId, ifName), { force: true });
  }

  async list(): Promise<CacheEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: CacheEntry[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith(SUFFIX)) continue;
      const entry = await readEntry(join(this.dir, name));
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }
}

async function readEntry(path: string): Promise<CacheEntry | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const entry = JSON.parse(text) as CacheEntry;
    if (entry.kind !== 'brambleCniCache' || typeof entry.containerId !== 'string' || typeof entry.config !== 'object') return undefined;
    return entry;
  } catch {
    return undefined;
  }
}
