// The host's resolvers, for names outside the cluster: the `nameserver` lines of resolv.conf.
// A loopback nameserver is skipped when it is one of our own addresses (asking ourselves would
// loop) and, when a systemd-resolved stub is all there is, its real upstreams are read instead
// (as the kubelet does), so pods do not depend on a stub that only the host can reach.
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { Upstream } from './forwarder.ts';

const SYSTEMD_RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';
const UPSTREAMS_MAX = 3; // what the libc resolver uses

/** The nameserver addresses of a resolv.conf text, in order. */
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!match) continue;
    const address = match[1]!.replace(/%.*$/, ''); // a zone index on a link-local address
    if (isIPv4(address) || isIPv6(address)) servers.push(address);
  }
  return servers;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

export async function readResolvConfUpstreams(path: string, ownAddresses: readonly { host: string; port: number }[]): Promise<Upstream[]> {
  const read = async (file: string): Promise<string[]> => {
    try {
      return parseResolvConf(await readFile(file, 'utf8'));
    } catch {
      return [];
    }
  };
  let servers = await read(path);
  if (servers.length > 0 && servers.every(isLoopback) && path === '/etc/resolv.conf') {
    const real = (await read(SYSTEMD_RESOLVED_UPSTREAMS)).filter((s) => !isLoopback(s));
    if (real.length > 0) servers = real;
  }
  const own = new Set(ownAddresses.filter((a) => a.port === 53).map((a) => a.host));
  return servers
    .filter((s) => !(isLoopback(s) && (own.has(s) || own.has('0.0.0.0') || own.has('::'))))
    .slice(0, UPSTREAMS_MAX)
    .map((host) => ({ host, port: 53 }));
}
