// The DNS server's command-line flags and their parsing, for `bramble server` to add:
// `--dns-addr HOST:PORT` (the host side), `--cluster-domain` and `--dns-upstream IP[:PORT],...`.
// The cluster DNS address 10.43.0.10:53 is fixed by the contract, not a flag.
import { CLUSTER_DNS_IP, DEFAULT_CLUSTER_CIDR } from '../network/config.ts';
import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.ts';
import type { Upstream } from './forwarder.ts';

/** Where every pod finds cluster DNS (bound on each gateway's loopback). */
export const CLUSTER_DNS_ADDRESS = { host: CLUSTER_DNS_IP, port: 53 } as const;
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** Pods live in 10.42.0.0/16 on every gateway; Kubernetes' default pod network for k3s. */
export const CLUSTER_POD_NETWORK = DEFAULT_CLUSTER_CIDR;

/** Flag specs in the shape of src/cli/flags.ts, to spread into the server command's flags. */
export const DNS_FLAGS = {
  'dns-addr': { type: 'string', valueName: 'HOST:PORT', description: 'also answer DNS at this address (the host side; cluster DNS is always at 10.43.0.10:53)' },
  'cluster-domain': { type: 'string', valueName: 'DOMAIN', description: 'the cluster DNS domain', default: DEFAULT_CLUSTER_DOMAIN },
  'dns-upstream': { type: 'list', valueName: 'IP[:PORT],...', description: "resolvers for names outside the cluster", defaultText: "the host's /etc/resolv.conf" },
} as const;

const fail = (message: string): UsageError => new UsageError(`bramble server: ${message} (see 'bramble server --help')`);

/** `--dns-addr`: "HOST:PORT" or "[v6]:PORT", HOST an IP address. */
export function parseDnsAddr(text: string, flag = '--dns-addr'): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text.trim());
  const host = match ? (match[1] ?? match[2]!) : '';
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(isIPv4(host) || isIPv6(host)) || !(port >= 1 && port <= 65535)) {
    throw fail(`${flag}: expected IP:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:53), got ${JSON.stringify(text)}`);
  }
  return { host, port };
}

/** `--cluster-domain`: lowercase DNS labels, without the trailing dot. */
export function parseClusterDomain(text: string, flag = '--cluster-domain'): string {
  const domain = text.trim().toLowerCase().replace(/\.$/, '');
  const labels = domain.split('.');
  if (domain.length === 0 || domain.length > 200 || !labels.every((l) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(l))) {
    throw fail(`${flag}: expected a DNS domain such as cluster.local, got ${JSON.stringify(text)}`);
  }
  return domain;
}

/** One upstream: "IP", "IP:PORT", "[v6]" or "[v6]:PORT"; the port defaults to 53. */
export function parseUpstream(text: string, flag = '--dns-upstream'): Upstream {
  const trimmed = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (isIPv6(trimmed)) {
    host = trimmed;
  } else {
    const colon = trimmed.lastIndexOf(':');
    host = colon === -1 ? trimmed : trimmed.slice(0, colon);
    portText = colon === -1 ? undefined : trimmed.slice(colon + 1);
  }
  const port = portText === undefined ? 53 : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(isIPv4(host) || isIPv6(host)) || !(port >= 1 && port <= 65535)) {
    throw fail(`${flag}: expected IP[:PORT] (e.g. 1.1.1.1 or 192.168.1.1:5353), got ${JSON.stringify(text)}`);
  }
  return { host, port };
}

/** `--dns-upstream a,b,c` (already split by the flag parser) → upstreams; undefined when absent. */
export function parseDnsUpstreams(items: readonly string[] | undefined, flag = '--dns-upstream'): string[] | undefined {
  if (items === undefined || items.length === 0) return undefined;
  if (items.length > 8) throw fail(`${flag}: at most 8 upstreams, got ${items.length}`);
  return items.map((item) => {
    const u = parseUpstream(item, flag);
    return isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
  });
}

/** Who may ask this gateway's DNS: itself (loopback, and the cluster DNS address, which is the
 *  source the kernel picks when the gateway asks 10.43.0.10), the cluster's pods, and the
 *  node's own addresses (which a host-network pod or the host itself uses). */
export function defaultAllowFrom(options: { podCidr?: string; nodeAddresses?: readonly string[] } = {}): string[] {
  const allow = ['127.0.0.0/8', '::1/128', `${CLUSTER_DNS_ADDRESS.host}/32`, CLUSTER_POD_NETWORK];
  if (options.podCidr) allow.push(options.podCidr);
  for (const address of options.nodeAddresses ?? []) if (isIPv4(address) || isIPv6(address)) allow.push(address);
  return allow;
}
