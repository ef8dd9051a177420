// The runtime as the agent sees it: one object holding the containerd (supervised or external),
// the ctr wrapper, the event stream and the container and image operations.
import { mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { Containers } from './containers.ts';
import { Ctr, DEFAULT_NAMESPACE } from './ctr.ts';
import { TaskEvents } from './events.ts';
import { ensureBusyboxImage, hasImage, imageRunConfig, importImage, listImages, removeImage, type EnsureBusyboxOptions, type ImageInfo, type ImageRunConfig, type ImportOptions } from './images.ts';
import { CGROUP_ROOT, ensureCgroupMounts } from './cgroups.ts';
import { ContainerdSupervisor, ExternalContainerd, type Containerd, type StopOptions } from './supervisor.ts';

export interface StartRuntimeOptions {
  /** The daemon's data directory: containerd lives in DATA/containerd, logs in DATA/logs. */
  dataDir: string;
  logger: Logger;
  /** The board profile's containerd.snapshotter. */
  snapshotter?: string;
  /** `--containerd-socket PATH`: use that containerd instead of starting one. */
  containerdSocket?: string;
  /** containerd namespace (default `bramble`). */
  namespace?: string;
  /** ctr processes at once per lane (default 4). */
  concurrency?: number;
}

/** How long a present image is believed present without asking containerd again. */
const IMAGE_PRESENT_TTL_MS = 10_000;
const IMAGE_CONFIGS_MAX = 256;

export class Runtime {
  readonly containerd: Containerd;
  readonly ctr: Ctr;
  readonly events: TaskEvents;
  readonly containers: Containers;
  /** DATA/logs: where container log files go (see containerLogPath). */
  readonly logsDir: string;

  /** `stateDir`: containerd's state directory when it is our own (lets task pids be read from
   *  the shims' files instead of asked for). */
  constructor(containerd: Containerd, ctr: Ctr, logger: Logger, logsDir: string, stateDir?: string) {
    this.containerd = containerd;
    this.ctr = ctr;
    this.events = new TaskEvents(ctr, logger);
    this.containers = new Containers(ctr, this.events, stateDir);
    this.logsDir = logsDir;
  }

  importImage(file: string, options?: ImportOptions): Promise<string[]> {
    return importImage(this.ctr, file, options);
  }

  listImages(): Promise<ImageInfo[]> {
    return listImages(this.ctr);
  }

  async removeImage(ref: string): Promise<boolean> {
    this.#present.clear();
    try {
      return await removeImage(this.ctr, ref);
    } finally {
      this.#present.clear();
    }
  }

  /**
   * Whether the image is here. A yes is remembered for IMAGE_PRESENT_TTL_MS (every pod start asks,
   * and a `ctr images ls` is a process start); removeImage forgets it at once, and a container
   * start that then fails names the missing image anyway.
   */
  async hasImage(ref: string): Promise<boolean> {
    const seenAt = this.#present.get(ref);
    if (seenAt !== undefined && Date.now() - seenAt < IMAGE_PRESENT_TTL_MS) return true;
    const present = await hasImage(this.ctr, ref);
    if (present) this.#present.set(ref, Date.now());
    else this.#present.delete(ref);
    return present;
  }

  /** Images found present, by reference, with when. */
  readonly #present = new Map<string, number>();
  /** Image configs by image digest (content never changes under a digest). */
  readonly #configs = new Map<string, ImageRunConfig>();

  /** The image's ENTRYPOINT and CMD, from its config in the content store; undefined if absent. */
  async imageRunConfig(ref: string): Promise<ImageRunConfig | undefined> {
    const config = await imageRunConfig(this.ctr, ref, (digest) => this.#configs.get(digest));
    if (config === undefined || this.#configs.has(config.digest)) return config;
    if (this.#configs.size >= IMAGE_CONFIGS_MAX) this.#configs.delete(this.#configs.keys().next().value!);
    this.#configs.set(config.digest, config);
    return config;
  }

  ensureBusyboxImage(options?: EnsureBusyboxOptions): Promise<boolean> {
    return ensureBusyboxImage(this.ctr, options);
  }

  /** Stops the event stream, then containerd (containers keep running unless asked). */
  async stop(options: StopOptions = {}): Promise<void> {
    if (options.keepContainers === false) {
      await this.containerd.stop({ ...options, namespaces: options.namespaces ?? [this.ctr.namespace] });
      this.events.stop();
      return;
    }
    this.events.stop();
    await this.containerd.stop(options);
  }
}

/** Starts (or connects to) containerd, then the event stream: what `bramble server` calls. */
export async function startRuntime(options: StartRuntimeOptions): Promise<Runtime> {
  if (ensureCgroupMounts((file, args) => execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 }))) {
    options.logger.info('mounted the cgroup hierarchies in this private mount namespace (the daemon runs under ip netns exec)', { path: CGROUP_ROOT });
  }
  const containerdDir = join(options.dataDir, 'containerd');
  const containerd: Containerd =
    options.containerdSocket === undefined
      ? new ContainerdSupervisor({ dir: containerdDir, logger: options.logger })
      : new ExternalContainerd(options.containerdSocket);
  await containerd.start();
  const fifoDir = join(containerdDir, 'fifo');
  mkdirSync(fifoDir, { recursive: true, mode: 0o700 });
  const ctr = new Ctr({
    address: containerd.address,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    fifoDir,
    ...(options.snapshotter === undefined ? {} : { snapshotter: options.snapshotter }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const logsDir = join(options.dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true, mode: 0o700 });
  const runtime = new Runtime(containerd, ctr, options.logger, logsDir, options.containerdSocket === undefined ? join(containerdDir, 'state') : undefined);
  runtime.events.start();
  return runtime;
}
