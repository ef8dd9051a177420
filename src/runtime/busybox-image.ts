// Builds an OCI image archive of busybox from the host's static /bin/busybox, so manifests that
// say `image: busybox` (and every pod sandbox) run on a gateway that has never seen a registry.
// Layout (OCI image-layout spec): oci-layout, index.json, blobs/sha256/<digest> for the layer,
// the config and the manifest. The index entry carries `org.opencontainers.image.ref.name`,
// which `ctr images import --base-name` turns into `<base>:<ref>`.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
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
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data });
  for (const link of links.sort()) entries.push({ type: 'symlink', path: link, target: '/bin/busybox' });
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
