// `bramble server` options: defaults from the profile and the hostname, and every refusal
// names the flag.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import {
  parseHostPort,
  parseLabels,
  parseServerFlags,
  parseServerOptions,
  type ServerDefaults,
} from '../../src/config/server-options.ts';
import { UsageError } from '../../src/errors.ts';
import { validateProfile, type Profile } from '../../src/host/index.ts';

let profile: Profile;
let defaults: ServerDefaults;

before(async () => {
  const text = await readFile(new URL('../../firmware-configs/raspberry-pi-4.json', import.meta.url), 'utf8');
  profile = validateProfile(JSON.parse(text), 'firmware-configs/raspberry-pi-4.json');
  defaults = { hostname: 'gw-1', cwd: '/home/pi', profile };
});

function refusal(argv: string[], overrides: Partial<ServerDefaults> = {}): string {
  try {
    parseServerOptions(argv, { ...defaults, ...overrides });
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.match(error.message, /^bramble server: /);
    return error.message;
  }
  assert.fail(`accepted: ${argv.join(' ')}`);
}

describe('server options: defaults', () => {
  test('come from the hostname and the board profile', () => {
    assert.deepEqual(parseServerOptions([], defaults), {
      name: 'gw-1',
      dataDir: '/var/lib/bramble',
      board: 'auto',
      configDir: undefined,
      apiAddr: { host: '127.0.0.1', port: 7080 },
      peerAddr: { host: '0.0.0.0', port: 7081 },
      join: undefined,
      token: undefined,
      labels: {},
      logLevel: 'info',
      heartbeatIntervalMillis: profile.timing.heartbeatIntervalMillis,
      nodeGraceMillis: profile.timing.nodeGraceMillis,
      evictionTimeoutMillis: profile.timing.evictionTimeoutMillis,
      containerdSocket: undefined,
      disableAgent: false,
      podCidr: undefined,
      dnsAddr: undefined,
      clusterDomain: 'cluster.local',
      dnsUpstreams: undefined,
    });
  });

  test('the default name is the first label of the hostname, lowercased', () => {
    assert.equal(parseServerOptions([], { ...defaults, hostname: 'Gateway-7.example.org' }).name, 'gateway-7');
  });

  test('a hostname that makes no valid name asks for --name', () => {
    assert.match(refusal([], { hostname: 'my_box' }), /--name: not given, and the hostname "my_box" does not make a DNS-1123 label; pass --name NAME/);
    assert.equal(parseServerOptions(['--name', 'ok'], { ...defaults, hostname: 'my_box' }).name, 'ok');
  });
});

describe('server options: flags', () => {
  test('every flag reaches the options', () => {
    const options = parseServerOptions(
      [
        '--name', 'g2', '--data-dir', 'state', '--board', 'raspberry-pi-4', '--config-dir', '/etc/bramble/boards',
        '--api-addr', '192.168.77.2:7080', '--peer-addr=[::1]:7081', '--join', 'http://192.168.77.1:7081/',
        '--token', 'secret', '--labels', 'topology.kubernetes.io/zone=z2,role=edge', '--log-level', 'debug',
        '--heartbeat-interval', '500ms', '--node-grace', '3s', '--eviction-timeout', '1m',
      ],
      defaults,
    );
    assert.deepEqual(options, {
      name: 'g2',
      dataDir: '/home/pi/state',
      board: 'raspberry-pi-4',
      configDir: '/etc/bramble/boards',
      apiAddr: { host: '192.168.77.2', port: 7080 },
      peerAddr: { host: '::1', port: 7081 },
      join: 'http://192.168.77.1:7081',
      token: 'secret',
      labels: { 'topology.kubernetes.io/zone': 'z2', role: 'edge' },
      logLevel: 'debug',
      heartbeatIntervalMillis: 500,
      nodeGraceMillis: 3000,
      evictionTimeoutMillis: 60_000,
      containerdSocket: undefined,
      disableAgent: false,
      podCidr: undefined,
      dnsAddr: undefined,
      clusterDomain: 'cluster.local',
      dnsUpstreams: undefined,
    });
  });

  test('short aliases -n and -d', () => {
    const options = parseServerOptions(['--name', 'a1', '-d', '/tmp/a1'], defaults);
    assert.equal(options.name, 'a1');
    assert.equal(options.dataDir, '/tmp/a1');
  });

  test('--help is reported, not parsed further', () => {
    assert.equal(parseServerFlags(['--name', 'BAD', '--help']).help, true);
  });
});

