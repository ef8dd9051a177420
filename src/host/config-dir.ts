// Where the board profiles live. The same code runs as the esbuild bundle (dist/bramble.mjs)
// and from the source tree (src/host/*.ts under the test loader), so the default is found by
// walking up from this module's own location to the first `firmware-configs/` directory.

import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProfileError } from '../errors.ts';

export const CONFIG_DIR_NAME = 'firmware-configs';
export const CONFIG_DIR_ENV = 'BRAMBLE_CONFIG_DIR';

// dist/ is one level below the root, src/host/ two; three leaves room for a packaged layout.
const PARENT_LEVELS_MAX = 3;

export interface ConfigDirSources {
  /** `--config-dir`, highest priority. */
  flag?: string | undefined;
  /** `BRAMBLE_CONFIG_DIR`. */
  env?: string | undefined;
  /** Where to start looking for the default; this module's URL unless a test says otherwise. */
  moduleUrl?: string;
  cwd?: string;
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The profile directory to use: the flag, else the environment, else the one beside the code. */
export function resolveConfigDir(sources: ConfigDirSources = {}): string {
  const cwd = sources.cwd ?? process.cwd();
  if (sources.flag !== undefined && sources.flag !== '') return resolve(cwd, sources.flag);
  if (sources.env !== undefined && sources.env !== '') return resolve(cwd, sources.env);
  const start = dirname(fileURLToPath(sources.moduleUrl ?? import.meta.url));
  let dir = start;
  for (let level = 0; level <= PARENT_LEVELS_MAX; level++) {
    const candidate = join(dir, CONFIG_DIR_NAME);
    if (isDirectory(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ProfileError(
    `cannot find the ${CONFIG_DIR_NAME}/ directory in ${start} or up to ${PARENT_LEVELS_MAX} levels above it; pass --config-dir DIR or set ${CONFIG_DIR_ENV}`,
  );
}
