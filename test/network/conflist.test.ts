// Configuration-list semantics and plugin I/O with fake plugins (small Node scripts in a temp
// CNI_PATH), so the ordering, prevResult and error handling are checked without root.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addNetworkList,
  buildPluginConfig,
  checkNetworkList,
  CniError,
  delNetworkList,
  execPlugin,
  parseIpv4Cidr,
  parseResult,
  podAddress,
  podNetnsName,
  podNetworkConfigList,
  type CniResult,
  type NetworkConfigList,
} from '../../src/network/index.ts';

// Logs each call as a JSON line; ADD appends an interface named after itself to prevResult.
const FAKE_PLUGIN = `#!/usr/bin/env node
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
const config = JSON.parse(input);
const env = {};
for (const k of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH', 'CNI_ARGS']) env[k] = process.env[k];
fs.appendFileSync(process.env.FAKE_LOG || config.log, JSON.stringify({ type: config.type, env, config }) + '\\n');
if (config.sleepMs) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, config.sleepMs); }
if (config.fail) {
  process.stdout.write(JSON.stringify({ cniVersion: config.cniVersion, code: 7, msg: 'bad thing', details: 'more about it' }));
  process.exit(1);
}
if (config.crash) { process.stderr.write('panic: boom\\n'); process.exit(2); }
if (process.env.CNI_COMMAND === 'ADD') {
  const prev = config.prevResult || { cniVersion: config.cniVersion, interfaces: [], ips: [] };
  prev.interfaces = [...prev.interfaces, { name: config.type }];
  if (!config.prevResult) prev.ips = [{ address: '10.9.0.5/24', gateway: '10.9.0.1', interface: 0 }];
  process.stdout.write(JSON.stringify(prev));
}
`;

let dir = '';
let log = '';

async function calls(): Promise<Array<{ type: string; env: Record<string, string>; config: Record<string, unknown> }>> {
  const text = await readFile(log, 'utf8').catch(() => '');
  await writeFile(log, '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; env: Record<string, string>; config: Record<string, unknown> });
}

function list(extra: Record<string, Record<string, unknown>> = {}): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: 'testnet',
    plugins: [
      { type: 'fake-a', log, ...extra['fake-a'] },
      { type: 'fake-b', log, capabilities: { portMappings: true }, ...extra['fake-b'] },
      { type: 'fake-c', log, ...extra['fake-c'] },
    ],
  };
}

const rt = { containerId: 'pod1', netns: '/run/netns/nothing', ifName: 'eth0', args: { K8S_POD_NAME: 'p', IgnoreUnknown: '1' }, capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }], other: 1 } };

