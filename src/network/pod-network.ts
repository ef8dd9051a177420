// bramble's pod network: attaches a pod's netns to the bramble0 bridge through the CNI plugin
// chain (bridge + host-local, portmap, loopback), caching each attachment on disk so it can be
// checked and removed after a daemon restart. The CNI container ID is the pod UID (one netns
// per pod; the pod's containers all join it).
import { join } from 'node:path';
import { createLogger, type Logger } from '../log/index.ts';
import { ResultCache, type CacheEntry } from './cache.ts';
import { KeyedMutex, Semaphore } from './concurrency.ts';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_POD_CIDR, parseIpv4Cidr, podNetworkConfigList } from './config.ts';
import { addNetworkList, checkNetworkList, delNetworkList, type InvokeOptions, type RuntimeConf } from './conflist.ts';
import { CniError, NetnsError, NotAttachedError } from './errors.ts';
import { removeStaleIpMasq } from './ipmasq.ts';
import { isNetnsMounted, netnsIdentity } from './netns.ts';
import { DEFAULT_CNI_PATH, DEFAULT_PLUGIN_TIMEOUT_MS } from './plugin.ts';
import { commandRunner, ensurePodMasquerade } from './routes.ts';
import type { CniResult, NetworkConfigList, PortMapping } from './types.ts';

export const POD_IFNAME = 'eth0';

export interface PodNetworkOptions {
  /** bramble's data directory: host-local's IPs go to DATA/cni/ipam, ADD results to DATA/cni/results. */
  dataDir: string;
  /** This node's pod CIDR. Default 10.42.0.0/24; the gateway is its first address. */
  podCidr?: string;
  bridge?: string;
  networkName?: string;
  cniPath?: string;
  /** Run the plugins inside this named netns (tests, several gateways on one machine). */
  hostNetns?: string;
  /** Per plugin call. Default 10 s. */
  timeoutMs?: number;
  /** Plugin chains running at once, over all pods. Default 2 (2-core boards). */
  maxConcurrent?: number;
  mtu?: number;
  /** The bridge plugin's own per-pod masquerade rules instead of one chain for all pods (default false). */
  ipMasq?: boolean;
  /** The whole pod network, never masqueraded (default 10.42.0.0/16). */
  clusterCidr?: string;
  /** Installs the one masquerade chain (default ensurePodMasquerade; tests pass a fake). */
  masquerade?: (o: { podCidr: string; clusterCidr: string }) => Promise<void>;
  logger?: Logger;
}

export interface PodNetworkRequest {
  podUid: string;
  namespace: string;
  name: string;
  /** From createPodNetns(). */
  netnsPath: string;
  portMappings?: readonly PortMapping[];
}

export interface PodAttachment {
  podUid: string;
  namespace: string;
  name: string;
  netnsPath: string;
  /** The pod's IPv4 address, without prefix. */
  ip: string;
  prefixLength: number;
  gateway: string;
  /** Interface name inside the pod. */
  interface: string;
  mac?: string;
  /** The host end of the pod's veth (in the gateway's netns). */
  hostInterface?: string;
  portMappings: PortMapping[];
  createdAt: string;
}

