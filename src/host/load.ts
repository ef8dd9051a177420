// Reading board profiles from the profile directory: `--board NAME` reads one file,
// `--board auto` reads them all (every shipped profile is validated, so a broken one is noticed
// on any board) and lets detect.ts choose.

import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { ProfileError } from '../errors.ts';
import { detectBoard, systemProbe, type BoardProbe } from './detect.ts';
import { parseProfile, type Profile } from './profile.ts';

export const AUTO_BOARD = 'auto';

// A directory of boards, not a place to hide a thousand files: bound what `auto` reads.
const PROFILE_FILES_MAX = 256;

export interface LoadProfileOptions {
  configDir: string;
  /** How `auto` learns about the machine; systeminformation unless a test injects a fake. */
  probe?: BoardProbe;
  /** For shorter file names in messages; process.cwd() by default. */
  cwd?: string;
}

export interface LoadedProfile {
  profile: Profile;
  /** The file it came from, as shown in messages. */
  file: string;
  /** Why `auto` chose it; undefined when the board was named. */
  detectionReason?: string;
}

/** A path as a user would type it: relative to the working directory when inside it (not /). */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return cwd !== '/' && rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

// The name becomes part of a path: refuse anything that could leave the profile directory.
function checkBoardName(name: string): void {
  if (name === '' || name.includes('/') || name.includes('\\') || name.includes('..') || name.includes('\0')) {
    throw new ProfileError(
      `invalid board name ${JSON.stringify(name)}: give a plain profile name such as raspberry-pi-4 (no "/" or ".."), or "auto"`,
    );
  }
}

/** The board names (file stems) in the profile directory, sorted. */
export async function listBoards(configDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(configDir);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProfileError(
      `cannot list board profiles in ${configDir}: ${reason}; pass --config-dir DIR or set BRAMBLE_CONFIG_DIR`,
      { cause: error },
    );
  }
  const names = entries
    .filter((entry) => entry.endsWith('.json'))
    .map((entry) => entry.slice(0, -'.json'.length))
    .sort();
  if (names.length > PROFILE_FILES_MAX) {
    throw new ProfileError(`${configDir}: ${names.length} profile files, more than the ${PROFILE_FILES_MAX} bramble reads`);
  }
  return names;
}

async function readProfileFile(path: string, shown: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProfileError(`${shown}: cannot read: ${reason}`, { cause: error });
  }
  return parseProfile(text, shown);
}

/** Every profile in the directory, validated; all problems of all files in one error. */
export async function loadAllProfiles(configDir: string, cwd: string = process.cwd()): Promise<Profile[]> {
  const names = await listBoards(configDir);
  const profiles: Profile[] = [];
  const problems: string[] = [];
  for (const name of names) {
    try {
      profiles.push(await readProfileFile(join(configDir, `${name}.json`), displayPath(join(configDir, `${name}.json`), cwd)));
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ProfileError(problems.join('\n'), { problems });
  return profiles;
}

/** `--board NAME` or `--board auto`: the profile to run with, validated and frozen. */
export async function loadProfile(nameOrAuto: string, options: LoadProfileOptions): Promise<LoadedProfile> {
  const cwd = options.cwd ?? process.cwd();
  if (nameOrAuto === AUTO_BOARD) {
    const profiles = await loadAllProfiles(options.configDir, cwd);
    const detection = await detectBoard(profiles, options.probe ?? systemProbe());
    const file = displayPath(join(options.configDir, `${detection.profile.name}.json`), cwd);
    return { profile: detection.profile, file, detectionReason: detection.reason };
  }
  checkBoardName(nameOrAuto);
  const path = join(options.configDir, `${nameOrAuto}.json`);
  const shown = displayPath(path, cwd);
  const boards = await listBoards(options.configDir);
  if (!boards.includes(nameOrAuto)) {
    throw new ProfileError(
      `unknown board ${JSON.stringify(nameOrAuto)}: there is no ${shown}; available boards: ${boards.join(', ') || '(none)'}, or "auto" to detect`,
    );
  }
  return { profile: await readProfileFile(path, shown), file: shown };
}
