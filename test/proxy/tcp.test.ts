// The balancer over real TCP sockets on loopback: round robin, refusing backends skipped and
// passed over while marked down, ClientIP affinity, draining, listeners following Service
// changes, NodePorts, half-close, large transfers and the connection cap.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { startProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.ts';
import { freePort } from '../helpers/ports.ts';
import { quietLogger } from '../store/store-helpers.ts';
import {
  accepts,
  endpoints,
  exchange,
  FakeAddresses,
  FakeData,
  openConnection,
  recordingLogger,
  service,
  tcpBackend,
  testListenAddress,
  until,
  whoAnswers,
  type Backend,
} from './helpers.ts';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function backends(...names: string[]): Promise<Backend[]> {
  const out = await Promise.all(names.map((n) => tcpBackend(n)));
  cleanups.push(() => Promise.all(out.map((b) => b.close())).then(() => undefined));
  return out;
}

function start(data: FakeData, extra: Partial<ProxyOptions> = {}): Proxy {
  const proxy = startProxy({ data, nodeAddress: '127.0.0.1', addresses: new FakeAddresses(), logger: quietLogger, clusterListenAddress: testListenAddress, ...extra });
  cleanups.push(() => proxy.stop());
  return proxy;
}

const at = (b: Backend) => ({ ip: '127.0.0.1', port: b.port });

/** Sends `payload` and a FIN at once, and reads everything that comes back until the FIN. */
function halfClosedExchange(host: string, port: number, payload: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.end(payload); // FIN after the payload; the echo still comes back
  });
}