/** One cached attachment, complete or left half-done by a crash during ADD. */
export interface PodNetworkEntry {
  podUid: string;
  namespace: string;
  name: string;
  netnsPath: string;
  complete: boolean;
  attachment?: PodAttachment;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class PodNetwork {
  readonly config: NetworkConfigList;
  private readonly cache: ResultCache;
  private readonly invoke: InvokeOptions;
  private readonly log: Logger;
  private readonly perPod = new KeyedMutex();
  private readonly slots: Semaphore;
  /** Pod UID -> identity of the netns its cached attachment was found intact in (this process). */
  private readonly verified = new Map<string, string>();
  /** Made once before the first ADD (when the bridge does not masquerade per pod). */
  private masquerading: Promise<void> | undefined;
  private readonly ensureMasquerade: (() => Promise<void>) | undefined;

  constructor(options: PodNetworkOptions) {
    const cniDir = join(options.dataDir, 'cni');
    this.config = podNetworkConfigList({
      ipamDataDir: join(cniDir, 'ipam'),
      ...(options.podCidr === undefined ? {} : { podCidr: options.podCidr }),
      ...(options.bridge === undefined ? {} : { bridge: options.bridge }),
      ...(options.networkName === undefined ? {} : { networkName: options.networkName }),
      ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
      ...(options.ipMasq === undefined ? {} : { ipMasq: options.ipMasq }),
    });
    if (options.ipMasq !== true) {
      const podCidr = parseIpv4Cidr(options.podCidr ?? DEFAULT_POD_CIDR).cidr;
      const clusterCidr = options.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
      const masquerade = options.masquerade ?? ((o) => ensurePodMasquerade(o, commandRunner(options.hostNetns)));
      this.ensureMasquerade = () => masquerade({ podCidr, clusterCidr });
    }
    this.cache = new ResultCache(join(cniDir, 'results'));
    this.invoke = {
      cniPath: options.cniPath ?? DEFAULT_CNI_PATH,
      timeoutMs: options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS,
      ...(options.hostNetns === undefined ? {} : { hostNetns: options.hostNetns }),
    };
    this.slots = new Semaphore(options.maxConcurrent ?? 2);
    this.log = (options.logger ?? createLogger()).child({ component: 'network' });
  }

  private get networkName(): string {
    return this.config.name;
  }

  /** Attaches the pod (CNI ADD). Idempotent: an intact attachment to the same netns is reused. */
  setUp(request: PodNetworkRequest): Promise<PodAttachment> {
    checkPodUid(request.podUid);
    return this.exclusive(request.podUid, async () => {
      const started = Date.now();
      const capabilityArgs = { portMappings: normalisePorts(request.portMappings ?? []) };
      const existing = await this.cache.read(this.networkName, request.podUid, POD_IFNAME);
      if (existing !== undefined) {
        const reusable =
          existing.result !== undefined &&
          existing.netns === request.netnsPath &&
          JSON.stringify(existing.capabilityArgs) === JSON.stringify(capabilityArgs) &&
          (await isNetnsMounted(existing.netns));
        // The same path is not proof of the same namespace: after a reboot (/run/netns is a
        // tmpfs) or a restart of the daemon in another mount namespace, a new, empty netns can
        // sit at the path the cache names, and reusing the cached result would leave the pod
        // with no interface at all. So the first time in this process (and whenever the netns
        // at the path changes), CNI CHECK that the attachment is really there.
        const intact = reusable && (await this.intact(existing));
        if (intact) return toAttachment(existing);
        // A new sandbox netns (after a reboot), changed ports, or a half-done ADD: start clean.
        // A netns found not to hold the attachment counts as gone for the DEL (its interface and
        // addresses are not there to remove; the masquerade rule must go by the cached result).
        this.verified.delete(request.podUid);
        await this.del(existing, reusable && !intact);
      }
      if (!(await isNetnsMounted(request.netnsPath))) {
        throw new NetnsError(`pod ${request.namespace}/${request.name}: network namespace ${request.netnsPath} does not exist (or is not mounted here): create it with createPodNetns() first`);
      }
      await this.masquerade();
      const entry: CacheEntry = {
        kind: 'brambleCniCache',
        version: 1,
        containerId: request.podUid,
        ifName: POD_IFNAME,
        networkName: this.networkName,
        netns: request.netnsPath,
        // portmap with no mappings does nothing but cost a process start (at ADD and at DEL).
        config: capabilityArgs.portMappings.length > 0 ? this.config : { ...this.config, plugins: this.config.plugins.filter((p) => p.type !== 'portmap') },
        args: cniArgs(request),
        capabilityArgs,
        pod: { uid: request.podUid, namespace: request.namespace, name: request.name },
        createdAt: new Date().toISOString(),
      };
      await this.cache.write(entry);
      try {
        entry.result = await addNetworkList(entry.config, runtimeConf(entry, entry.netns), this.invoke);
      } catch (error) {
        // Undo whatever the chain got done (an IP, a veth, rules), so a retry starts clean; if
        // even that fails, the entry stays and list() offers it for cleanup later.
        try {
          await this.del(entry);
        } catch (cleanupError) {
          this.log.warn('cleanup after failed CNI ADD failed; the attachment stays listed for a later teardown', { pod: request.podUid, error: cleanupError });
        }
        throw error;
      }
      await this.cache.write(entry);
      this.verified.set(request.podUid, await netnsIdentity(entry.netns));
      const attachment = toAttachment(entry);
      this.log.info('pod network set up', { pod: `${request.namespace}/${request.name}`, uid: request.podUid, ip: attachment.ip, ms: Date.now() - started });
      return attachment;
    });
  }

  /**
   * Detaches the pod (CNI DEL). Idempotent, and succeeds when the pod's netns is already gone.
   * With no cached entry it still runs DEL with the current config, which frees an IP that an
   * ADD interrupted before its entry was written may hold.
   */
  tearDown(podUid: string): Promise<void> {
    checkPodUid(podUid);
    return this.exclusive(podUid, async () => {
      this.verified.delete(podUid);
      const entry = await this.cache.read(this.networkName, podUid, POD_IFNAME);
      if (entry !== undefined) {
        await this.del(entry);
        this.log.info('pod network torn down', { uid: podUid, pod: `${entry.pod.namespace}/${entry.pod.name}` });
        return;
      }
      const rt: RuntimeConf = { containerId: podUid, netns: '', ifName: POD_IFNAME, args: { IgnoreUnknown: '1', K8S_POD_UID: podUid } };
      await delNetworkList(this.config, rt, undefined, this.invoke);
    });
  }

  /** CNI CHECK of a cached attachment; throws (CniError, NetnsError, NotAttachedError) when broken. */
  check(podUid: string): Promise<void> {
    checkPodUid(podUid);
    return this.exclusive(podUid, async () => {
      const entry = await this.cache.read(this.networkName, podUid, POD_IFNAME);
      if (entry?.result === undefined) throw new NotAttachedError(podUid);
      if (!(await isNetnsMounted(entry.netns))) {
        throw new NetnsError(`pod ${entry.pod.namespace}/${entry.pod.name}: its network namespace ${entry.netns} is gone: tear the network down and set the pod up again`);
      }
      await checkNetworkList(entry.config, runtimeConf(entry, entry.netns), entry.result, this.invoke);
    });
  }

  /** Cached attachments of this network, so the agent can tear down those of vanished pods. */
  async list(): Promise<PodNetworkEntry[]> {
    const entries = await this.cache.list();
    return entries
      .filter((e) => e.networkName === this.networkName && e.ifName === POD_IFNAME)
      .map((e) => ({
        podUid: e.pod.uid,
        namespace: e.pod.namespace,
        name: e.pod.name,
        netnsPath: e.netns,
        complete: e.result !== undefined,
        ...(e.result === undefined ? {} : { attachment: toAttachment(e) }),
      }));
  }

  /** Whether a cached, complete attachment is really in the netns at its path (CNI CHECK, once per netns). */
  private async intact(entry: CacheEntry): Promise<boolean> {
    if (entry.result === undefined) return false;
    const identity = await netnsIdentity(entry.netns);
    if (this.verified.get(entry.containerId) === identity) return true;
    try {
      await checkNetworkList(entry.config, runtimeConf(entry, entry.netns), entry.result, this.invoke);
    } catch (error) {
      this.log.info('the cached pod network attachment is not in the pod\'s netns (reboot, or a new netns at the same path); attaching again', {
        pod: `${entry.pod.namespace}/${entry.pod.name}`,
        uid: entry.pod.uid,
        error: (error as Error).message,
      });
      return false;
    }
    this.verified.set(entry.containerId, identity);
    return true;
  }

  /** The masquerade chain, once per process; a failure is logged and tried again at the next ADD. */
  private async masquerade(): Promise<void> {
    if (this.ensureMasquerade === undefined) return;
    this.masquerading ??= this.ensureMasquerade().catch((error: unknown) => {
      this.masquerading = undefined;
      this.log.warn('cannot set up masquerading for pod traffic leaving the cluster network; pods reach other pods, not beyond', { error: error instanceof Error ? error.message : String(error) });
    });
    await this.masquerading;
  }

  private exclusive<T>(podUid: string, task: () => Promise<T>): Promise<T> {
    return this.perPod.run(podUid, () => this.slots.run(task));
  }

  /** DEL with the config the pod was attached with; removes the cache entry on success. */
  private async del(entry: CacheEntry, netnsStale = false): Promise<void> {
    // An empty CNI_NETNS tells the plugins the netns is gone; a stale placeholder file at the
    // path would instead make them fail with "not a network namespace".
    const netnsAlive = !netnsStale && entry.netns !== '' && (await isNetnsMounted(entry.netns));
    await delNetworkList(entry.config, runtimeConf(entry, netnsAlive ? entry.netns : ''), entry.result, this.invoke);
    if (!netnsAlive && entry.result !== undefined && usesIpMasq(entry.config)) {
      await removeStaleIpMasq(entry.networkName, entry.containerId, entry.result, this.invoke);
    }
    await this.cache.remove(entry.networkName, entry.containerId, entry.ifName);
  }
}

function checkPodUid(podUid: string): void {
  if (!CONTAINER_ID.test(podUid)) {
    throw new CniError(`pod UID ${JSON.stringify(podUid)} cannot be a CNI container ID (letters, digits, '_', '.', '-' only)`, { plugin: '', command: 'ADD' });
  }
}

function cniArgs(request: PodNetworkRequest): Record<string, string> {
  // What kubelet passes; IgnoreUnknown keeps plugins that do not know these keys happy.
  return {
    IgnoreUnknown: '1',
    K8S_POD_NAMESPACE: request.namespace,
    K8S_POD_NAME: request.name,
    K8S_POD_INFRA_CONTAINER_ID: request.podUid,
    K8S_POD_UID: request.podUid,
  };
}

function runtimeConf(entry: CacheEntry, netns: string): RuntimeConf {
  return { containerId: entry.containerId, netns, ifName: entry.ifName, args: entry.args, capabilityArgs: entry.capabilityArgs };
}

function usesIpMasq(config: NetworkConfigList): boolean {
  return config.plugins.some((p) => p.type === 'bridge' && p['ipMasq'] === true);
}

function normalisePorts(ports: readonly PortMapping[]): PortMapping[] {
  return ports.map((p) => {
    for (const [key, value] of [['hostPort', p.hostPort], ['containerPort', p.containerPort]] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 65535) {
        throw new CniError(`port mapping ${JSON.stringify(p)}: ${key} must be an integer from 1 to 65535`, { plugin: 'portmap', command: 'ADD' });
      }
    }
    // portmap would hand a bad protocol to iptables only after bridge took an IP; say it here.
    const protocol = String(p.protocol ?? 'tcp').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
      throw new CniError(`port mapping ${JSON.stringify(p)}: protocol must be TCP, UDP or SCTP`, { plugin: 'portmap', command: 'ADD' });
    }
    return { hostPort: p.hostPort, containerPort: p.containerPort, protocol: protocol as PortMapping['protocol'], ...(p.hostIP === undefined || p.hostIP === '' ? {} : { hostIP: p.hostIP }) };
  });
}

