// The gateway's data directory: created private (0700) if missing, and locked by the running
// server so that two daemons never share one store (the second refuses with the first's pid).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { DataDirError } from '../errors.ts';
import { processAlive } from './process-alive.ts';

export interface DataDir {
  readonly path: string;
  /** Path of a file inside the directory. */
  file(name: string): string;
  /** Releases the lock; the server calls it last on shutdown. */
  release(): void;
}

const LOCK_FILE = 'LOCK';

function tryLock(lockPath: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function openDataDir(path: string): DataDir {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    accessSync(path, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new DataDirError(`data directory ${path}: ${(err as Error).message}; choose another with --data-dir or fix its permissions`, { cause: err });
  }
  const lockPath = join(path, LOCK_FILE);
  if (!tryLock(lockPath)) {
    const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
      throw new DataDirError(`data directory ${path} is in use by another bramble server (pid ${holder}); stop it or use another --data-dir`);
    }
    // The holder died without cleaning up (kill -9, power loss): the lock is stale.
    rmSync(lockPath, { force: true });
    if (!tryLock(lockPath)) throw new DataDirError(`data directory ${path}: could not take the lock ${lockPath}; another server is starting there`);
  }
  let released = false;
  return {
    path,
    file: (name) => join(path, name),
    release() {
      if (released) return;
      released = true;
      rmSync(lockPath, { force: true });
    },
  };
}
