// This gateway as a node: containerd (our own, or the one at --containerd-socket), the busybox
// image that manifests saying `image: busybox` need offline, the pod CIDR, the pod network, log
// rotation, the node agent, and the Node object. Started after the API listens and without
// waiting for a quorum, so a gateway that reboots alone brings its pods back from its own
// replica; only the very first start waits for the cluster, to be assigned a pod CIDR.
import type { Deleter, ObjectApi, WatchCache } from '../api/resources/index.ts';
import { creationRevisions } from '../api/resources/services/index.ts';
import type { Profile } from '../host/profile.ts';
import type { Logger } from '../log/index.ts';
import { PodNetwork } from '../network/index.ts';
import type { Runtime } from '../runtime/index.ts';
import { LogRotator, startRuntime } from '../runtime/index.ts';
import type { Agent } from './index.ts';
import { resourceApiClient, startAgent } from './index.ts';
import { VERSION } from '../version.ts';
import { networkPort } from './network-adapter.ts';
import { followHostAddress } from './address-follower.ts';
import { hostFacts, hostIPv4, obtainPodCidr, registerGatewayNode } from './node.ts';
import { runtimePorts } from './runtime-adapter.ts';
import type { SharedInformers } from '../controllers/shared-informers.ts';
import type { DnsServer } from '../dns/index.ts';
import { CLUSTER_DNS_ADDRESS, defaultAllowFrom, InformerDnsData, startDnsServer } from '../dns/index.ts';
import { desiredRoutes, PodRoutes } from '../network/routes.ts';
import { informerProxyData, IpAddressManager, startProxy } from '../proxy/index.ts';
import { timestamp } from '../model/index.ts';

export interface NodeServicesOptions {
  nodeName: string;
  dataDir: string;
  profile: Profile;
  containerdSocket: string | undefined;
  /** --pod-cidr; undefined: assigned by the cluster (claimed at the first start, then saved). */
  podCidr: string | undefined;
  /** --labels: kept up to date on the Node at every start. */
  labels?: Record<string, string>;
  /** Aborts the wait for a pod CIDR (shutdown before the first start got one). */
  signal?: AbortSignal;
  api: ObjectApi;
  deleter: Deleter;
  watch: WatchCache;
  /** The member's shared informers: nodes (routes), services, endpoints and pods (DNS, balancer). */
  informers: SharedInformers['informers'];
  dns: { addr: { host: string; port: number } | undefined; clusterDomain: string; upstreams: string[] | undefined };
  logger: Logger;
}

export interface NodeServices {
  runtime: Runtime;
  agent: Agent;
  /** This gateway's pod CIDR (as the pod network uses it). */
  podCidr: string;
  /** Whether the Node object has been written since this start (the gateway can take pods). */
  readonly registered: boolean;
  /** Stops the agent and the runtime; containers keep running (the next start adopts them). */
  stop(): Promise<void>;
}

