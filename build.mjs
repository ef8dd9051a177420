// Bundles src/bramble.ts and everything it imports into one file, dist/bramble.mjs: the daemon
// and the CLI in one executable script. better-sqlite3 stays outside the bundle because it
// loads a native addon (build/Release/*.node) relative to its own package directory.
import { chmod, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const outfile = join(root, 'dist', 'bramble.mjs');
const started = performance.now();

const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

// Bundled CommonJS packages (systeminformation, dns-packet, ...) call require(), __filename and
// __dirname, which an ES module does not have; define them once at the top of the bundle.
// The names are prefixed so they cannot clash with top-level names in our own modules.
//
// The first line runs node with a young generation of 1 MiB semi-spaces: a gateway counts
// megabytes, and this takes 5-10 MB off the daemon's RSS with 30-60 pods (bench:pods: 75-81 MB
// with 31 pods against 84-86 MB), with pod starts and API writes unchanged within the noise
// (bench:pods, bench:api, bench:store); paged lists are about 12% slower, a price a gateway
// with a handful of pods does not notice. V8 reads the flag only at start, so it cannot be set
// from inside; `env -S` splits the line (GNU coreutils 8.30 and later; Debian 10 on).
const banner = [
  '#!/usr/bin/env -S node --max-semi-space-size=1',
  "import { createRequire as __brambleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __brambleFileURLToPath } from 'node:url';",
  "import { dirname as __brambleDirname } from 'node:path';",
  'const require = __brambleCreateRequire(import.meta.url);',
  'const __filename = __brambleFileURLToPath(import.meta.url);',
  'const __dirname = __brambleDirname(__filename);',
].join('\n');

try {
  await build({
    entryPoints: [join(root, 'src', 'bramble.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Native addon: must be resolved from node_modules at run time, not inlined.
    external: ['better-sqlite3'],
    banner: { js: banner },
    define: { BRAMBLE_VERSION: JSON.stringify(pkg.version) },
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed each error with its file and line.
  console.error('build: esbuild failed, dist/bramble.mjs was not written (see the errors above)');
  process.exit(1);
}

await chmod(outfile, 0o755);
const { size } = await stat(outfile);
const millis = Math.round(performance.now() - started);
console.log(`build: dist/bramble.mjs ${(size / 1024).toFixed(0)} KiB, version ${pkg.version}, in ${millis} ms`);
