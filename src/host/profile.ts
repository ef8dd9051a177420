// Board profiles: what a gateway of one kind of board keeps for itself and how hard bramble may
// push its CPU, RAM and SD card. One JSON file per board in firmware-configs/; this module says
// what a valid profile is and explains precisely what is wrong with one that is not.

import { ProfileError } from '../errors.ts';
import { checkShape, deepFreeze, type Shape, type ShapeValue } from './shape.ts';

/** Node's `process.arch` names, so a profile compares directly with the running process. */
export type Arch = 'x64' | 'arm64' | 'arm';
export type Snapshotter = 'overlayfs' | 'native';

export interface Profile {
  /** Equals the file's stem: `raspberry-pi-4` for `raspberry-pi-4.json`. */
  name: string;
  description: string;
  arch: Arch;
  /** Substrings of systeminformation's model or CPU brand that identify the board; empty for generic. */
  match: { models: string[] };
  /** What the operating system and bramble itself keep; pods get the rest. */
  reserved: { cpuMillis: number; memoryBytes: number };
  dataDir: string;
  /** Caps on each container's log files, small where the disk is an SD card. */
  log: { fileBytesMax: number; filesMax: number };
  raft: {
    tickMillis: number;
    electionTicks: number;
    heartbeatTicks: number;
    maxInflightMessages: number;
    maxSizePerMessageBytes: number;
    /** Take a snapshot (and compact the log) every this many applied entries. */
    snapshotEntries: number;
  };
  sqlite: { cacheBytes: number; walAutocheckpointPages: number };
  containerd: { snapshotter: Snapshotter };
  timing: { heartbeatIntervalMillis: number; nodeGraceMillis: number; evictionTimeoutMillis: number };
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

const integer = (min: number, max: number) => ({ kind: 'integer', min, max }) as const;

// Every number has an upper bound too: a typo such as an extra zero should be caught here, not
// discovered as an out-of-memory kill on a 512 MB board.
export const PROFILE_SHAPE = {
  kind: 'object',
  fields: {
    name: { kind: 'string', lengthMax: 63, pattern: /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/, patternHint: 'a lowercase name of letters, digits, dashes and underscores' },
    description: { kind: 'string', lengthMax: 200 },
    arch: { kind: 'enum', values: ['x64', 'arm64', 'arm'] },
    match: {
      kind: 'object',
      fields: { models: { kind: 'stringList', itemsMax: 32, itemLengthMax: 100 } },
    },
    reserved: {
      kind: 'object',
      fields: { cpuMillis: integer(0, 256_000), memoryBytes: integer(0, 1024 * GIB) },
    },
    dataDir: { kind: 'string', lengthMax: 4096, pattern: /^\//, patternHint: 'an absolute path' },
    log: {
      kind: 'object',
      fields: { fileBytesMax: integer(4 * KIB, GIB), filesMax: integer(1, 100) },
    },
    raft: {
      kind: 'object',
      fields: {
        tickMillis: integer(1, 60_000),
        electionTicks: integer(1, 10_000),
        heartbeatTicks: integer(1, 10_000),
        maxInflightMessages: integer(1, 65_536),
        maxSizePerMessageBytes: integer(1, 64 * MIB),
        snapshotEntries: integer(1, 100_000_000),
      },
    },
    sqlite: {
      kind: 'object',
      fields: { cacheBytes: integer(64 * KIB, 16 * GIB), walAutocheckpointPages: integer(1, 10_000_000) },
    },
    containerd: {
      kind: 'object',
      fields: { snapshotter: { kind: 'enum', values: ['overlayfs', 'native'] } },
    },
    timing: {
      kind: 'object',
      fields: {
        heartbeatIntervalMillis: integer(1, 3_600_000),
        nodeGraceMillis: integer(1, 3_600_000),
        evictionTimeoutMillis: integer(1, 86_400_000),
      },
    },
  },
} as const satisfies Shape;

// Compile-time guard: the hand-written `Profile` (documented, readable) and the shape the
// validator enforces must describe the same document. Adding a field to one but not the other
// fails the type check here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const profileMatchesShape: Same<Profile, ShapeValue<typeof PROFILE_SHAPE>> = true;
void profileMatchesShape;

/** The file stem a profile's `name` must equal: `raspberry-pi-4` for `.../raspberry-pi-4.json`. */
export function profileStem(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  return base.endsWith('.json') ? base.slice(0, -'.json'.length) : base;
}

// Rules across fields, checked only once each field on its own is well formed.
function crossFieldProblems(profile: Profile, fileName: string): string[] {
  const problems: string[] = [];
  const stem = profileStem(fileName);
  if (profile.name !== stem) {
    problems.push(`name: must equal the file's name ${JSON.stringify(stem)}, got ${JSON.stringify(profile.name)}`);
  }
  // Raft needs followers to hear several heartbeats before one gives up on the leader.
  if (profile.raft.electionTicks <= profile.raft.heartbeatTicks) {
    problems.push(
      `raft.electionTicks: must be greater than raft.heartbeatTicks (${profile.raft.heartbeatTicks}), got ${profile.raft.electionTicks}`,
    );
  }
  // A grace shorter than the heartbeat interval would mark every healthy node NotReady.
  if (profile.timing.nodeGraceMillis <= profile.timing.heartbeatIntervalMillis) {
    problems.push(
      `timing.nodeGraceMillis: must be greater than timing.heartbeatIntervalMillis (${profile.timing.heartbeatIntervalMillis}), got ${profile.timing.nodeGraceMillis}`,
    );
  }
  return problems;
}

/**
 * Checks a parsed JSON document against the profile shape and rules. Returns it typed and
 * frozen, or throws a ProfileError listing every problem as `<fileName>: <field.path>: ...`.
 */
export function validateProfile(json: unknown, fileName: string): Profile {
  const problems: string[] = [];
  checkShape(json, PROFILE_SHAPE, '', problems);
  if (problems.length === 0) problems.push(...crossFieldProblems(json as Profile, fileName));
  if (problems.length > 0) {
    const lines = problems.map((problem) => `${fileName}: ${problem}`);
    throw new ProfileError(lines.join('\n'), { problems: lines });
  }
  return deepFreeze(json as Profile);
}

/** Parses and validates one profile file's text; a JSON syntax error names the file too. */
export function parseProfile(text: string, fileName: string): Profile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProfileError(`${fileName}: not valid JSON: ${reason}`, { cause: error });
  }
  return validateProfile(json, fileName);
}
