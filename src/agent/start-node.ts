// This gateway as a node: containerd (our own, or the one at --containerd-socket), the busybox
// image that manifests saying `image: busybox` need offline, the pod network, log rotation, and
// the node agent. Started after the API listens and without waiting for a quorum, so a gateway
// that reboots alone brings its pods back from its own replica.
import type { Deleter, ObjectApi, WatchCache } from '../api/resources/index.ts';
import type { Profile } from '../host/profile.ts';
import type { Logger } from '../log/index.ts';
import { PodNetwork } from '../network/index.ts';
import type { Runtime } from '../runtime/index.ts';
import { LogRotator, startRuntime } from '../runtime/index.ts';
import type { Agent } from './index.ts';
import { resourceApiClient, startAgent } from './index.ts';
import { networkPort } from './network-adapter.ts';
import { runtimePorts } from './runtime-adapter.ts';

export interface NodeServicesOptions {
  nodeName: string;
  dataDir: string;
  profile: Profile;
  containerdSocket: string | undefined;
  podCidr: string;
  api: ObjectApi;
  deleter: Deleter;
  watch: WatchCache;
  logger: Logger;
}

export interface NodeServices {
  runtime: Runtime;
  agent: Agent;
  /** Stops the agent and the runtime; containers keep running (the next start adopts them). */
  stop(): Promise<void>;
}

export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const log = o.logger;
  const started = Date.now();
  const runtime = await startRuntime({
    dataDir: o.dataDir,
    logger: log.child({ component: 'runtime' }),
    snapshotter: o.profile.containerd.snapshotter,
    ...(o.containerdSocket !== undefined ? { containerdSocket: o.containerdSocket } : {}),
  });
  try {
    if (await runtime.ensureBusyboxImage({ onProgress: (line) => log.info('building the busybox image', { progress: line }) })) {
      log.info('busybox image built from the host busybox-static', { image: 'docker.io/library/busybox:latest' });
    }
  } catch (error) {
    // Pods with other images can still run; the ones needing busybox report ImageNotPresent.
    log.error('cannot build the busybox image; pods using it will wait', { error: (error as Error).message });
  }
  const rotator = new LogRotator({
    logsDir: runtime.logsDir,
    limits: o.profile.log,
    onError: (error, file) => log.warn('cannot rotate a container log', { file, error: String(error) }),
  });
  rotator.start();
  const network = new PodNetwork({ dataDir: o.dataDir, podCidr: o.podCidr, logger: log.child({ component: 'network' }) });
  const agent = await startAgent({
    nodeName: o.nodeName,
    dataDir: o.dataDir,
    ...runtimePorts(runtime),
    network: networkPort(network, o.nodeName),
    api: resourceApiClient(o.api, o.deleter),
    watch: o.watch,
    podCidr: o.podCidr,
    reserved: o.profile.reserved,
    logger: log.child({ component: 'agent' }),
  });
  log.info('node agent started', { node: o.nodeName, podCidr: o.podCidr, millis: Date.now() - started });
  return {
    runtime,
    agent,
    async stop() {
      await agent.stop();
      rotator.stop();
      await runtime.stop({ keepContainers: true });
    },
  };
}
