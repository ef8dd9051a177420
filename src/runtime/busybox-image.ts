// Builds an OCI image archive of busybox from the host's static /bin/busybox, so manifests that
// say `image: busybox` (and every pod sandbox) run on a gateway that has never seen a registry.
// Layout (OCI image-layout spec): oci-layout, index.json, blobs/sha256/<digest> for the layer,
// the config and the manifest. The index entry carries `org.opencontainers.image.ref.name`,
// which `ctr images import --base-name` turns into `<base>:<ref>`.

import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RuntimeError } from './errors.ts';
import { buildTar, type TarEntry } from './tar.ts';

export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
export const BUSYBOX_BINARY = '/bin/busybox';

/** Node's process.arch to the OCI (Go) architecture name. */
export const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Applet paths (`bin/sh`, `usr/bin/wget`, ...) as the binary itself lists them. */
function appletPaths(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync(binary, ['--list-full'], { encoding: 'utf8', timeout: 10_000 });
  } catch (error) {
    throw new RuntimeError(
      `cannot list the applets of ${binary}: ${(error as Error).message}; install busybox-static (sh scripts/setup.sh host)`,
      { cause: error },
    );
  }
  return out.split('\n').map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith('/'));
}

/**
 * Debian 12's busybox (1.35) is built without wget's -T and crashes (SIGSEGV) when given it
 * (Debian fixed it in 1.36.1-5), while `wget -qO- -T 2 URL` is what health checks and manifests
 * say. busybox's sh runs its own applets before looking at PATH, so a wrapper on PATH alone is
 * never reached from `sh -c`: with such a binary the image's copy has its wget applet renamed
 * (same length, same sort order, so the applet table still finds it) and `wget` on PATH is this
 * script, which applies -T SEC with busybox's `timeout` and runs the renamed applet.
 */
export const WGET_APPLET_RENAMED = 'wgex';
const WGET_TABLE = Buffer.from('\0wc\0wget\0which\0');
const WGET_TABLE_RENAMED = Buffer.from(`\0wc\0${WGET_APPLET_RENAMED}\0which\0`);

export const WGET_TIMEOUT_SHIM = `#!/bin/busybox sh
# bramble: this busybox's wget lacks -T (it would crash); -T SEC is applied with timeout instead.
secs=""
n=$#
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  case "$a" in
    -T) secs=$1; shift; n=$((n - 1)) ;;
    -T*) secs=\${a#-T} ;;
    *) set -- "$@" "$a" ;;
  esac
done
[ -n "$secs" ] && exec /bin/busybox timeout "$secs" /bin/busybox ${WGET_APPLET_RENAMED} "$@"
exec /bin/busybox ${WGET_APPLET_RENAMED} "$@"
`;

/** Whether the binary's wget knows -T (its help lists it only when built in). */
export function wgetHasTimeout(binary: string): boolean {
  const r = spawnSync(binary, ['wget', '--help'], { encoding: 'utf8', timeout: 10_000 });
  return /^\s*-T SEC/m.test(`${r.stdout ?? ''}${r.stderr ?? ''}`);
}

/** The binary with its wget applet renamed, or null when its applet table is not as expected. */
export function withWgetRenamed(data: Buffer): Buffer | null {
  const at = data.indexOf(WGET_TABLE);
  if (at < 0 || data.indexOf(WGET_TABLE, at + 1) >= 0) return null;
  const copy = Buffer.from(data);
  WGET_TABLE_RENAMED.copy(copy, at);
  return copy;
}

function layerEntries(binary: string): TarEntry[] {
  let data: Buffer;
  try {
    data = readFileSync(binary);
  } catch (error) {
    throw new RuntimeError(`cannot read ${binary}: ${(error as Error).message}; install busybox-static (sh scripts/setup.sh host)`, { cause: error });
  }
  const dirs = new Set<string>(['bin', 'dev', 'etc', 'proc', 'root', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'sbin', 'var', 'var/run']);
  const links = appletPaths(binary).filter((path) => path !== 'bin/busybox');
  for (const link of links) {
    const parent = link.slice(0, link.lastIndexOf('/'));
    if (parent.length > 0) dirs.add(parent);
  }
  const entries: TarEntry[] = [...dirs].sort().map((path) => ({ type: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 }));
  const renamed = wgetHasTimeout(binary) ? null : withWgetRenamed(data);
  const shimWget = renamed !== null;
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data: renamed ?? data });
  for (const link of links.sort()) {
    if (shimWget && link.endsWith('/wget')) entries.push({ type: 'file', path: link, mode: 0o755, data: Buffer.from(WGET_TIMEOUT_SHIM) });
    else entries.push({ type: 'symlink', path: link, target: '/bin/busybox' });
  }
  // `id`, `ps` and `ls -l` want names for uid 0 and nobody.
  entries.push({ type: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') });
  entries.push({ type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') });
  return entries;
}

/**
 * The OCI archive (a tar) for `docker.io/library/busybox:latest`, ready for
 * `ctr images import --base-name docker.io/library/busybox`.
 */
export function buildBusyboxImageArchive(binary: string = BUSYBOX_BINARY, arch: string = process.arch, run: { entrypoint?: string[]; cmd?: string[] } = {}): Buffer {
  const goArch = GO_ARCH[arch];
  if (goArch === undefined) throw new RuntimeError(`busybox image: unsupported CPU architecture ${arch}`);
  const layer = buildTar(layerEntries(binary));
  const layerDigest = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: goArch,
      os: 'linux',
      // `run` makes variants (tests of ENTRYPOINT and CMD); the default is busybox's own.
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(run.entrypoint ? { Entrypoint: run.entrypoint } : {}), Cmd: run.cmd ?? ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [{ created_by: `bramble: ${binary} with applet links` }],
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = sha256(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: goArch, os: 'linux' },
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  return buildTar([
    { type: 'file', path: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { type: 'file', path: 'index.json', data: index },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    { type: 'file', path: blob(layerDigest), data: layer },
    { type: 'file', path: blob(configDigest), data: config },
    { type: 'file', path: blob(manifestDigest), data: manifest },
  ]);
}
