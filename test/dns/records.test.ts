// The cluster zone through the handler, no sockets: every record kind of the Kubernetes DNS
// specification from a fake replica, NXDOMAIN versus NODATA, case, truncation and refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { StaticDnsData } from '../../src/dns/data.ts';
import { ask, endpoints, handlerFor, pod, query, rcodeOf, sampleData, service } from './helpers.ts';

type Rec = { name: string; type: string; ttl?: number; data?: unknown };
const data = (records: dnsPacket.Answer[] | undefined): unknown[] => (records ?? []).map((r) => (r as Rec).data);
const names = (records: dnsPacket.Answer[] | undefined): string[] => (records ?? []).map((r) => (r as Rec).name);

describe('DNS records for Services', () => {
  const h = handlerFor(sampleData());

  it('answers A for a ClusterIP Service with its ClusterIP, TTL 5, authoritative', async () => {
    const { packet } = await ask(h, 'web.default.svc.cluster.local', 'A');
    assert.equal(rcodeOf(packet), 'NOERROR');
    assert.equal(packet.flag_aa, true);
    assert.deepEqual(data(packet.answers), ['10.43.0.20']);
    assert.equal((packet.answers![0] as Rec).ttl, 5);
    assert.equal(packet.id, 4242);
  });

  it('answers SRV for named ports only, with the target address in the additional section', async () => {
    const http = await ask(h, '_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(http.packet.answers), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(data(http.packet.additionals), ['10.43.0.20']);
    const udp = await ask(h, '_dns._udp.web.default.svc.cluster.local', 'SRV');
    assert.equal((udp.packet.answers![0] as { data: { port: number } }).data.port, 53);
    // The wrong protocol is no record at all.
    assert.equal(rcodeOf((await ask(h, '_http._udp.web.default.svc.cluster.local', 'SRV')).packet), 'NXDOMAIN');
  });

  it('answers a headless Service with one A per ready endpoint, and each endpoint by hostname', async () => {
    const all = await ask(h, 'db.default.svc.cluster.local', 'A');
    assert.deepEqual(new Set(data(all.packet.answers)), new Set(['10.42.1.5', '10.42.2.6']));
    assert.deepEqual(data((await ask(h, 'db-0.db.default.svc.cluster.local', 'A')).packet.answers), ['10.42.1.5']);
    // An endpoint without a hostname is named by its dashed address (as CoreDNS does).
    assert.deepEqual(data((await ask(h, '10-42-2-6.db.default.svc.cluster.local', 'A')).packet.answers), ['10.42.2.6']);
    // A not-ready endpoint has no record.
    assert.equal(rcodeOf((await ask(h, '10-42-3-7.db.default.svc.cluster.local', 'A')).packet), 'NXDOMAIN');
  });

  it('answers SRV for a headless Service with one record per ready endpoint, targeting its hostname', async () => {
    const { packet } = await ask(h, '_pg._tcp.db.default.svc.cluster.local', 'SRV');
    const targets = (packet.answers ?? []).map((r) => (r as { data: { target: string; port: number } }).data);
    assert.deepEqual(new Set(targets.map((t) => t.target)), new Set(['db-0.db.default.svc.cluster.local', '10-42-2-6.db.default.svc.cluster.local']));
    assert.ok(targets.every((t) => t.port === 5432));
    assert.deepEqual(new Set(names(packet.additionals)), new Set(['db-0.db.default.svc.cluster.local', '10-42-2-6.db.default.svc.cluster.local']));
  });

  it('includes not-ready endpoints when the Service publishes them', async () => {
    const d = sampleData();
    d.set({ services: [service('default', 'db', { clusterIP: 'None', publishNotReadyAddresses: true })] });
    const answer = await ask(handlerFor(d), 'db.default.svc.cluster.local', 'A');
    assert.equal(answer.packet.answers!.length, 3);
  });

  it('answers a headless Service with no ready endpoint NOERROR with no record and the SOA', async () => {
    const { packet } = await ask(h, 'empty.default.svc.cluster.local', 'A');
    assert.equal(rcodeOf(packet), 'NOERROR');
    assert.equal(packet.answers!.length, 0);
    assert.equal((packet.authorities![0] as Rec).type, 'SOA');
  });

  it('answers an ExternalName Service with a CNAME for any type', async () => {
    for (const type of ['A', 'AAAA', 'CNAME']) {
      const { packet } = await ask(h, 'ext.default.svc.cluster.local', type);
      assert.deepEqual(packet.answers!.map((r) => [(r as Rec).type, (r as Rec).data]), [['CNAME', 'example.org']], type);
    }
  });

  it('answers PTR for ClusterIPs, endpoint addresses and pod addresses', async () => {
    assert.deepEqual(data((await ask(h, '20.0.43.10.in-addr.arpa', 'PTR')).packet.answers), ['web.default.svc.cluster.local']);
    assert.deepEqual(data((await ask(h, '5.1.42.10.in-addr.arpa', 'PTR')).packet.answers), ['db-0.db.default.svc.cluster.local']);
    // A pod that is no headless endpoint is named by its pod record.
    assert.deepEqual(data((await ask(h, '9.1.42.10.in-addr.arpa', 'PTR')).packet.answers), ['10-42-1-9.default.pod.cluster.local']);
  });

  it('answers A for a-b-c-d.<ns>.pod.<domain> of a pod in that namespace only', async () => {
    assert.deepEqual(data((await ask(h, '10-42-1-9.default.pod.cluster.local', 'A')).packet.answers), ['10.42.1.9']);
    assert.equal(rcodeOf((await ask(h, '10-42-1-9.other.pod.cluster.local', 'A')).packet), 'NXDOMAIN');
    assert.equal(rcodeOf((await ask(h, '10-42-9-9.default.pod.cluster.local', 'A')).packet), 'NXDOMAIN');
  });

  it('gives no PTR for a host-network pod (its address is its node\'s)', async () => {
    // Not ours, so it goes to the upstreams; with none it is SERVFAIL, not an answer naming the pod.
    assert.equal(rcodeOf((await ask(h, '10.1.168.192.in-addr.arpa', 'PTR')).packet), 'SERVFAIL');
  });

  it('answers NXDOMAIN with the zone SOA for unknown names, NODATA with the SOA for other types', async () => {
    const nx = await ask(h, 'nope.default.svc.cluster.local', 'A');
    assert.equal(rcodeOf(nx.packet), 'NXDOMAIN');
    assert.equal(nx.packet.flag_aa, true);
    const soa = nx.packet.authorities![0] as { name: string; type: string; ttl: number; data: { mname: string; minimum: number } };
    assert.equal(soa.name, 'cluster.local');
    assert.equal(soa.type, 'SOA');
    assert.equal(soa.data.mname, 'ns.dns.cluster.local');
    assert.equal(soa.data.minimum, 5);
    const nodata = await ask(h, 'web.default.svc.cluster.local', 'AAAA');
    assert.equal(rcodeOf(nodata.packet), 'NOERROR');
    assert.equal(nodata.packet.answers!.length, 0);
    assert.equal((nodata.packet.authorities![0] as Rec).type, 'SOA');
  });

  it('treats empty non-terminals as existing (NODATA, not NXDOMAIN)', async () => {
    for (const name of ['_tcp.web.default.svc.cluster.local', 'default.svc.cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'default.pod.cluster.local']) {
      assert.equal(rcodeOf((await ask(h, name, 'A')).packet), 'NOERROR', name);
    }
    assert.equal(rcodeOf((await ask(h, 'nons.svc.cluster.local', 'A')).packet), 'NXDOMAIN');
  });

  it('answers the SOA at the apex and the schema version TXT', async () => {
    assert.equal((await ask(h, 'cluster.local', 'SOA')).packet.answers![0]!.type, 'SOA');
    const txt = await ask(h, 'dns-version.cluster.local', 'TXT');
    assert.deepEqual(data(txt.packet.answers).map((d) => (d as Buffer[]).map(String).join('')), ['1.1.0']);
  });

  it('matches names case-insensitively and answers with the question\'s case', async () => {
    const { packet } = await ask(h, 'WeB.DeFault.SVC.Cluster.Local', 'A');
    assert.deepEqual(data(packet.answers), ['10.43.0.20']);
    assert.equal(packet.questions![0]!.name, 'WeB.DeFault.SVC.Cluster.Local');
    assert.equal(names(packet.answers)[0], 'WeB.DeFault.SVC.Cluster.Local');
    // The same cached answer, asked in lowercase afterwards, is lowercase again.
    assert.equal(names((await ask(h, 'web.default.svc.cluster.local', 'A')).packet.answers)[0], 'web.default.svc.cluster.local');
  });

  it('keeps each query\'s ID and RD bit on a cached answer', async () => {
    const a = await ask(h, 'web.default.svc.cluster.local', 'A', { id: 1, rd: true });
    const b = await ask(h, 'web.default.svc.cluster.local', 'A', { id: 65535, rd: false });
    assert.equal(a.packet.id, 1);
    assert.equal(b.packet.id, 65535);
    assert.equal(a.packet.flag_rd, true);
    assert.equal(b.packet.flag_rd, false);
  });

  it('answers EDNS queries with an OPT record echoing nothing but our size', async () => {
    const { packet } = await ask(h, 'web.default.svc.cluster.local', 'A', { edns: 4096 });
    const opt = packet.additionals!.find((r) => r.type === 'OPT') as { udpPayloadSize: number } | undefined;
    assert.ok(opt);
    assert.equal(opt.udpPayloadSize, 1232);
  });

  it('follows the replica: a new Service answers at once, a removed one is NXDOMAIN', async () => {
    const d = new StaticDnsData({ services: [service('default', 'a', { clusterIP: '10.43.1.1' })] });
    const handler = handlerFor(d);
    assert.deepEqual(data((await ask(handler, 'a.default.svc.cluster.local', 'A')).packet.answers), ['10.43.1.1']);
    d.set({ services: [service('default', 'b', { clusterIP: '10.43.1.2' })] });
    assert.equal(rcodeOf((await ask(handler, 'a.default.svc.cluster.local', 'A')).packet), 'NXDOMAIN');
    assert.deepEqual(data((await ask(handler, 'b.default.svc.cluster.local', 'A')).packet.answers), ['10.43.1.2']);
  });
});

describe('DNS answers that do not fit, and queries we refuse', () => {
  const many = Array.from({ length: 60 }, (_, i) => ({ ip: `10.42.7.${i + 1}` }));
  const d = new StaticDnsData({
    services: [service('default', 'big', { clusterIP: 'None' })],
    endpoints: [endpoints('default', 'big', [{ addresses: many }])],
    pods: [pod('default', 'p', '10.42.7.1')],
  });
  const h = handlerFor(d);

  it('sets TC over UDP when the answer exceeds 512 bytes, and answers in full over TCP', async () => {
    const udp = await ask(h, 'big.default.svc.cluster.local', 'A');
    assert.equal(udp.packet.flag_tc, true);
    assert.equal(udp.packet.answers!.length, 0);
    assert.ok(udp.bytes.length <= 512);
    const tcp = await ask(h, 'big.default.svc.cluster.local', 'A', { tcp: true });
    assert.equal(tcp.packet.flag_tc, false);
    assert.equal(tcp.packet.answers!.length, 60);
  });

  it('uses the EDNS size (up to 1232) before truncating', async () => {
    const edns = await ask(h, 'big.default.svc.cluster.local', 'A', { edns: 4096 });
    assert.equal(edns.packet.flag_tc, false);
    assert.equal(edns.packet.answers!.length, 60);
    assert.ok(edns.bytes.length <= 1232);
  });

  it('answers REFUSED to a source that is not allowed', async () => {
    const { packet } = await ask(h, 'big.default.svc.cluster.local', 'A', { allowed: false });
    assert.equal(rcodeOf(packet), 'REFUSED');
    assert.equal(packet.answers!.length, 0);
  });

  it('refuses other classes and zone transfers, and says NOTIMP for other opcodes', async () => {
    assert.equal(rcodeOf((await ask(h, 'version.bind', 'TXT', { qclass: 'CH' })).packet), 'REFUSED');
    assert.equal(rcodeOf((await ask(h, 'cluster.local', 'AXFR')).packet), 'NOTIMP');
    const notify = query('cluster.local', 'SOA');
    notify[2] = (notify[2]! & 0x87) | (4 << 3);
    const answer = h.handle(notify, false, true) as Buffer;
    assert.equal(answer[3]! & 0xf, 4);
  });

  it('drops responses and runts, and answers FORMERR to a query with two questions', async () => {
    const response = query('cluster.local', 'SOA');
    response[2] = response[2]! | 0x80;
    assert.equal(h.handle(response, false, true), null);
    assert.equal(h.handle(Buffer.alloc(5), false, true), null);
    const two = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
    const answer = h.handle(two, false, true) as Buffer;
    assert.equal(answer[3]! & 0xf, 1);
    assert.equal(answer.readUInt16BE(0), 7);
  });
});

describe('DNS answers that must not come from the cache', () => {
  it('refuses another class and answers BADVERS to EDNS version 1 even for a cached name', async () => {
    const h = handlerFor(sampleData());
    assert.equal(rcodeOf((await ask(h, 'web.default.svc.cluster.local', 'A')).packet), 'NOERROR');
    const chaos = query('web.default.svc.cluster.local', 'A', { qclass: 'CH' });
    assert.equal((h.handle(chaos, false, true) as Buffer)[3]! & 0xf, 5);
    const v1 = query('web.default.svc.cluster.local', 'A', { edns: 1232 });
    v1[v1.length - 5] = 1; // the OPT record's version byte
    const answer = dnsPacket.decode(h.handle(v1, false, true) as Buffer);
    assert.equal(answer.answers!.length, 0);
    const opt = answer.additionals!.find((r) => r.type === 'OPT') as { extendedRcode: number } | undefined;
    assert.equal(opt?.extendedRcode, 1); // BADVERS is 16: 1 in the OPT's upper bits, 0 in the header
  });
});
