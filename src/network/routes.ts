// The flat pod network across gateways (flannel's host-gw): every gateway's pods live in its
// Node's spec.podCIDR, and every gateway routes each other gateway's pod CIDR via that gateway's
// address, so a pod reaches any other pod by its IP with no tunnel and no NAT (the receiver sees
// the sender's pod IP). Only traffic from pods to outside the cluster network is masqueraded.
// Everything here is bramble's own and recognisable as such: routes carry protocol number
// ROUTE_PROTO (only those are ever replaced or deleted), the NAT rules live in chain
// BRAMBLE-POSTROUTING (set up by the pod network before its first pod), jumped to from POSTROUTING
// by one commented rule. Routes are reconciled from the Node objects when they change, at start
// and every few seconds, so a restart, a reboot or a link that went down and up restores them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from '../log/index.ts';

const execFileAsync = promisify(execFile);

/** The `proto` number of bramble's routes (a private value: 0-4 belong to the kernel, 186-192
 *  to routing daemons; 44 is unassigned in /etc/iproute2/rt_protos). */
export const ROUTE_PROTO = 44;
export const MASQ_CHAIN = 'BRAMBLE-POSTROUTING';
const MASQ_COMMENT = 'bramble: pod traffic leaving the cluster network';

export interface PeerRoute {
  /** Another gateway's pod CIDR. */
  cidr: string;
  /** That gateway's address, on a network this gateway shares with it. */
  via: string;
}

interface NodeLike {
  metadata: { name?: string };
  spec?: unknown;
  status?: unknown;
}

/** The routes this gateway needs: one per other Node with a pod CIDR and an InternalIP. */
export function desiredRoutes(nodes: readonly NodeLike[], selfName: string): PeerRoute[] {
  const out: PeerRoute[] = [];
  for (const node of nodes) {
    if (node.metadata.name === selfName) continue;
    const cidr = (node.spec as { podCIDR?: unknown } | undefined)?.podCIDR;
    const addresses = (node.status as { addresses?: { type?: string; address?: string }[] } | undefined)?.addresses ?? [];
    const via = addresses.find((a) => a.type === 'InternalIP')?.address;
    if (typeof cidr === 'string' && cidr !== '' && typeof via === 'string' && via !== '') out.push({ cidr, via });
  }
  return out.sort((a, b) => a.cidr.localeCompare(b.cidr));
}

export type Run = (file: string, args: string[]) => Promise<string>;

/** Runs a command (in the named netns `hostNetns` when given, as the CNI plugins are). */
export function commandRunner(hostNetns?: string): Run {
  return hostNetns === undefined ? realRun : (file, args) => realRun('ip', ['netns', 'exec', hostNetns, file, ...args]);
}

const realRun: Run = async (file, args) => (await execFileAsync(file, args, { timeout: 10_000, env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` } })).stdout;

export interface PodRoutesOptions {
  /** This gateway's pod CIDR (no route to it: it is on the bridge). */
  podCidr: string;
  logger: Logger;
  run?: Run;
}

/** Parses `ip -4 route show proto N` lines: "10.42.1.0/24 via 10.77.0.1 dev eth0 ...". */
export function parseRoutes(text: string): PeerRoute[] {
  const out: PeerRoute[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+via\s+(\S+)/.exec(line.trim());
    if (m) out.push({ cidr: m[1]!, via: m[2]! });
  }
  return out;
}

/**
 * Makes chain BRAMBLE-POSTROUTING masquerade the traffic from this gateway's pods that leaves the
 * cluster network (and its own pod CIDR, should that lie outside it), and jumps to it from
 * POSTROUTING once. One rule set for all pods: the bridge plugin's per-pod `ipMasq` would cost
 * several iptables calls at every pod start and would NAT pod-to-pod traffic to other gateways.
 * Idempotent (the chain is rebuilt).
 */
export async function ensurePodMasquerade(o: { podCidr: string; clusterCidr: string }, run: Run = realRun): Promise<void> {
  const ipt = (args: string[]) => run('iptables', ['-w', '-t', 'nat', ...args]);
  await ipt(['-N', MASQ_CHAIN]).catch(() => undefined); // exists already
  await ipt(['-F', MASQ_CHAIN]);
  await ipt(['-A', MASQ_CHAIN, '-d', o.clusterCidr, '-j', 'RETURN']);
  if (o.podCidr !== o.clusterCidr) await ipt(['-A', MASQ_CHAIN, '-d', o.podCidr, '-j', 'RETURN']);
  await ipt(['-A', MASQ_CHAIN, '-d', '224.0.0.0/4', '-j', 'RETURN']);
  await ipt(['-A', MASQ_CHAIN, '-j', 'MASQUERADE']);
  const jump = ['POSTROUTING', '-s', o.podCidr, '-m', 'comment', '--comment', MASQ_COMMENT, '-j', MASQ_CHAIN];
  try {
    await ipt(['-C', ...jump]);
  } catch {
    await ipt(['-A', ...jump]);
  }
}

export class PodRoutes {
  readonly #o: PodRoutesOptions;
  readonly #run: Run;
  #queue: Promise<void> = Promise.resolve();
  /** Routes that could not be added, already reported. */
  readonly #failing = new Set<string>();

  constructor(options: PodRoutesOptions) {
    this.#o = options;
    this.#run = options.run ?? realRun;
  }

  /** Makes the kernel's bramble routes exactly `want` (one sync at a time, in call order). It
   *  always compares with the kernel (one `ip route show`), so a periodic sync also finds routes
   *  the kernel dropped on its own (a link taken down takes its routes with it). */
  sync(want: readonly PeerRoute[]): Promise<void> {
    const next = this.#queue.then(() => this.#sync(want));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #sync(want: readonly PeerRoute[]): Promise<void> {
    const have = parseRoutes(await this.#run('ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTO)]));
    const key = (r: PeerRoute) => `${r.cidr} ${r.via}`;
    const wanted = new Set(want.map(key));
    const present = new Set(have.map(key));
    for (const r of have) {
      if (wanted.has(key(r))) continue;
      await this.#run('ip', ['-4', 'route', 'del', r.cidr, 'proto', String(ROUTE_PROTO)]).catch(() => undefined);
      this.#o.logger.info('pod route removed', { cidr: r.cidr, via: r.via });
    }
    for (const r of want) {
      if (present.has(key(r)) || r.cidr === this.#o.podCidr) continue;
      try {
        await this.#run('ip', ['-4', 'route', 'replace', r.cidr, 'via', r.via, 'proto', String(ROUTE_PROTO)]);
        this.#failing.delete(key(r));
        this.#o.logger.info('pod route added', { cidr: r.cidr, via: r.via });
      } catch (error) {
        // An address not on a shared network (host-gw needs one hop): say so, keep the others.
        // Said once per route until it works: the periodic recheck of a gateway whose link is
        // down would otherwise log it every 10 s onto the SD card.
        if (!this.#failing.has(key(r))) {
          this.#failing.add(key(r));
          this.#o.logger.warn('cannot route to another gateway\'s pods: its address must be on a network this gateway shares (host-gw routing); retrying quietly', {
            cidr: r.cidr,
            via: r.via,
            error: String((error as { stderr?: string }).stderr ?? error).trim(),
          });
        }
      }
    }
  }
}
