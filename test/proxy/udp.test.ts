// UDP through the balancer over real sockets: replies come back from the address the client
// sent to, each client address keeps its session (and backend), sessions end when idle, and a
// backend answering "port unreachable" is passed over.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { startProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { endpoints, FakeAddresses, FakeData, service, testListenAddress, udpAsk, udpBackend, until } from './helpers.ts';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function start(data: FakeData, extra: Partial<ProxyOptions> = {}): Proxy {
  const proxy = startProxy({ data, nodeAddress: '127.0.0.1', addresses: new FakeAddresses(), logger: quietLogger, clusterListenAddress: testListenAddress, ...extra });
  cleanups.push(() => proxy.stop());
  return proxy;
}

function client() {
  const socket = createSocket('udp4');
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return socket;
}

describe('UDP balancing', () => {
  it('relays a datagram and its reply, from the ClusterIP, one backend per client session', async () => {
    const a = await udpBackend('a');
    const b = await udpBackend('b');
    cleanups.push(() => a.close(), () => b.close());
    const port = await freeUdpPort();
    const data = new FakeData();
    data.setService(service('dns', '10.43.2.1', [{ name: 'dns', port, protocol: 'UDP' }]));
    data.setEndpoints(endpoints('dns', [{ ip: '127.0.0.1', port: a.port }, { ip: '127.0.0.1', port: b.port }], 'dns', 'UDP'));
    const proxy = start(data, { udpIdleMs: 150 });
    await proxy.settled();
    assert.deepEqual(proxy.listeners().map((l) => l.key), [`UDP 127.43.2.1:${port}`]);

    const one = client();
    const first = await udpAsk('127.43.2.1', port, 'hello', one);
    assert.equal(first.from, `127.43.2.1:${port}`, 'the reply comes from the address the client asked');
    const backend = first.text.split(':')[0];
    assert.equal(first.text, `${backend}:hello`);
    assert.equal((await udpAsk('127.43.2.1', port, 'again', one)).text, `${backend}:again`, 'the same session, the same backend');
    const two = client();
    const second = await udpAsk('127.43.2.1', port, 'hi', two);
    assert.notEqual(second.text.split(':')[0], backend, 'a new client is balanced round robin');
    assert.equal(proxy.listeners()[0]!.active, 2);
    await until('idle sessions closed', () => proxy.listeners()[0]!.active === 0, 2000);
  });

  it('passes over a backend that answers port unreachable', async () => {
    const a = await udpBackend('a');
    cleanups.push(() => a.close());
    const dead = await freeUdpPort();
    const port = await freeUdpPort();
    const data = new FakeData();
    data.setService(service('u', '10.43.2.2', [{ port, protocol: 'UDP' }]));
    data.setEndpoints(endpoints('u', [{ ip: '127.0.0.1', port: dead }, { ip: '127.0.0.1', port: a.port }], undefined, 'UDP'));
    const proxy = start(data);
    await proxy.settled();
    const socket = client();
    // The first datagram may go to the dead backend and be lost; the client retries, as DNS does.
    let answer = '';
    for (let i = 0; i < 5 && !answer; i++) {
      answer = await udpAsk('127.43.2.2', port, `try${i}`, socket, 300).then(
        (r) => r.text,
        () => '',
      );
    }
    assert.match(answer, /^a:try\d$/);
    for (let i = 0; i < 4; i++) assert.match((await udpAsk('127.43.2.2', port, 'x', client())).text, /^a:x$/, 'new clients skip the unreachable backend');
  });
});