describe('TCP balancing', () => {
  it('spreads connections round robin over three backends', async () => {
    const bs = await backends('a', 'b', 'c');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('web', '10.43.1.1', [{ port }]));
    data.setEndpoints(endpoints('web', bs.map(at)));
    const proxy = start(data);
    await proxy.settled();
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(await whoAnswers('127.43.1.1', port));
    assert.deepEqual(seen.slice(0, 3).sort(), ['a', 'b', 'c']);
    assert.deepEqual(seen.slice(3, 6), seen.slice(0, 3));
    assert.deepEqual(seen.slice(6, 9), seen.slice(0, 3));
    assert.deepEqual(proxy.listeners().map((l) => [l.key, l.backends.length]), [[`TCP 127.43.1.1:${port}`, 3]]);
  });

  it('skips a backend that refuses and passes it over while it is marked down', async () => {
    const [a, b] = await backends('a', 'b');
    const deadPort = await freePort();
    const port = await freePort();
    let nowMs = 1_000_000;
    const data = new FakeData();
    data.setService(service('web', '10.43.1.2', [{ port }]));
    data.setEndpoints(endpoints('web', [at(a!), { ip: '127.0.0.1', port: deadPort }, at(b!)]));
    const proxy = start(data, { now: () => nowMs, endpointDownMs: 5000 });
    await proxy.settled();
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await whoAnswers('127.43.1.2', port));
    assert.deepEqual(seen.sort(), ['a', 'a', 'a', 'b', 'b', 'b'], 'every connection reached a live backend');
    // The dead backend comes back, but is still marked down: it gets nothing yet.
    const revived = await tcpBackend('revived', deadPort);
    cleanups.push(() => revived.close());
    for (let i = 0; i < 6; i++) await whoAnswers('127.43.1.2', port);
    assert.equal(revived.accepted, 0, 'a backend marked down is passed over');
    nowMs += 5001;
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await whoAnswers('127.43.1.2', port));
    assert.equal(after.filter((n) => n === 'revived').length, 2, `once the mark expires it is back in the rotation: ${after.join(',')}`);
  });

  it('closes the client unanswered when no endpoint is ready, never using a not-ready one', async () => {
    const [waiting] = await backends('waiting');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('web', '10.43.1.3', [{ port }]));
    data.setEndpoints(endpoints('web', [], undefined, 'TCP', [at(waiting!)]));
    const proxy = start(data);
    await proxy.settled();
    assert.equal(proxy.listeners().length, 1, 'the listener exists even without endpoints');
    const answer = await exchange('127.43.1.3', port, 'hello').catch((error: NodeJS.ErrnoException) => error.code);
    assert.ok(answer === '' || answer === 'ECONNRESET', `closed without an answer: ${answer}`);
    assert.equal(waiting!.accepted, 0);
  });

  it('keeps a client on one backend with ClientIP affinity until the timeout', async () => {
    const bs = await backends('a', 'b', 'c');
    const port = await freePort();
    let nowMs = 1_000_000;
    const data = new FakeData();
    data.setService(service('sticky', '10.43.1.4', [{ port }], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
    data.setEndpoints(endpoints('sticky', bs.map(at)));
    const proxy = start(data, { now: () => nowMs });
    await proxy.settled();
    const first = await whoAnswers('127.43.1.4', port, '127.0.0.1');
    for (let i = 0; i < 6; i++) {
      nowMs += 10_000; // used again within the timeout each time: the timer starts over
      assert.equal(await whoAnswers('127.43.1.4', port, '127.0.0.1'), first);
    }
    // Another client address is balanced on its own.
    const other = await whoAnswers('127.43.1.4', port, '127.0.0.2');
    assert.notEqual(other, first, 'round robin moved on for a new client');
    nowMs += 61_000;
    const after = new Set<string>();
    for (let i = 0; i < 3; i++) {
      after.add(await whoAnswers('127.43.1.4', port, '127.0.0.3'));
      nowMs += 61_000;
    }
    assert.equal(after.size, 3, 'past the timeout each connection is balanced again');
  });

  it('lets open connections finish when their endpoint goes away', async () => {
    const bs = await backends('a', 'b');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('web', '10.43.1.5', [{ port }]));
    data.setEndpoints(endpoints('web', bs.map(at)));
    const proxy = start(data);
    await proxy.settled();
    const conn = await openConnection('127.43.1.5', port);
    const name = await conn.read();
    const gone = bs.find((b) => b.name === name)!;
    const stays = bs.find((b) => b.name !== name)!;
    data.setEndpoints(endpoints('web', [at(stays)]));
    await proxy.settled();
    conn.socket.write('still here\n');
    assert.equal(await conn.read(), 'still here', 'the open connection still reaches its backend');
    for (let i = 0; i < 4; i++) assert.equal(await whoAnswers('127.43.1.5', port), stays.name, 'new connections avoid the removed endpoint');
    assert.equal(proxy.listeners()[0]!.active, 1);
    conn.socket.end();
    await until('the drained connection closed', () => proxy.listeners()[0]!.active === 0);
    assert.equal(gone.sockets.size, 0);
  });

  it('opens and closes listeners within a second of a Service change, and manages the ClusterIP', async () => {
    const [a] = await backends('a');
    const port = await freePort();
    const addresses = new FakeAddresses(['10.43.9.9']); // left by an earlier run
    const data = new FakeData();
    const proxy = start(data, { addresses });
    await proxy.settled();
    assert.deepEqual([...addresses.present], [], 'a stale address from an earlier run is removed');
    assert.equal(await accepts('127.43.1.6', port), false);
    data.setEndpoints(endpoints('late', [at(a!)]));
    data.setService(service('late', '10.43.1.6', [{ port }]));
    const added = await until('the listener', () => accepts('127.43.1.6', port), 1000);
    assert.ok(added < 1000);
    assert.equal(await whoAnswers('127.43.1.6', port), 'a');
    assert.deepEqual([...addresses.present], ['10.43.1.6']);
    data.deleteService('late');
    await until('the listener gone', async () => !(await accepts('127.43.1.6', port)), 1000);
    await until('the address removed', () => !addresses.present.has('10.43.1.6'), 1000);
    assert.deepEqual(addresses.log, ['remove 10.43.9.9', 'add 10.43.1.6', 'remove 10.43.1.6']);
  });

  it('follows a port change and a headless or ExternalName Service gets no listener', async () => {
    const [a] = await backends('a');
    const [p1, p2] = [await freePort(), await freePort()];
    const data = new FakeData();
    data.setService(service('web', '10.43.1.7', [{ port: p1 }]));
    data.setService(service('headless', 'None', [{ port: p1 }]));
    data.setService({ ...service('ext', '', []), spec: { type: 'ExternalName', externalName: 'example.com' } });
    data.setEndpoints(endpoints('web', [at(a!)]));
    const proxy = start(data);
    await proxy.settled();
    assert.deepEqual(proxy.listeners().map((l) => l.key), [`TCP 127.43.1.7:${p1}`]);
    data.setService(service('web', '10.43.1.7', [{ port: p2 }]));
    await proxy.settled();
    assert.deepEqual(proxy.listeners().map((l) => l.key), [`TCP 127.43.1.7:${p2}`]);
    assert.equal(await whoAnswers('127.43.1.7', p2), 'a');
    assert.equal(await accepts('127.43.1.7', p1), false);
  });

  it('serves a NodePort on the node address, sharing the rotation with the ClusterIP', async () => {
    const bs = await backends('a', 'b');
    const [port, nodePort] = [await freePort(), await freePort()];
    const data = new FakeData();
    data.setService(service('np', '10.43.1.8', [{ name: 'http', port, nodePort }], { type: 'NodePort' }));
    data.setEndpoints(endpoints('np', bs.map(at), 'http'));
    const proxy = start(data);
    await proxy.settled();
    assert.deepEqual(proxy.listeners().map((l) => l.key).sort(), [`TCP 127.0.0.1:${nodePort}`, `TCP 127.43.1.8:${port}`].sort());
    const one = await whoAnswers('127.0.0.1', nodePort);
    const two = await whoAnswers('127.43.1.8', port);
    assert.deepEqual([one, two].sort(), ['a', 'b']);
  });

  it('keeps NodePort traffic on this gateway\'s endpoints with externalTrafficPolicy Local, and follows a change back to Cluster on the same socket', async () => {
    const bs = await backends('a', 'b');
    const [port, nodePort] = [await freePort(), await freePort()];
    const data = new FakeData();
    const np = (policy: string) => service('np', '10.43.1.9', [{ name: 'http', port, nodePort }], { type: 'NodePort', externalTrafficPolicy: policy });
    data.setService(np('Local'));
    data.setEndpoints({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'np', namespace: 'default' },
      subsets: bs.map((b, i) => ({ addresses: [{ ip: '127.0.0.1', nodeName: i === 0 ? 'g1' : 'g2' }], ports: [{ name: 'http', port: b.port }] })),
    });
    const rec = recordingLogger();
    const proxy = start(data, { nodeName: 'g1', logger: rec.logger });
    await proxy.settled();
    const viaNodePort = new Set<string>();
    const viaClusterIP = new Set<string>();
    for (let i = 0; i < 4; i++) {
      viaNodePort.add(await whoAnswers('127.0.0.1', nodePort));
      viaClusterIP.add(await whoAnswers('127.43.1.9', port));
    }
    assert.deepEqual([...viaNodePort], ['a'], 'only the endpoint on g1');
    assert.deepEqual([...viaClusterIP].sort(), ['a', 'b'], 'ClusterIP traffic follows internalTrafficPolicy (Cluster)');
    data.setService(np('Cluster'));
    await proxy.settled();
    const after = new Set<string>();
    for (let i = 0; i < 4; i++) after.add(await whoAnswers('127.0.0.1', nodePort));
    assert.deepEqual([...after].sort(), ['a', 'b']);
    // A new route is not a new listener: clients connecting meanwhile are never reset.
    assert.equal(rec.lines.filter((l) => l['msg'] === 'stopped listening for a service port').length, 0);
    assert.equal(rec.lines.filter((l) => l['msg'] === 'listening for a service port').length, 2);
  });

  it('passes a half-close through and carries a large transfer intact', async () => {
    const [a] = await backends('a');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('big', '10.43.1.9', [{ port }]));
    data.setEndpoints(endpoints('big', [at(a!)]));
    const proxy = start(data);
    await proxy.settled();
    const payload = randomBytes(8 * 1024 * 1024);
    const echoed = await halfClosedExchange('127.43.1.9', port, payload);
    assert.equal(echoed.subarray(0, 2).toString(), 'a\n');
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(echoed.length, payload.length + 2);
    assert.equal(digest(echoed.subarray(2)), digest(payload));
    await until('both sides closed', () => proxy.listeners()[0]!.active === 0 && a!.sockets.size === 0);
  });

  it('gives the next backend what the client sent while a refusing one was tried, once and intact', async () => {
    const [a] = await backends('a');
    const dead = await freePort();
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('early', '10.43.1.12', [{ port }]));
    data.setEndpoints(endpoints('early', [{ ip: '127.0.0.1', port: dead }, at(a!)]));
    const proxy = start(data);
    await proxy.settled();
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    // Round robin: one of the two connections is sent to the refusing backend first.
    for (let i = 0; i < 2; i++) {
      const payload = randomBytes(256 * 1024);
      const echoed = await halfClosedExchange('127.43.1.12', port, payload); // sent, and half-closed, before any backend accepted
      assert.equal(echoed.subarray(0, 2).toString(), 'a\n');
      assert.equal(echoed.length, payload.length + 2, 'nothing lost, nothing twice');
      assert.equal(digest(echoed.subarray(2)), digest(payload));
    }
    assert.equal(a!.accepted, 2);
    await until('both sides closed', () => proxy.listeners()[0]!.active === 0 && a!.sockets.size === 0);
  });

  it('closes the backend side when the client resets', async () => {
    const [a] = await backends('a');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('rst', '10.43.1.10', [{ port }]));
    data.setEndpoints(endpoints('rst', [at(a!)]));
    const proxy = start(data);
    await proxy.settled();
    const conn = await openConnection('127.43.1.10', port);
    assert.equal(await conn.read(), 'a');
    assert.equal(a!.sockets.size, 1);
    conn.socket.resetAndDestroy();
    await until('the backend connection closed', () => a!.sockets.size === 0);
  });

  it('refuses connections beyond the cap and says so once', async () => {
    const [a] = await backends('a');
    const port = await freePort();
    const data = new FakeData();
    data.setService(service('cap', '10.43.1.11', [{ port }]));
    data.setEndpoints(endpoints('cap', [at(a!)]));
    const rec = recordingLogger();
    const proxy = start(data, { connectionsMax: 2, logger: rec.logger });
    await proxy.settled();
    const c1 = await openConnection('127.43.1.11', port);
    const c2 = await openConnection('127.43.1.11', port);
    assert.equal(await c1.read(), 'a');
    assert.equal(await c2.read(), 'a');
    assert.equal(await exchange('127.43.1.11', port, 'x').catch(() => ''), '', 'the third is closed unanswered');
    assert.equal(await exchange('127.43.1.11', port, 'x').catch(() => ''), '');
    const warnings = rec.lines.filter((l) => String(l['msg']).startsWith('connection limit reached'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!['connectionsMax'], 2);
    c1.socket.destroy();
    c2.socket.destroy();
    await until('room again', () => proxy.listeners()[0]!.active === 0);
    assert.equal(await whoAnswers('127.43.1.11', port), 'a');
  });
});