export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const log = o.logger;
  const started = Date.now();
  // The pod CIDR is needed only by the pod network: claimed while containerd starts.
  const cidrAbort = new AbortController();
  o.signal?.addEventListener('abort', () => cidrAbort.abort(), { once: true });
  const podCidrObtained = obtainPodCidr({ kv: o.api.store.kv, api: o.api, nodeName: o.nodeName, dataDir: o.dataDir, override: o.podCidr, logger: log.child({ component: 'node' }), signal: cidrAbort.signal });
  podCidrObtained.catch(() => undefined); // awaited below; a failed runtime start must not leave it unhandled
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      dataDir: o.dataDir,
      logger: log.child({ component: 'runtime' }),
      snapshotter: o.profile.containerd.snapshotter,
      ...(o.containerdSocket !== undefined ? { containerdSocket: o.containerdSocket } : {}),
    });
  } catch (error) {
    cidrAbort.abort();
    throw error;
  }
  let podCidr: string;
  try {
    const obtained = await podCidrObtained;
    podCidr = obtained.cidr;
    log.info('pod CIDR', { podCidr, how: obtained.how });
  } catch (error) {
    await runtime.stop({ keepContainers: true });
    throw error;
  }
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
  const network = new PodNetwork({ dataDir: o.dataDir, podCidr, logger: log.child({ component: 'network' }) });
  const facts = hostFacts();
  const agent = await startAgent({
    nodeName: o.nodeName,
    dataDir: o.dataDir,
    ...runtimePorts(runtime),
    network: networkPort(network, o.nodeName),
    api: resourceApiClient(o.api, o.deleter),
    watch: o.watch,
    podCidr,
    reserved: o.profile.reserved,
    facts,
    // Pods' resolv.conf and hosts name the domain the DNS server answers for.
    clusterDns: CLUSTER_DNS_ADDRESS.host,
    clusterDomain: o.dns.clusterDomain,
    logger: log.child({ component: 'agent' }),
    // Registered here instead, with the labels, the board and the pod CIDR.
    registerNode: false,
    // Service variables name the Services created before the pod, by store revision.
    creationRevisions: creationRevisions(o.api.store.kv),
  });
  const registration = keepRegistering(() =>
    registerGatewayNode(
      o.api,
      { nodeName: o.nodeName, podCidr, version: VERSION, containerRuntimeVersion: 'containerd://unknown', reserved: o.profile.reserved, facts, labels: o.labels ?? {}, board: o.profile.name },
      timestamp(Date.now()),
    ),
    log.child({ component: 'node' }),
  );
  const services = await startServiceNetworking(o, podCidr, facts.hostIP, log);
  const addressFollower = followHostAddress({
    facts,
    read: hostIPv4,
    everyMs: ADDRESS_CHECK_MS,
    changed: (_before, after) => {
      registration.again();
      services.dnsAllow(after);
      // The pods' status.hostIP (and hostNetwork pods' IP) follow at their reconcile.
      void agent.resync().catch((error: unknown) => log.warn('pod resync after an address change failed', { error: String(error) }));
    },
    logger: log.child({ component: 'node' }),
  });
  log.info('node agent started', { node: o.nodeName, podCidr, millis: Date.now() - started });
  return {
    runtime,
    agent,
    podCidr,
    get registered() {
      return registration.done;
    },
    async stop() {
      addressFollower.stop();
      await services.stop();
      registration.stop();
      await agent.stop();
      rotator.stop();
      await runtime.stop({ keepContainers: true });
    },
  };
}

/** How often the gateway's own address is read again (a DHCP change is followed within it). */
const ADDRESS_CHECK_MS = 10_000;
/** How often the routes to other gateways' pods are compared with the kernel's (one `ip route
 *  show`): a link that went down and up again lost them. */
const ROUTE_RECHECK_MS = 10_000;

/** Registers the Node in the background until it works once (no quorum yet: retried with
 *  back-off); `again()` writes it once more after something in it changed. */
