// Pod volumes on the gateway's disk: emptyDir directories under the pod's directory, hostPath
// with Kubernetes' type checks, and configMap/secret files projected with Kubernetes' atomic
// writer (the files live in a timestamped directory that a `..data` symlink points at; an update
// writes a new directory and renames the symlink over the old one, so a container never sees a
// half-written set, and directory mounts see updates).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';

export const DATA_LINK = '..data';

export interface ProjectedFile {
  /** Relative path inside the volume ("config.yaml", "sub/dir/key"). */
  path: string;
  data: Buffer;
  mode: number;
}

/** A volume that cannot be set up; the pod waits (ContainerCreating) and an event says why. */
export class VolumeError extends Error {
  readonly code = 'E_VOLUME';
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

function checkRelative(path: string, what: string): void {
  const n = normalize(path);
  if (path === '' || path.startsWith('/') || n === '..' || n.startsWith(`..${sep}`) || n.split(sep).includes('..')) {
    throw new VolumeError(`${what} ${JSON.stringify(path)} must be a relative path without '..'`);
  }
  if (path.startsWith('..')) throw new VolumeError(`${what} ${JSON.stringify(path)} must not start with '..'`);
}

/**
 * The files of a configMap or secret volume: every key, or only `items` (a missing item key is
 * an error unless the volume is optional). Modes default to `defaultMode` (0644).
 */
export function projectKeys(kind: string, name: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, optional: boolean): ProjectedFile[] {
  const mode = defaultMode ?? 0o644;
  if (!items || items.length === 0) {
    return Object.keys(data)
      .sort()
      .map((key) => ({ path: key, data: data[key]!, mode }));
  }
  const files: ProjectedFile[] = [];
  for (const item of items) {
    checkRelative(item.path, 'item path');
    const value = data[item.key];
    if (value === undefined) {
      if (optional) continue;
      throw new VolumeError(`${kind} "${name}" has no key ${JSON.stringify(item.key)} (named in the volume's items)`);
    }
    files.push({ path: item.path, data: value, mode: item.mode ?? mode });
  }
  return files;
}

function currentPayload(dir: string): Map<string, { data: Buffer; mode: number }> | undefined {
  const link = join(dir, DATA_LINK);
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return undefined;
  }
  const out = new Map<string, { data: Buffer; mode: number }>();
  const walk = (base: string, rel: string) => {
    for (const entry of readdirSync(join(base, rel), { withFileTypes: true })) {
      const r = rel === '' ? entry.name : join(rel, entry.name);
      if (entry.isDirectory()) walk(base, r);
      else out.set(r, { data: readFileSync(join(base, r)), mode: statSync(join(base, r)).mode & 0o777 });
    }
  };
  walk(join(dir, target), '');
  return out;
}

function samePayload(current: Map<string, { data: Buffer; mode: number }>, files: ProjectedFile[]): boolean {
  if (current.size !== files.length) return false;
  return files.every((f) => {
    const c = current.get(normalize(f.path));
    return c !== undefined && c.mode === f.mode && c.data.equals(f.data);
  });
}

/**
 * Writes `files` into `dir` atomically; answers whether anything changed. Idempotent: the same
 * payload again writes nothing (an SD card counts its writes).
 */
export function writeAtomic(dir: string, files: ProjectedFile[]): boolean {
  for (const f of files) checkRelative(f.path, 'file path');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const current = currentPayload(dir);
  if (current && samePayload(current, files)) return false;
  const oldTarget = current ? readlinkSync(join(dir, DATA_LINK)) : undefined;
  const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${randomBytes(4).toString('hex')}`;
  const staging = join(dir, stamp);
  mkdirSync(staging, { mode: 0o755 });
  for (const f of files) {
    const path = join(staging, f.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, f.data, { mode: f.mode });
    chmodSync(path, f.mode); // the umask must not narrow defaultMode
  }
  const tmpLink = join(dir, `${DATA_LINK}_tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(stamp, tmpLink);
  renameSync(tmpLink, join(dir, DATA_LINK));
  // Top-level names point through ..data, so they follow each swap.
  const wanted = new Set(files.map((f) => normalize(f.path).split(sep)[0]!));
  for (const name of wanted) {
    const link = join(dir, name);
    let existing: string | undefined;
    try {
      existing = readlinkSync(link);
    } catch {
      existing = undefined;
    }
    if (existing === join(DATA_LINK, name)) continue;
    rmSync(link, { force: true, recursive: true });
    symlinkSync(join(DATA_LINK, name), link);
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..') || wanted.has(entry)) continue;
    rmSync(join(dir, entry), { force: true, recursive: true });
  }
  if (oldTarget && oldTarget !== stamp) rmSync(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/** Kubernetes' hostPath type checks (and creation for the *OrCreate types). */
export function checkHostPath(volume: string, path: string, type: HostPathType | undefined): void {
  const where = `hostPath volume "${volume}" (${path})`;
  if (!path.startsWith('/')) throw new VolumeError(`${where}: the path must be absolute`);
  let stats: ReturnType<typeof lstatSync> | undefined;
  try {
    stats = statSync(path);
  } catch {
    stats = undefined;
  }
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!stats) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!stats.isDirectory()) throw new VolumeError(`${where}: exists but is not a directory (type DirectoryOrCreate)`);
      return;
    case 'FileOrCreate':
      if (!stats) {
        if (!existsSync(dirname(path))) throw new VolumeError(`${where}: the parent directory ${dirname(path)} does not exist (FileOrCreate creates the file, not its directory)`);
        writeFileSync(path, '', { mode: 0o644, flag: 'a' });
        return;
      }
      if (!stats.isFile()) throw new VolumeError(`${where}: exists but is not a regular file (type FileOrCreate)`);
      return;
  }
  const expected: Record<string, [string, (s: NonNullable<typeof stats>) => boolean]> = {
    Directory: ['a directory', (s) => s.isDirectory()],
    File: ['a regular file', (s) => s.isFile()],
    Socket: ['a UNIX socket', (s) => s.isSocket()],
    CharDevice: ['a character device', (s) => s.isCharacterDevice()],
    BlockDevice: ['a block device', (s) => s.isBlockDevice()],
  };
  const rule = expected[type!];
  if (!rule) throw new VolumeError(`${where}: unknown type ${JSON.stringify(type)}`);
  if (!stats) throw new VolumeError(`${where}: does not exist on this gateway; hostPath type ${type} needs ${rule[0]} there (create it, or use type ${type === 'Directory' ? 'DirectoryOrCreate' : type === 'File' ? 'FileOrCreate' : '""'})`);
  if (!rule[1](stats)) throw new VolumeError(`${where}: is not ${rule[0]} (type ${type})`);
}

/** The source of a volumeMount with subPath: the volume's path plus subPath, created if missing. */
export function subPathSource(volumePath: string, subPath: string | undefined): string {
  if (!subPath) return volumePath;
  checkRelative(subPath, 'subPath');
  const path = join(volumePath, subPath);
  if (!existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o755 });
  return path;
}
