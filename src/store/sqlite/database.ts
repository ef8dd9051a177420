// The gateway's one SQLite file: Raft log, hard state, the replicated key-value state machine
// and the member list. WAL mode; every Ready is one transaction (group commit). Commits do not
// fsync by themselves (synchronous=NORMAL keeps the file consistent): the Ready cycle syncs the
// WAL explicitly, off the event loop, whenever Raft needs durability (see WalSync).
import Database from 'better-sqlite3';
import { closeSync, existsSync, fdatasync, openSync } from 'node:fs';
import { BrambleError } from '../../errors.ts';

export type Db = Database.Database;

/** The database cannot be used: corrupt, truncated, from a newer version, or unwritable. */
export class StoreError extends BrambleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE', message, options);
  }
}

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raft_log (
  idx INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL
);
-- Configurations by the index of the entry that made them, so the log can be compacted at any
-- index and still tell the core which configuration held there.
CREATE TABLE IF NOT EXISTS conf_history (
  idx INTEGER PRIMARY KEY,
  conf TEXT NOT NULL
);
-- Every change to every key, by revision (rev) and position within it (sub). The only key-value
-- table: which key changed when is indexed in memory (src/store/kv/key-index.ts), so writes
-- append here rather than update pages all over a key-ordered B-tree.
CREATE TABLE IF NOT EXISTS kv_history (
  rev INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key BLOB NOT NULL,
  create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL,
  value BLOB,
  tombstone INTEGER NOT NULL,
  PRIMARY KEY (rev, sub)
) WITHOUT ROWID;
-- Schema 1 had a key index and a table of live keys; both live in memory now.
DROP INDEX IF EXISTS kv_history_key;
DROP TABLE IF EXISTS kv;
CREATE TABLE IF NOT EXISTS members (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  peer_url TEXT NOT NULL,
  api_url TEXT NOT NULL,
  role TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
`;

export interface OpenOptions {
  cacheBytes: number;
  walAutocheckpointPages: number;
  /** Run PRAGMA quick_check (a full scan; the server does it at start). */
  check?: boolean;
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}

/** Opens (creating if missing) the store at `path`. Refuses, with a message that says what to
 *  do, a file that is not a bramble database or is damaged; it never modifies such a file. */
export function openDatabase(path: string, options: OpenOptions): Db {
  const fresh = !existsSync(path);
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw new StoreError(`cannot open the store ${path} (${describe(err)}); check the disk and the permissions`, { cause: err });
  }
  try {
    // One connection per daemon (the data directory is locked): with an exclusive lock taken
    // before WAL mode, SQLite keeps the WAL index in memory instead of the -shm file, whose
    // pages every read transaction dirties: on an idle gateway that was most of what reached
    // the SD card.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${Math.max(64, Math.floor(options.cacheBytes / 1024))}`);
    db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);
    db.pragma('foreign_keys = OFF');
    // A scan of the whole file after an unclean stop only: a clean shutdown leaves a mark.
    if (!fresh && options.check !== false && !cleanlyClosed(db)) {
      const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
      const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (problems.length > 0) throw new Error(`integrity check failed: ${problems.slice(0, 3).join('; ')}`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`it was written by a newer bramble (schema ${version}, this one knows ${SCHEMA_VERSION})`);
    }
    db.exec(SCHEMA);
    if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    // Until the next clean shutdown, a start must check the file again.
    db.prepare("INSERT INTO meta (key, value) VALUES ('clean_shutdown', 0) ON CONFLICT (key) DO UPDATE SET value = 0").run();
  } catch (err) {
    try {
      db.close();
    } catch {
      // already unusable
    }
    throw new StoreError(
      `the store ${path} is damaged or not a bramble database (${describe(err)}). It was left untouched. ` +
        'Move it (and its -wal/-shm files) aside and start this gateway again with --join to copy the state from a healthy member.',
      { cause: err },
    );
  }
  return db;
}

function cleanlyClosed(db: Db): boolean {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  return hasMeta !== undefined && db.prepare("SELECT value FROM meta WHERE key = 'clean_shutdown'").pluck().get() === 1;
}

/** Marks a clean shutdown (the next start may skip the integrity scan), then closes. */
export function closeDatabase(db: Db): void {
  db.pragma('synchronous = FULL');
  db.prepare("INSERT INTO meta (key, value) VALUES ('clean_shutdown', 1) ON CONFLICT (key) DO UPDATE SET value = 1").run();
  db.close();
}

/** Small typed accessors for the meta table. */
export class Meta {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.setStmt = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  get(key: string): unknown {
    return this.getStmt.get(key);
  }

  number(key: string, fallback = 0): number {
    const v = this.getStmt.get(key);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : fallback;
  }

  string(key: string, fallback = ''): string {
    const v = this.getStmt.get(key);
    return typeof v === 'string' ? v : fallback;
  }

  json<T>(key: string, fallback: T): T {
    const v = this.getStmt.get(key);
    return typeof v === 'string' ? (JSON.parse(v) as T) : fallback;
  }

  set(key: string, value: string | number | Buffer | null): void {
    this.setStmt.run(key, value);
  }

  setJson(key: string, value: unknown): void {
    this.setStmt.run(key, JSON.stringify(value));
  }
}

/** fdatasync of the WAL on libuv's thread pool: the same durability as synchronous=FULL, but
 *  the event loop keeps serving requests (and gathering the next batch) while the disk works. */
export class WalSync {
  private fd: number | null = null;
  /** Syncs on the thread pool now: the descriptor is closed only after the last one ends (a
   *  closed, possibly reused, descriptor under a running fdatasync would be a different file). */
  private running = 0;
  private closing = false;

  constructor(private readonly dbPath: string) {}

  async sync(): Promise<void> {
    if (this.closing) throw new StoreError('the store is closed');
    if (this.fd === null) this.fd = openSync(`${this.dbPath}-wal`, 'r');
    const fd = this.fd;
    this.running++;
    try {
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      this.running--;
      if (this.closing && this.running === 0) this.closeFd();
    }
  }

  close(): void {
    this.closing = true;
    if (this.running === 0) this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
