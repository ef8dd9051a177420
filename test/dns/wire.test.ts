// The hand-written question parser and the byte edits on cached answers, and the option parsers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceFilter } from '../../src/dns/access.ts';
import { defaultAllowFrom, parseClusterDomain, parseDnsAddr, parseDnsUpstreams, parseUpstream } from '../../src/dns/options.ts';
import { parseResolvConf, readResolvConfUpstreams } from '../../src/dns/resolv-conf.ts';
import { isQuery, parseQuery, recordLayout } from '../../src/dns/wire.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from './helpers.ts';

describe('parseQuery', () => {
  it('reads the ID, type, EDNS size and a lowercased key', () => {
    const q = parseQuery(query('Web.Default.SVC.cluster.local', 'SRV', { id: 513, edns: 1400 }));
    assert.ok(isQuery(q));
    assert.equal(q.id, 513);
    assert.equal(q.qtype, 33);
    assert.equal(q.edns, true);
    assert.equal(q.udpSize, 1400);
    const lower = parseQuery(query('web.default.svc.cluster.local', 'SRV'));
    assert.ok(isQuery(lower));
    assert.equal(q.key, lower.key);
    assert.notEqual(q.key, (parseQuery(query('web.default.svc.cluster.local', 'A')) as { key: string }).key);
  });

  it('refuses every cut of a valid query without reading past its end', () => {
    const full = query('web.default.svc.cluster.local', 'A', { edns: 1232 });
    for (let length = 0; length < full.length; length++) {
      const r = parseQuery(full.subarray(0, length));
      // Shorter than the question: never a query. Cut inside the OPT record: FORMERR, not a crash.
      if (length < 12 + 31 + 4) assert.equal(isQuery(r), false, `length ${length}`);
    }
  });

  it('answers FORMERR to a label over 63 bytes and to a compression pointer in the question', () => {
    const long = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64]), Buffer.alloc(64, 0x61), Buffer.from([0, 0, 1, 0, 1])]);
    assert.deepEqual(parseQuery(long), { drop: false, rcode: 1 });
    const pointer = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    assert.deepEqual(parseQuery(pointer), { drop: false, rcode: 1 });
  });

  it('walks an answer\'s records and refuses one whose lengths run past the end', () => {
    const layout = recordLayout(Buffer.from('000081800001000100000000' + '0161000001' + '0001' + 'c00c000100010000003c000401020304', 'hex'));
    assert.ok(layout);
    assert.deepEqual(layout.ttlOffsets, [12 + 7 + 6]);
    assert.equal(layout.ttlMin, 60);
    assert.equal(recordLayout(Buffer.from('000081800001000100000000' + '0161000001' + '0001' + 'c00c000100010000003c0008', 'hex')), null);
  });
});

describe('DNS options', () => {
  it('parses --dns-addr, --cluster-domain and --dns-upstream, refusing bad values with the flag named', () => {
    assert.deepEqual(parseDnsAddr('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseDnsAddr('[::1]:53'), { host: '::1', port: 53 });
    assert.throws(() => parseDnsAddr('localhost:53'), /--dns-addr: expected IP:PORT/);
    assert.throws(() => parseDnsAddr('10.0.0.1:70000'), /--dns-addr/);
    assert.equal(parseClusterDomain('Cluster.Local.'), 'cluster.local');
    assert.throws(() => parseClusterDomain('bad_domain'), /--cluster-domain/);
    assert.deepEqual(parseUpstream('1.1.1.1'), { host: '1.1.1.1', port: 53 });
    assert.deepEqual(parseUpstream('192.168.1.1:5353'), { host: '192.168.1.1', port: 5353 });
    assert.deepEqual(parseUpstream('[2001:db8::1]:54'), { host: '2001:db8::1', port: 54 });
    assert.deepEqual(parseUpstream('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(parseDnsUpstreams(['1.1.1.1', '9.9.9.9:5353']), ['1.1.1.1:53', '9.9.9.9:5353']);
    assert.equal(parseDnsUpstreams(undefined), undefined);
    assert.throws(() => parseDnsUpstreams(['dns.google']), /--dns-upstream: expected IP\[:PORT\]/);
  });

  it('allows loopback, the cluster DNS address, the pod network and the node\'s addresses, and nothing else', () => {
    const filter = new SourceFilter(defaultAllowFrom({ podCidr: '10.42.3.0/24', nodeAddresses: ['192.168.1.10'] }));
    // 10.43.0.10: the gateway asking 10.43.0.10 itself sends from that address.
    for (const a of ['127.0.0.1', '127.8.8.8', '::1', '10.43.0.10', '10.42.200.1', '192.168.1.10', '::ffff:10.42.0.5']) assert.equal(filter.allows(a), true, a);
    for (const a of ['192.168.1.11', '8.8.8.8', '10.43.0.1', '2001:db8::1']) assert.equal(filter.allows(a), false, a);
    assert.throws(() => new SourceFilter(['10.0.0.0/33']), /allowFrom: "10.0.0.0\/33"/);
    // The node's address changed: the new one may ask from then on (the decision is not cached).
    filter.allow('192.168.1.11');
    assert.equal(filter.allows('192.168.1.11'), true);
  });

  it('reads upstreams from resolv.conf, skipping a loopback address that is our own', async () => {
    assert.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.2\nsearch x\nnameserver fe80::1%eth0\nnameserver bogus\n'), ['10.0.0.2', 'fe80::1']);
    const dir = mkdtempSync(join(tmpdir(), 'bramble-dns-'));
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, 'nameserver 127.0.0.1\nnameserver 10.0.0.2\n');
    assert.deepEqual(await readResolvConfUpstreams(path, [{ host: '127.0.0.1', port: 53 }]), [{ host: '10.0.0.2', port: 53 }]);
    assert.deepEqual(await readResolvConfUpstreams(path, [{ host: '127.0.0.1', port: 5353 }]), [{ host: '127.0.0.1', port: 53 }, { host: '10.0.0.2', port: 53 }]);
    assert.deepEqual(await readResolvConfUpstreams(join(dir, 'missing'), []), []);
  });
});