describe('CNI configuration lists with fake plugins', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bramble-cni-fake-'));
    log = join(dir, 'calls.jsonl');
    for (const name of ['fake-a', 'fake-b', 'fake-c']) {
      await writeFile(join(dir, name), FAKE_PLUGIN);
      await chmod(join(dir, name), 0o755);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('ADD runs plugins in order, passing name, cniVersion, prevResult and capability args', async () => {
    const result = await addNetworkList(list(), rt, { cniPath: `/nonexistent:${dir}` });
    assert.deepEqual(result.interfaces?.map((i) => i.name), ['fake-a', 'fake-b', 'fake-c']);
    const seen = await calls();
    assert.deepEqual(seen.map((c) => c.type), ['fake-a', 'fake-b', 'fake-c']);
    for (const c of seen) {
      assert.equal(c.config['name'], 'testnet');
      assert.equal(c.config['cniVersion'], '1.0.0');
      assert.equal(c.env['CNI_COMMAND'], 'ADD');
      assert.equal(c.env['CNI_CONTAINERID'], 'pod1');
      assert.equal(c.env['CNI_NETNS'], '/run/netns/nothing');
      assert.equal(c.env['CNI_IFNAME'], 'eth0');
      assert.equal(c.env['CNI_PATH'], `/nonexistent:${dir}`);
      assert.equal(c.env['CNI_ARGS'], 'K8S_POD_NAME=p;IgnoreUnknown=1');
    }
    assert.equal(seen[0]?.config['prevResult'], undefined);
    assert.deepEqual((seen[1]?.config['prevResult'] as CniResult).interfaces, [{ name: 'fake-a' }]);
    // Only the plugin that declares the capability gets it, and only that capability.
    assert.equal(seen[0]?.config['runtimeConfig'], undefined);
    assert.deepEqual(seen[1]?.config['runtimeConfig'], { portMappings: rt.capabilityArgs.portMappings });
  });

  test('DEL runs in reverse order and CHECK in order, both with the cached result', async () => {
    const cached = await addNetworkList(list(), rt, { cniPath: dir });
    await calls();
    await delNetworkList(list(), rt, cached, { cniPath: dir });
    const dels = await calls();
    assert.deepEqual(dels.map((c) => `${c.env['CNI_COMMAND']} ${c.type}`), ['DEL fake-c', 'DEL fake-b', 'DEL fake-a']);
    for (const c of dels) assert.deepEqual(c.config['prevResult'], cached);
    await checkNetworkList(list(), rt, cached, { cniPath: dir });
    const checks = await calls();
    assert.deepEqual(checks.map((c) => `${c.env['CNI_COMMAND']} ${c.type}`), ['CHECK fake-a', 'CHECK fake-b', 'CHECK fake-c']);
    for (const c of checks) assert.deepEqual(c.config['prevResult'], cached);
    await checkNetworkList({ ...list(), disableCheck: true }, rt, cached, { cniPath: dir });
    assert.deepEqual(await calls(), []);
    await assert.rejects(checkNetworkList({ ...list(), cniVersion: '0.3.1' }, rt, cached, { cniPath: dir }), /CHECK needs 0.4.0/);
  });

  test('a CNI error object becomes a CniError with the plugin, code, msg and details', async () => {
    await assert.rejects(addNetworkList(list({ 'fake-b': { fail: true } }), rt, { cniPath: dir }), (error: unknown) => {
      assert.ok(error instanceof CniError);
      assert.equal(error.code, 'E_CNI');
      assert.equal(error.plugin, 'fake-b');
      assert.equal(error.command, 'ADD');
      assert.equal(error.cniCode, 7);
      assert.equal(error.cniMsg, 'bad thing');
      assert.equal(error.cniDetails, 'more about it');
      assert.equal(error.message, 'CNI ADD of plugin "fake-b" in network "testnet" for container pod1 failed: bad thing (more about it) [CNI error 7: invalid network config]');
      return true;
    });
    // The chain stops at the failing plugin.
    assert.deepEqual((await calls()).map((c) => c.type), ['fake-a', 'fake-b']);
  });

  test('a crash without an error object reports the exit status and stderr; a hang is killed', async () => {
    await assert.rejects(addNetworkList(list({ 'fake-a': { crash: true } }), rt, { cniPath: dir }), /plugin "fake-a".* failed with exit status 2: panic: boom/);
    const started = Date.now();
    await assert.rejects(addNetworkList(list({ 'fake-a': { sleepMs: 5000 } }), rt, { cniPath: dir, timeoutMs: 300 }), /plugin "fake-a".*timed out after 300 ms/);
    assert.ok(Date.now() - started < 3000);
    await calls();
  });

  test('a missing plugin binary is named with the search path', async () => {
    await assert.rejects(
      execPlugin({ command: 'ADD', config: { type: 'nope', cniVersion: '1.0.0', name: 'n' }, containerId: 'c', netns: '', ifName: 'eth0', cniPath: dir, network: 'n' }),
      (error: unknown) => error instanceof CniError && error.plugin === 'nope' && error.message.startsWith(`CNI plugin "nope" not found in CNI_PATH ${dir} (network "n")`),
    );
  });
});

