// Shared by the DNS tests: Kubernetes objects for a fake replica, queries built with dns-packet,
// a handler without sockets, and dig/dnsmasq runners for the tests over real sockets.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dnsPacket from 'dns-packet';
import type { KObject } from '../../src/model/index.ts';
import type { DnsData } from '../../src/dns/data.ts';
import { StaticDnsData } from '../../src/dns/data.ts';
import { Forwarder } from '../../src/dns/forwarder.ts';
import { DnsHandler } from '../../src/dns/handler.ts';
import { quietLogger } from '../store/store-helpers.ts';

export function service(ns: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec };
}

export function endpoints(ns: string, name: string, subsets: unknown[]): KObject {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets };
}

export function pod(ns: string, name: string, podIP: string, extra: { hostNetwork?: boolean; phase?: string } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(extra.hostNetwork ? { hostNetwork: true } : {}) },
    status: { podIP, phase: extra.phase ?? 'Running' },
  };
}

/** A small cluster: a ClusterIP Service with named and unnamed ports, a headless one with three
 *  endpoints (one with a hostname, one not ready), an ExternalName, and two pods. */
export function sampleData(): StaticDnsData {
  return new StaticDnsData({
    services: [
      service('default', 'web', { type: 'ClusterIP', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 8443 }] }),
      service('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
      service('default', 'empty', { clusterIP: 'None' }),
      service('default', 'ext', { type: 'ExternalName', externalName: 'example.org.' }),
      service('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    ],
    endpoints: [
      endpoints('default', 'db', [
        { addresses: [{ ip: '10.42.1.5', hostname: 'db-0' }, { ip: '10.42.2.6' }], notReadyAddresses: [{ ip: '10.42.3.7' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
      ]),
      endpoints('default', 'web', [{ addresses: [{ ip: '10.42.1.9' }], ports: [{ name: 'http', port: 8080 }] }]),
    ],
    pods: [pod('default', 'web-1', '10.42.1.9'), pod('default', 'db-0', '10.42.1.5'), pod('default', 'host', '192.168.1.10', { hostNetwork: true })],
  });
}

export function handlerFor(data: DnsData, upstreams: { host: string; port: number }[] = []): DnsHandler {
  return new DnsHandler({ data, domain: 'cluster.local', forwarder: new Forwarder({ upstreams, logger: quietLogger, timeoutMs: 300 }), logger: quietLogger });
}

export interface QueryOptions {
  id?: number;
  edns?: number;
  rd?: boolean;
  qclass?: 'IN' | 'CH';
}

export function query(name: string, type: string, o: QueryOptions = {}): Buffer {
  const packet = {
    type: 'query',
    id: o.id ?? 4242,
    flags: o.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: o.qclass ?? 'IN' }],
    ...(o.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: o.edns }] } : {}),
  };
  return dnsPacket.encode(packet as dnsPacket.Packet);
}

/** Asks the handler and decodes its answer (which must be there and synchronous unless said). */
export async function ask(handler: DnsHandler, name: string, type: string, o: QueryOptions & { tcp?: boolean; allowed?: boolean } = {}): Promise<{ packet: dnsPacket.DecodedPacket; bytes: Buffer }> {
  const answer = await handler.handle(query(name, type, o), o.tcp ?? false, o.allowed ?? true);
  if (!answer) throw new Error(`no answer to ${name} ${type}`);
  return { packet: dnsPacket.decode(answer), bytes: answer };
}

export function rcodeOf(packet: dnsPacket.DecodedPacket): string {
  return (packet as unknown as { rcode: string }).rcode;
}

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool} >/dev/null || test -x /usr/sbin/${tool}`]).status === 0;
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  text: string;
}

/** Runs dig and reads its header, flags and sections. */
export async function dig(port: number, args: string[]): Promise<DigResult> {
  const child = spawn('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', '+nocookie', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const status = /status: (\w+)/.exec(text)?.[1] ?? 'NONE';
  const flags = (/;; flags: ([^;]*);/.exec(text)?.[1] ?? '').trim().split(/\s+/);
  const section = (title: string): string[] => {
    const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(text);
    return m ? m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.replace(/\s+/g, ' ').trim()) : [];
  };
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), text };
}

export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}

/** Starts dnsmasq on 127.0.0.1:port with the given extra arguments; stop it with `stopProcess`. */
export async function startDnsmasq(port: number, extra: string[]): Promise<ChildProcess> {
  const child = spawn('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--pid-file=', '--user=root', ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const r = await dig(port, ['version.bind', 'TXT', 'CH']);
    if (r.status !== 'NONE') return child;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`dnsmasq did not start on 127.0.0.1:${port}`);
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