function keepRegistering(register: () => Promise<unknown>, log: Logger): { stop(): void; again(): void; readonly done: boolean } {
  let delayMs = 1000;
  let done = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running = false;
  let rerun = false;
  const attempt = (): void => {
    if (stopped) return;
    running = true;
    register().then(
      () => {
        running = false;
        done = true;
        delayMs = 1000;
        log.info('node registered');
        if (rerun) {
          rerun = false;
          attempt();
        }
      },
      (error: unknown) => {
        running = false;
        rerun = false;
        if (stopped) return;
        log.info('node not registered yet (no quorum?); retrying', { retryInMs: delayMs, error: error instanceof Error ? error.message : String(error) });
        timer = setTimeout(() => {
          timer = null;
          attempt();
        }, delayMs);
        timer.unref();
        delayMs = Math.min(delayMs * 2, 30_000);
      },
    );
  };
  attempt();
  return {
    get done() {
      return done;
    },
    /** Registers once more with what changed (a retry already waiting will carry it). */
    again() {
      if (stopped || timer !== null) return;
      if (running) rerun = true;
      else attempt();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * What makes Services work on this gateway: routes to every other gateway's pod CIDR (host-gw),
 * the cluster DNS at 10.43.0.10:53 (and --dns-addr), and the L4 balancer on the ClusterIPs and
 * NodePorts. Each part failing is logged and the others go on: pods still run without them.
 */
async function startServiceNetworking(o: NodeServicesOptions, podCidr: string, hostIP: string, log: Logger): Promise<{ stop(): Promise<void>; dnsAllow(address: string): void }> {
  const { nodes, services, endpoints, pods } = o.informers;
  const routesLog = log.child({ component: 'network' });
  const routes = new PodRoutes({ podCidr, logger: routesLog });
  let routeTimer: NodeJS.Timeout | null = null;
  const syncRoutes = (): void => {
    if (routeTimer) return;
    // Node status changes come in bursts (heartbeat transitions, registrations): one sync each 200 ms.
    routeTimer = setTimeout(() => {
      routeTimer = null;
      routes.sync(desiredRoutes(nodes.list(), o.nodeName)).catch((error: unknown) => routesLog.warn('cannot update the routes to other gateways\' pods; retrying within 10 s', { error: String(error) }));
    }, 200);
    routeTimer.unref();
  };
  const stopRoutes = nodes.addListener(syncRoutes);
  void nodes.whenSynced().then(syncRoutes);
  // Also on a timer: a link taken down and up again loses the routes without any Node change.
  const recheckRoutes = setInterval(() => {
    if (nodes.synced) syncRoutes();
  }, ROUTE_RECHECK_MS);
  recheckRoutes.unref();

  const addresses = new IpAddressManager();
  const dnsLog = log.child({ component: 'dns' });
  const dnsData = new InformerDnsData({ services, endpoints, pods });
  let dns: DnsServer | undefined;
  try {
    // The DNS address first: the balancer then leaves it alone (a Service may not take it away).
    await new IpAddressManager({ label: 'lo:bramble-dns' }).add(CLUSTER_DNS_ADDRESS.host);
    dns = await startDnsServer({
      data: dnsData,
      listen: [CLUSTER_DNS_ADDRESS, ...(o.dns.addr ? [o.dns.addr] : [])],
      domain: o.dns.clusterDomain,
      ...(o.dns.upstreams ? { upstreams: o.dns.upstreams } : {}),
      allowFrom: defaultAllowFrom({ podCidr, nodeAddresses: [hostIP] }),
      logger: dnsLog,
    });
    dnsLog.info('cluster DNS answering', { addresses: dns.addresses().map((a) => `${a.host}:${a.port}`), domain: o.dns.clusterDomain });
  } catch (error) {
    dnsLog.error('the cluster DNS server did not start; pods on this gateway cannot resolve Service names', { error: String(error) });
  }
  const proxyData = informerProxyData({ services, endpoints });
  // Not before the first lists: a first pass that saw no Services would take every ClusterIP an
  // earlier run left off the loopback, and traffic to them would leave the gateway meanwhile.
  let stopping = false;
  let proxy: { stop(): Promise<void> } | undefined;
  void proxyData.whenSynced().then(() => {
    if (!stopping) proxy = startProxy({ data: proxyData, nodeAddress: '0.0.0.0', nodeName: o.nodeName, addresses, logger: log.child({ component: 'proxy' }) });
  });
  return {
    /** The node's new address may ask the cluster DNS (host-side clients come from it). */
    dnsAllow(address: string) {
      dns?.allow(address);
    },
    async stop() {
      stopping = true;
      stopRoutes();
      clearInterval(recheckRoutes);
      if (routeTimer) clearTimeout(routeTimer);
      await proxy?.stop();
      proxyData.stop();
      await dns?.stop();
      dnsData.close();
    },
  };
}