describe('network config and results', () => {
  test('buildPluginConfig replaces stale prevResult and runtimeConfig from the list', () => {
    const l: NetworkConfigList = { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'x', prevResult: 'stale', runtimeConfig: 'stale' }] };
    assert.deepEqual(buildPluginConfig(l, l.plugins[0]!, undefined, undefined), { type: 'x', name: 'n', cniVersion: '1.0.0' });
  });

  test('parseIpv4Cidr normalises and finds the gateway; bad input is explained', () => {
    assert.deepEqual(parseIpv4Cidr('10.42.3.77/24'), { network: '10.42.3.0', prefix: 24, gateway: '10.42.3.1', cidr: '10.42.3.0/24' });
    assert.equal(parseIpv4Cidr('10.42.0.0/16').gateway, '10.42.0.1');
    for (const bad of ['10.42.0.0', '10.42.0.0/33', '10.42.0/24', '300.1.1.1/24', 'fd00::/64', '10.42.0.0/31']) {
      assert.throws(() => parseIpv4Cidr(bad), /is not an IPv4 CIDR/);
    }
  });

  test('the pod network list: bridge bramble0 with host-local, portmap, loopback', () => {
    const l = podNetworkConfigList({ ipamDataDir: '/data/cni/ipam', podCidr: '10.42.7.0/24' });
    assert.equal(l.cniVersion, '1.0.0');
    assert.deepEqual(l.plugins.map((p) => p.type), ['bridge', 'portmap', 'loopback']);
    const bridge = l.plugins[0]!;
    assert.equal(bridge['bridge'], 'bramble0');
    assert.equal(bridge['isGateway'], true);
    assert.equal(bridge['ipMasq'], false, 'one masquerade chain for all pods (ensurePodMasquerade), not rules per pod');
    assert.equal(podNetworkConfigList({ ipamDataDir: '/d', ipMasq: true }).plugins[0]!['ipMasq'], true);
    assert.equal(bridge['hairpinMode'], true);
    assert.deepEqual(bridge['ipam'], {
      type: 'host-local',
      ranges: [[{ subnet: '10.42.7.0/24', gateway: '10.42.7.1' }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: '/data/cni/ipam',
    });
    assert.deepEqual(l.plugins[1]?.capabilities, { portMappings: true });
    assert.throws(() => podNetworkConfigList({ ipamDataDir: '/x', bridge: 'a-very-long-bridge-name' }), /not a valid Linux interface name/);
  });

  test('podAddress picks the IP of the interface inside the sandbox', () => {
    const result = parseResult(
      JSON.stringify({
        cniVersion: '1.0.0',
        interfaces: [{ name: 'bramble0', mac: 'aa' }, { name: 'veth1', mac: 'bb' }, { name: 'eth0', mac: 'cc', sandbox: '/run/netns/p' }],
        ips: [{ address: '10.42.0.9/24', gateway: '10.42.0.1', interface: 2 }],
      }),
      'bridge',
    );
    assert.deepEqual(podAddress(result), { ip: '10.42.0.9', prefixLength: 24, gateway: '10.42.0.1', mac: 'cc', hostInterface: 'veth1' });
    assert.throws(() => parseResult('{"ips":[]}', 'bridge'), /plugin "bridge" printed an invalid result \(no cniVersion\)/);
    assert.throws(() => podAddress({ cniVersion: '1.0.0', ips: [] }), /no IPv4 address/);
  });

  test('podNetnsName is short, stable and differs per node and pod', () => {
    const a = podNetnsName('gw1', '6f1c2d3e-aaaa-bbbb-cccc-1234567890ab');
    assert.match(a, /^bramble-[0-9a-f]{6}-6f1c2d3eaaaa$/);
    assert.equal(a, podNetnsName('gw1', '6f1c2d3e-aaaa-bbbb-cccc-1234567890ab'));
    assert.notEqual(a, podNetnsName('gw2', '6f1c2d3e-aaaa-bbbb-cccc-1234567890ab'));
    assert.ok(a.length <= 28);
  });
});