/** The pod-side address from a result: the IP on the interface inside the sandbox. */
export function podAddress(result: CniResult, ifName = POD_IFNAME): { ip: string; prefixLength: number; gateway: string; mac?: string; hostInterface?: string } {
  const interfaces = result.interfaces ?? [];
  const ips = (result.ips ?? []).filter((ip) => !ip.address.includes(':'));
  const inSandbox = ips.find((ip) => {
    const iface = ip.interface === undefined ? undefined : interfaces[ip.interface];
    return iface !== undefined && iface.sandbox !== undefined && iface.sandbox !== '' && iface.name === ifName;
  });
  const chosen = inSandbox ?? ips[0];
  if (chosen === undefined) {
    throw new CniError(`CNI ADD result has no IPv4 address for ${ifName}: ${JSON.stringify(result).slice(0, 200)}`, { plugin: 'bridge', command: 'ADD' });
  }
  const [ip = '', prefix = '32'] = chosen.address.split('/');
  const podIface = chosen.interface === undefined ? undefined : interfaces[chosen.interface];
  // The bridge plugin lists the bridge, then the host veth, then the pod's interface.
  const hostVeth = interfaces.find((i) => (i.sandbox === undefined || i.sandbox === '') && i.name !== ifName && i.name !== 'lo' && interfaces.indexOf(i) > 0);
  return {
    ip,
    prefixLength: Number(prefix),
    gateway: chosen.gateway ?? '',
    ...(podIface?.mac === undefined ? {} : { mac: podIface.mac }),
    ...(hostVeth === undefined ? {} : { hostInterface: hostVeth.name }),
  };
}

function toAttachment(entry: CacheEntry): PodAttachment {
  const address = podAddress(entry.result as CniResult, entry.ifName);
  const ports = entry.capabilityArgs['portMappings'];
  return {
    podUid: entry.pod.uid,
    namespace: entry.pod.namespace,
    name: entry.pod.name,
    netnsPath: entry.netns,
    interface: entry.ifName,
    createdAt: entry.createdAt,
    portMappings: Array.isArray(ports) ? (ports as PortMapping[]) : [],
    ...address,
  };
}

