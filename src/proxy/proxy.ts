// The gateway's L4 balancer (kube-proxy's userspace mode): a listener on ClusterIP:port for each
// Service port, and on the node address for each NodePort, forwarding to the Service's ready
// endpoints on any gateway. It is level-triggered: any change to Services or Endpoints marks it
// dirty, and one pass compares the wanted listeners with the open ones, adds loopback addresses,
// opens, updates and closes listeners, and takes addresses away once nothing listens on them.
// It reads only what `data` holds (the local replica), so a gateway cut off from the leader
// keeps balancing over the endpoints it last knew.
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import type { AddressManager } from './addresses.ts';
import { inServiceRange } from './addresses.ts';
import { Balancer } from './balancer.ts';
import type { ListenerSpec, RouteSpec } from './service-table.ts';
import { planListeners } from './service-table.ts';
import { TcpForwarder } from './tcp-forwarder.ts';
import { UdpForwarder } from './udp-forwarder.ts';

/** What the balancer reads: the Services, their Endpoints, and a signal that either changed. */
export interface ProxyData {
  services(): readonly KObject[];
  endpoints(namespace: string, name: string): KObject | undefined;
  /** Calls `listener` after any change; returns a function that stops the calls. */
  onChange(listener: () => void): () => void;
}

export interface ProxyOptions {
  data: ProxyData;
  /** Where NodePorts listen: `0.0.0.0` (every address) or one address of this gateway. */
  nodeAddress: string;
  /** This gateway's Node name: a Service's traffic policy `Local` keeps to the endpoints on it. */
  nodeName?: string;
  addresses: AddressManager;
  logger: Logger;
  /** Where a ClusterIP's listeners bind (tests map ClusterIPs onto 127.0.0.x); default: itself. */
  clusterListenAddress?: (clusterIP: string) => string;
  /** Open connections (TCP) or sessions (UDP) per listener. Default 4096. */
  connectionsMax?: number;
  /** How long a refusing backend is passed over. Default 5 s. */
  endpointDownMs?: number;
  /** Per backend, before the next is tried. Default 2 s: past the kernel's first SYN
   *  retransmission (1 s), so a backend whose accept queue overflowed once is not marked down. */
  connectTimeoutMs?: number;
  /** A UDP client session without traffic for this long is closed. Default 30 s. */
  udpIdleMs?: number;
  /** Changes arriving within this window are handled in one pass. Default 20 ms. */
  settleMs?: number;
  /** A listener that could not bind is tried again after this long. Default 1 s. */
  retryMs?: number;
  now?: () => number;
}

export interface ListenerState {
  key: string;
  protocol: 'TCP' | 'UDP';
  host: string;
  port: number;
  route: string;
  backends: string[];
  /** TCP: open connections; UDP: sessions. */
  active: number;
}

export interface Proxy {
  /** Resolves once the changes seen so far have been applied (for tests and start-up logs). */
  settled(): Promise<void>;
  listeners(): ListenerState[];
  /** Closes every listener, cuts open connections and takes bramble's addresses off the loopback. */
  stop(): Promise<void>;
}

type Forwarder = TcpForwarder | UdpForwarder;

interface OpenListener {
  spec: ListenerSpec;
  forwarder: Forwarder;
}

const ATTEMPTS_MAX = 16;

export function startProxy(options: ProxyOptions): Proxy {
  const proxy = new ServiceProxy(options);
  proxy.start();
  return proxy;
}

class ServiceProxy implements Proxy {
  readonly #o: ProxyOptions;
  readonly #log: Logger;
  readonly #open = new Map<string, OpenListener>();
  /** Closed listeners whose connections are still finishing: their address stays. */
  readonly #draining = new Map<Forwarder, string | null>();
  readonly #balancers = new Map<string, Balancer>();
  /** Addresses on the loopback that bramble added. */
  readonly #owned = new Set<string>();
  /** The conflicts last reported (each is said once, not at every pass). */
  #conflicts = new Set<string>();
  /** Listener keys whose bind failed, with the error, so each failure is logged once. */
  readonly #failed = new Map<string, string>();
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pass: Promise<void> | null = null;
  #dirty = false;
  #stopped = false;
  #knownOwned = false;

