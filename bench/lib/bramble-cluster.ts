// A 3-member bramble cluster of real `bramble server` processes on loopback, for benchmarks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.ts';
import type { Proc } from './procs.ts';
import { startProc } from './procs.ts';

export interface BrambleCluster {
  endpoints: string[];
  procs: Proc[];
  /** The leader's API URL. */
  leader(): Promise<string>;
  stop(): Promise<void>;
}

export async function waitHttp(url: string, ms: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.text();
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() - started > ms) throw new Error(`${url} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startBrambleCluster(dir: string, members = 3, extra: string[] = []): Promise<BrambleCluster> {
  const bundle = join(process.cwd(), 'dist', 'bramble.mjs');
  const procs: Proc[] = [];
  const endpoints: string[] = [];
  const peers: string[] = [];
  for (let i = 1; i <= members; i++) {
    const api = `127.0.0.1:${await freePort()}`;
    const peer = `127.0.0.1:${await freePort()}`;
    const args = ['server', '--name', `m${i}`, '--data-dir', join(dir, `m${i}`), '--api-addr', api, '--peer-addr', peer, '--board', 'generic-x86_64', '--log-level', 'warn', '--disable-agent', ...extra];
    if (i > 1) args.push('--join', `http://${peers[0]}`, '--token', readFileSync(join(dir, 'm1', 'token'), 'utf8').trim());
    // Run as shipped: the bundle's first line gives node its flags.
    procs.push(startProc(bundle, args));
    endpoints.push(`http://${api}`);
    peers.push(peer);
    await waitHttp(`http://${api}/readyz`, 30_000);
  }
  for (const started = Date.now(); ; ) {
    const status = (await (await fetch(`${endpoints[0]}/cluster`)).json()) as { members: Array<{ role: string }> };
    if (status.members.filter((m) => m.role === 'voter').length === members) break;
    if (Date.now() - started > 30_000) throw new Error('bramble: members were not promoted to voters');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoints,
    procs,
    async leader() {
      const s = (await (await fetch(`${endpoints[0]}/cluster`)).json()) as { leader: string; members: Array<{ name: string; apiURL: string }> };
      return s.members.find((m) => m.name === s.leader)!.apiURL;
    },
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}
