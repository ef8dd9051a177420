// The version printed by `bramble version` and reported to peers. build.mjs injects it from
// package.json as BRAMBLE_VERSION; tests run the sources directly, where package.json is read.

import { readFileSync } from 'node:fs';

declare const BRAMBLE_VERSION: string | undefined;

function versionFromPackageJson(): string {
  try {
    const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0-unknown';
  } catch {
    return '0.0.0-unknown';
  }
}

export const VERSION: string = typeof BRAMBLE_VERSION === 'string' ? BRAMBLE_VERSION : versionFromPackageJson();
