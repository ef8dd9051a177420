// The DNS server over real sockets on 127.0.0.1, asked with dig (bind9-dnsutils): every record
// kind, NXDOMAIN + SOA, TC then TCP, case; forwarding to a dnsmasq upstream that the test starts
// and then stops (cached names answer stale, new names SERVFAIL fast); REFUSED for a source
// outside allowFrom.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { StaticDnsData } from '../../src/dns/data.ts';
import type { DnsServer } from '../../src/dns/index.ts';
import { startDnsServer } from '../../src/dns/index.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { dig, endpoints, hasTool, randomPort, sampleData, service, startDnsmasq, stopProcess } from './helpers.ts';

const tools = hasTool('dig') && hasTool('dnsmasq');
const missing = tools ? false : 'dig and dnsmasq are needed (sh scripts/setup.sh host installs bind9-dnsutils and dnsmasq-base)';

describe('DNS conformance over UDP and TCP with dig', { skip: missing }, () => {
  let server: DnsServer;
  let upstream: ChildProcess | null = null;
  let port: number;
  const upstreamPort = randomPort();

  before(async () => {
    upstream = await startDnsmasq(upstreamPort, ['--host-record=seen.example,192.0.2.7', '--host-record=never.example,192.0.2.8', '--address=/ext.test/192.0.2.1']);
    const data = sampleData();
    const many = Array.from({ length: 60 }, (_, i) => ({ ip: `10.42.7.${i + 1}` }));
    data.set({
      services: [...data.services(), service('default', 'big', { clusterIP: 'None' })],
      endpoints: [...data.endpoints(), endpoints('default', 'big', [{ addresses: many }])],
    });
    server = await startDnsServer({ data, listen: [{ host: '127.0.0.1', port: 0 }], domain: 'cluster.local', upstreams: [`127.0.0.1:${upstreamPort}`], allowFrom: ['127.0.0.0/8'], logger: quietLogger });
    port = server.addresses()[0]!.port;
  });

  after(async () => {
    await server?.stop();
    if (upstream) await stopProcess(upstream);
  });

  it('answers A for a Service, over UDP and over TCP', async () => {
    const udp = await dig(port, ['web.default.svc.cluster.local', 'A']);
    assert.equal(udp.status, 'NOERROR');
    assert.ok(udp.flags.includes('aa'));
    assert.deepEqual(udp.answer, ['web.default.svc.cluster.local. 5 IN A 10.43.0.20']);
    const tcp = await dig(port, ['+tcp', 'web.default.svc.cluster.local', 'A']);
    assert.deepEqual(tcp.answer, udp.answer);
  });

  it('answers SRV with the target\'s address in the additional section', async () => {
    const r = await dig(port, ['_http._tcp.web.default.svc.cluster.local', 'SRV']);
    assert.deepEqual(r.answer, ['_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.']);
    assert.ok(r.additional.includes('web.default.svc.cluster.local. 5 IN A 10.43.0.20'), r.text);
  });

  it('answers a headless Service and its endpoints by hostname', async () => {
    const all = await dig(port, ['db.default.svc.cluster.local', 'A']);
    assert.deepEqual(all.answer.sort(), ['db.default.svc.cluster.local. 5 IN A 10.42.1.5', 'db.default.svc.cluster.local. 5 IN A 10.42.2.6']);
    const one = await dig(port, ['db-0.db.default.svc.cluster.local', 'A']);
    assert.deepEqual(one.answer, ['db-0.db.default.svc.cluster.local. 5 IN A 10.42.1.5']);
  });

  it('answers PTR for a ClusterIP and a pod IP (dig -x)', async () => {
    assert.deepEqual((await dig(port, ['-x', '10.43.0.20'])).answer, ['20.0.43.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local.']);
    assert.deepEqual((await dig(port, ['-x', '10.42.1.9'])).answer, ['9.1.42.10.in-addr.arpa. 5 IN PTR 10-42-1-9.default.pod.cluster.local.']);
  });

  it('answers the pod A record and the ExternalName CNAME', async () => {
    assert.deepEqual((await dig(port, ['10-42-1-9.default.pod.cluster.local', 'A'])).answer, ['10-42-1-9.default.pod.cluster.local. 5 IN A 10.42.1.9']);
    assert.deepEqual((await dig(port, ['ext.default.svc.cluster.local', 'A'])).answer, ['ext.default.svc.cluster.local. 5 IN CNAME example.org.']);
  });

  it('answers NXDOMAIN with the SOA in the authority section', async () => {
    const r = await dig(port, ['nope.default.svc.cluster.local', 'A']);
    assert.equal(r.status, 'NXDOMAIN');
    assert.equal(r.answer.length, 0);
    assert.match(r.authority[0] ?? '', /^cluster\.local\. 5 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/);
  });

  it('answers in the question\'s case', async () => {
    const r = await dig(port, ['WEB.Default.Svc.CLUSTER.local', 'A']);
    assert.deepEqual(r.answer, ['WEB.Default.Svc.CLUSTER.local. 5 IN A 10.43.0.20']);
  });

  it('sets TC over UDP for a large answer, and dig gets it whole over TCP', async () => {
    const truncated = await dig(port, ['+noedns', '+ignore', 'big.default.svc.cluster.local', 'A']);
    assert.ok(truncated.flags.includes('tc'), truncated.text);
    assert.equal(truncated.answer.length, 0);
    const retried = await dig(port, ['+noedns', 'big.default.svc.cluster.local', 'A']);
    assert.match(retried.text, /Truncated, retrying in TCP mode/);
    assert.equal(retried.answer.length, 60);
  });

  it('forwards other names to the upstream, serves them stale when it is gone, and fails new names fast', async () => {
    const first = await dig(port, ['seen.example', 'A']);
    assert.equal(first.status, 'NOERROR');
    assert.deepEqual(first.answer.map((l) => l.split(' ').pop()), ['192.0.2.7']);
    assert.deepEqual((await dig(port, ['Foo.EXT.test', 'A'])).answer.map((l) => l.split(' ').pop()), ['192.0.2.1']);
    await stopProcess(upstream!);
    upstream = null;
    // dnsmasq gives its local records TTL 0, so this is no fresh cache hit: the upstream is asked,
    // does not answer, and the stale copy is served with RFC 8767's TTL of 30.
    const stale = await dig(port, ['+time=4', 'seen.example', 'A']);
    assert.equal(stale.status, 'NOERROR', stale.text);
    assert.deepEqual(stale.answer, ['seen.example. 30 IN A 192.0.2.7']);
    const started = Date.now();
    const fresh = await dig(port, ['+time=4', 'never.example', 'A']);
    const elapsed = Date.now() - started;
    assert.equal(fresh.status, 'SERVFAIL', fresh.text);
    assert.ok(elapsed < 2500, `SERVFAIL took ${elapsed} ms`);
    // The cluster zone does not depend on any upstream.
    assert.equal((await dig(port, ['web.default.svc.cluster.local', 'A'])).status, 'NOERROR');
  });
});

describe('DNS access control', { skip: missing }, () => {
  let server: DnsServer;
  before(async () => {
    server = await startDnsServer({ data: new StaticDnsData({ services: [service('default', 'web', { clusterIP: '10.43.0.20' })] }), listen: [{ host: '127.0.0.1', port: 0 }], domain: 'cluster.local', upstreams: [], allowFrom: ['10.42.0.0/16'], logger: quietLogger });
  });
  after(async () => {
    await server?.stop();
  });

  it('refuses queries from a source outside allowFrom, over UDP and TCP', async () => {
    const port = server.addresses()[0]!.port;
    for (const extra of [[], ['+tcp']]) {
      const r = await dig(port, [...extra, 'web.default.svc.cluster.local', 'A']);
      assert.equal(r.status, 'REFUSED', r.text);
      assert.equal(r.answer.length, 0);
    }
    assert.equal(server.stats().refused, 2);
  });
});