  constructor(options: ProxyOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  start(): void {
    this.#unsubscribe = this.#o.data.onChange(() => this.#schedule(this.#o.settleMs ?? 20));
    this.#schedule(0);
  }

  async settled(): Promise<void> {
    while (!this.#stopped && (this.#timer !== null || this.#pass !== null || this.#dirty)) {
      if (this.#pass) await this.#pass;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  listeners(): ListenerState[] {
    return [...this.#open.values()].map(({ spec, forwarder }) => ({
      key: spec.key,
      protocol: spec.protocol,
      host: spec.host,
      port: spec.port,
      route: spec.route.key,
      backends: this.#balancers.get(spec.route.key)?.backends.map((b) => b.key) ?? [],
      active: forwarder instanceof TcpForwarder ? forwarder.connections : forwarder.sessions,
    }));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pass;
    const closing: Promise<void>[] = [];
    for (const forwarder of [...this.#draining.keys(), ...[...this.#open.values()].map((l) => l.forwarder)]) {
      closing.push(forwarder.close());
      if (forwarder instanceof TcpForwarder) forwarder.destroyConnections();
    }
    this.#open.clear();
    await Promise.all(closing);
    this.#draining.clear();
    for (const ip of [...this.#owned]) await this.#removeAddress(ip);
    this.#log.info('service proxy stopped');
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#run();
    }, delayMs);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#pass || this.#stopped) return; // the running pass re-runs itself when dirty
    this.#dirty = false;
    this.#pass = this.#reconcile()
      .catch((error: unknown) => {
        this.#log.error('service proxy pass failed; trying again', { error: error instanceof Error ? error.message : String(error) });
        this.#schedule(this.#o.retryMs ?? 1000);
      })
      .finally(() => {
        this.#pass = null;
        if (this.#dirty && !this.#timer) this.#run();
      });
  }

  async #reconcile(): Promise<void> {
    if (!this.#knownOwned) {
      // Addresses an earlier run left: ours to reuse or remove.
      this.#knownOwned = true;
      try {
        for (const ip of await this.#o.addresses.list()) this.#owned.add(ip);
      } catch (error) {
        this.#log.warn('cannot list the loopback addresses an earlier run added; they stay', { error: (error as Error).message });
      }
    }
    const plan = planListeners(this.#o.data.services(), (ns, name) => this.#o.data.endpoints(ns, name), {
      nodeAddress: this.#o.nodeAddress,
      clusterListenAddress: this.#o.clusterListenAddress ?? ((ip) => ip),
      ...(this.#o.nodeName !== undefined ? { nodeName: this.#o.nodeName } : {}),
    });
    // A pass runs at each readiness change: say a conflict when it appears.
    for (const conflict of plan.conflicts) if (!this.#conflicts.has(conflict)) this.#log.warn('service port not served', { reason: conflict });
    this.#conflicts = new Set(plan.conflicts);
    this.#updateBalancers(plan.routes);

    const wanted = new Map(plan.listeners.map((l) => [l.key, l]));
    for (const [key, open] of [...this.#open]) {
      const spec = wanted.get(key);
      if (spec) {
        // Same address, port and protocol: keep the socket even when the route changed (a
        // traffic policy, the Service that holds a NodePort); it picks from spec.route each time.
        open.spec = spec;
        continue;
      }
      this.#close(open);
    }
    for (const ip of plan.clusterIPs) if (!this.#stopped) await this.#addAddress(ip);
    let retry = false;
    for (const spec of plan.listeners) {
      if (this.#stopped) return;
      if (this.#open.has(spec.key)) continue;
      if (!(await this.#listen(spec))) retry = true;
    }
    for (const key of [...this.#failed.keys()]) if (!wanted.has(key)) this.#failed.delete(key);
    await this.#releaseAddresses(plan.clusterIPs);
    if (retry) this.#schedule(this.#o.retryMs ?? 1000);
  }

  #updateBalancers(routes: RouteSpec[]): void {
    const keys = new Set<string>();
    for (const route of routes) {
      keys.add(route.key);
      let balancer = this.#balancers.get(route.key);
      if (!balancer) {
        balancer = new Balancer({ downMs: this.#o.endpointDownMs ?? 5000, now: this.#o.now ?? Date.now });
        this.#balancers.set(route.key, balancer);
      }
      balancer.update(route.backends, route.affinityTimeoutMs);
    }
    // A closed listener's draining connections keep their sockets, not their balancer.
    for (const key of [...this.#balancers.keys()]) if (!keys.has(key)) this.#balancers.delete(key);
  }

  async #listen(spec: ListenerSpec): Promise<boolean> {
    // The route of the listener open on this key now (it may have changed since), else this one's.
    const balancer = (): Balancer => this.#balancers.get((this.#open.get(spec.key)?.spec ?? spec).route.key) ?? new Balancer({ downMs: 0, now: Date.now });
    const logger = this.#log;
    const connectionsMax = this.#o.connectionsMax ?? 4096;
    const forwarder: Forwarder =
      spec.protocol === 'TCP'
        ? new TcpForwarder({ host: spec.host, port: spec.port, balancer, connectionsMax, connectTimeoutMs: this.#o.connectTimeoutMs ?? 2000, attemptsMax: ATTEMPTS_MAX, logger })
        : new UdpForwarder({ host: spec.host, port: spec.port, balancer, sessionsMax: connectionsMax, idleMs: this.#o.udpIdleMs ?? 30_000, logger });
    try {
      await forwarder.listen();
    } catch (error) {
      const message = (error as Error).message;
      if (this.#failed.get(spec.key) !== message) {
        this.#log.warn('cannot listen for a service port; trying again', { listener: spec.key, service: spec.route.service, error: message, hint: bindHint(error as NodeJS.ErrnoException) });
      }
      this.#failed.set(spec.key, message);
      await forwarder.close();
      return false;
    }
    if (this.#stopped) {
      await forwarder.close();
      return true;
    }
    this.#failed.delete(spec.key);
    this.#open.set(spec.key, { spec, forwarder });
    this.#log.info('listening for a service port', { listener: spec.key, service: spec.route.service, port: spec.route.portName || undefined, backends: spec.route.backends.length });
    return true;
  }

  #close(open: OpenListener): void {
    this.#open.delete(open.spec.key);
    const { forwarder } = open;
    this.#draining.set(forwarder, open.spec.clusterIP);
    this.#log.info('stopped listening for a service port; open connections may finish', { listener: open.spec.key, service: open.spec.route.service });
    void forwarder.close().then(() => {
      if (!this.#draining.delete(forwarder)) return;
      // The address may now be free to go.
      if (open.spec.clusterIP !== null) this.#schedule(0);
    });
  }

  async #addAddress(ip: string): Promise<void> {
    if (this.#owned.has(ip)) return;
    if (!inServiceRange(ip)) {
      this.#log.warn('ClusterIP outside the Service range: not adding it to the loopback', { clusterIP: ip });
      return;
    }
    try {
      if (await this.#o.addresses.add(ip)) this.#owned.add(ip);
    } catch (error) {
      this.#log.warn('cannot add a ClusterIP to the loopback', { clusterIP: ip, error: (error as Error).message });
    }
  }

  async #releaseAddresses(wanted: Set<string>): Promise<void> {
    const inUse = new Set<string>(wanted);
    for (const ip of this.#draining.values()) if (ip !== null) inUse.add(ip);
    for (const ip of [...this.#owned]) if (!inUse.has(ip) && !this.#stopped) await this.#removeAddress(ip);
  }

  async #removeAddress(ip: string): Promise<void> {
    try {
      await this.#o.addresses.remove(ip);
      this.#owned.delete(ip);
    } catch (error) {
      this.#log.warn('cannot remove a ClusterIP from the loopback', { clusterIP: ip, error: (error as Error).message });
    }
  }
}

function bindHint(error: NodeJS.ErrnoException): string | undefined {
  if (error.code === 'EADDRINUSE') return 'another process (or another Service) holds this port on this address';
  if (error.code === 'EADDRNOTAVAIL') return 'the address is not on this gateway: is the ClusterIP on the loopback?';
  if (error.code === 'EACCES') return 'binding ports below 1024 needs root or CAP_NET_BIND_SERVICE';
  return undefined;
}