describe('server options: refusals name the flag', () => {
  test('a name that is not a DNS-1123 label', () => {
    for (const name of ['Gw1', 'gw_1', '-gw', 'gw-', 'a'.repeat(64), '']) {
      assert.match(refusal([`--name=${name}`]), /--name: .* is not a DNS-1123 label/, name);
    }
  });

  test('addresses without a port or with one out of range', () => {
    assert.match(refusal(['--api-addr', '127.0.0.1']), /--api-addr: expected HOST:PORT with a port from 1 to 65535, got "127\.0\.0\.1"/);
    assert.match(refusal(['--api-addr', '127.0.0.1:0']), /--api-addr: expected HOST:PORT/);
    assert.match(refusal(['--peer-addr', '0.0.0.0:65536']), /--peer-addr: expected HOST:PORT .*got "0\.0\.0\.0:65536"/);
    assert.match(refusal(['--peer-addr', ':7081']), /--peer-addr/);
    assert.match(refusal(['--peer-addr', '::1:7081']), /--peer-addr/);
  });

  test('labels that are not k=v, have a bad key or value, or repeat a key', () => {
    assert.match(refusal(['--labels', 'zone']), /--labels: expected KEY=VALUE, got "zone"/);
    assert.match(refusal(['--labels', 'bad key=1']), /--labels: invalid key "bad key"/);
    assert.match(refusal(['--labels', 'Bad_Prefix.io/zone=1']), /--labels: invalid key "Bad_Prefix\.io\/zone"/);
    assert.match(refusal(['--labels', 'zone=a b']), /--labels: invalid value "a b" for zone/);
    assert.match(refusal(['--labels', 'zone=a', '--labels', 'zone=b']), /--labels: zone given twice/);
    assert.deepEqual(parseServerOptions(['--labels', 'empty='], defaults).labels, { empty: '' });
  });

  test('--join needs a valid http(s) URL and a token', () => {
    assert.match(refusal(['--join', 'http://10.0.0.1:7081']), /--join needs --token/);
    assert.match(refusal(['--join', 'not a url', '--token', 't']), /--join: expected a URL such as http:\/\/10\.0\.0\.1:7081, got "not a url"/);
    assert.match(refusal(['--join', 'ftp://10.0.0.1', '--token', 't']), /--join: expected an http:\/\/ or https:\/\/ URL/);
  });

  test('an unknown log level', () => {
    assert.match(refusal(['--log-level', 'verbose']), /--log-level: expected one of debug, info, warn, error, got "verbose"/);
  });

  test('durations that are zero or that make the grace shorter than the heartbeat', () => {
    assert.match(refusal(['--heartbeat-interval', '0s']), /--heartbeat-interval: must be longer than 0/);
    assert.match(refusal(['--node-grace', '500ms']), /--node-grace \(500ms\) must be longer than --heartbeat-interval \(1000ms\)/);
    assert.match(refusal(['--heartbeat-interval', '10s']), /--node-grace \(5000ms\) must be longer than --heartbeat-interval \(10000ms\)/);
    assert.match(refusal(['--node-grace', 'soon']), /flag --node-grace: expected a duration/);
  });

  test('the node flags: --containerd-socket, --disable-agent, --pod-cidr', () => {
    const options = parseServerOptions(['--containerd-socket', '/run/containerd/containerd.sock', '--pod-cidr', '10.42.3.0/24'], defaults);
    assert.equal(options.containerdSocket, '/run/containerd/containerd.sock');
    assert.equal(options.podCidr, '10.42.3.0/24');
    assert.equal(options.disableAgent, false);
    assert.equal(parseServerOptions(['--disable-agent'], defaults).disableAgent, true);
    // Without --pod-cidr the cluster assigns one at join (no shared default for every gateway).
    assert.equal(parseServerOptions([], defaults).podCidr, undefined);
    assert.match(refusal(['--pod-cidr', '10.42.0.7/24']), /not a network address/);
    assert.match(refusal(['--pod-cidr', '10.42.0.0/8']), /--pod-cidr: expected an IPv4 CIDR/);
    assert.match(refusal(['--containerd-socket', 'rel.sock']), /absolute path/);
    assert.match(refusal(['--containerd-socket', '/x.sock', '--disable-agent']), /one or the other/);
  });

  test('unknown flags and stray arguments', () => {
    assert.match(refusal(['--bogus']), /unknown flag --bogus/);
    assert.match(refusal(['start']), /unexpected argument "start"/);
  });
});

describe('helpers', () => {
  test('parseHostPort', () => {
    assert.deepEqual(parseHostPort('localhost:80', '--x'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseHostPort('[fe80::1]:65535', '--x'), { host: 'fe80::1', port: 65535 });
    assert.throws(() => parseHostPort('host:http', '--x'), /--x: expected HOST:PORT/);
  });

  test('parseLabels', () => {
    assert.deepEqual(parseLabels(['a=1', 'example.com/b=x.y_z-2']), { a: '1', 'example.com/b': 'x.y_z-2' });
    assert.throws(() => parseLabels(['=1']), /invalid key ""/);
  });
});

test('DNS flags need a gateway that runs pods', () => {
  assert.throws(() => parseServerFlags(['--disable-agent', '--dns-addr', '127.0.0.1:5353']), /--dns-addr and --dns-upstream .* --disable-agent/);
});
