// The agent's pure pieces, table-driven: $(VAR) expansion and env resolution, the files of
// /etc, the crash-loop back-off schedule, the probe state machine on a fake clock, the pod
// status (phase, conditions, transition times), volume projection, and the work queue.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CrashBackoff } from '../../src/agent/backoff.ts';
import { EnvError, expand, expandArgs, podField, resolveEnv, resourceValue, serviceEnv, type EnvSources } from '../../src/agent/env.ts';
import { parseResolvConf, podHostname, renderHosts, renderResolvConf, resolvFor } from '../../src/agent/pod-files.ts';
import { ProbeTracker, ProbeWorker, probeTiming } from '../../src/agent/probes.ts';
import { buildPodStatus, podPhase, qosClass, type ContainerView, type PodView } from '../../src/agent/status.ts';
import { checkHostPath, projectKeys, VolumeError, writeAtomic } from '../../src/agent/volumes.ts';
import { WorkQueue } from '../../src/agent/work-queue.ts';
import { FakeClock, settle } from './fakes.ts';

describe('$(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'a', B: 'b', EMPTY: '' };
  const lookup = (n: string) => vars[n];
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['$(A)', 'a'],
    ['x$(A)y$(B)z', 'xaybz'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$$', '$'],
    ['$(A', '$(A'],
    ['$A', '$A'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$(EMPTY)x', 'x'],
    ['$()', '$()'],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => assert.equal(expand(input, lookup), want));
});

describe('env resolution', () => {
  const sources = (over: Partial<EnvSources> = {}): EnvSources => ({
    configMap: (name) => (name === 'cm' ? { HOST: 'db', PORT: '5432', 'bad-key!': 'x' } : undefined),
    secret: (name) => (name === 's' ? { PASSWORD: 'hunter2' } : undefined),
    field: (path) => podField({ metadata: { name: 'web-1', namespace: 'prod', uid: 'u-1', labels: { app: 'web' } }, spec: { nodeName: 'gw1' } }, '10.42.0.7', '192.168.1.5', path),
    container: () => undefined,
    allocatable: { cpu: 3.5, memory: 3 * 2 ** 30 },
    serviceEnv: {},
    ...over,
  });

  it('orders envFrom, then env; later wins; $(VAR) sees only what came before', () => {
    const { env, skipped } = resolveEnv(
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'cm' } }, { prefix: 'S_', secretRef: { name: 's' } }],
        env: [
          { name: 'URL', value: 'postgres://$(HOST):$(PORT)/$(LATER)' },
          { name: 'LATER', value: 'x' },
          { name: 'PORT', value: '6543' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'PASSWORD' } } },
        ],
      },
      sources(),
    );
    assert.equal(env['URL'], 'postgres://db:5432/$(LATER)');
    assert.equal(env['PORT'], '6543');
    assert.equal(env['S_PASSWORD'], 'hunter2');
    assert.equal(env['POD'], 'web-1');
    assert.equal(env['IP'], '10.42.0.7');
    assert.equal(env['APP'], 'web');
    assert.equal(env['PW'], 'hunter2');
    assert.deepEqual(skipped, ['bad-key!']);
  });

  const errors: [string, Parameters<typeof resolveEnv>[0], RegExp][] = [
    ['missing configmap', { name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }, /configmap "nope" not found/],
    ['missing secret', { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, /secret "nope" not found/],
    ['missing key', { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'NOPE' } } }] }, /couldn't find key NOPE in ConfigMap cm/],
    ['unknown field', { name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nothing' } } }] }, /fieldRef "spec.nothing" is not supported/],
  ];
  for (const [what, container, pattern] of errors) {
    it(`refuses a ${what} with a clear message`, () => assert.throws(() => resolveEnv(container, sources()), (e: unknown) => e instanceof EnvError && pattern.test(e.message)));
  }

  it('skips optional references to nothing', () => {
    const { env } = resolveEnv(
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'NOPE', optional: true } } }],
      },
      sources(),
    );
    assert.equal('X' in env, false);
  });

  const resources: [string, string | undefined, Record<string, string>, string][] = [
    ['limits.memory', undefined, { memory: '128Mi' }, String(128 * 2 ** 20)],
    ['limits.memory', '1Mi', { memory: '128Mi' }, '128'],
    ['limits.cpu', undefined, { cpu: '250m' }, '1'],
    ['limits.cpu', '1m', { cpu: '250m' }, '250'],
    ['limits.cpu', undefined, {}, '4'],
    ['limits.memory', '1Gi', {}, '3'],
  ];
  for (const [resource, divisor, limits, want] of resources) {
    it(`resourceFieldRef ${resource} / ${divisor ?? '1'} with limits ${JSON.stringify(limits)} → ${want}`, () => {
      assert.equal(resourceValue(resource, { name: 'c', resources: { limits } }, divisor, { cpu: 3.5, memory: 3 * 2 ** 30 }), want);
    });
  }

  it('expands command and args against the final environment', () => {
    assert.deepEqual(expandArgs(['echo', '$(A)', '$$(A)', '$(B)'], { A: '1' }), ['echo', '1', '$(A)', '$(B)']);
    assert.equal(expandArgs(undefined, {}), undefined);
  });

  it('gives Service variables the docker-link shape', () => {
    const env = serviceEnv([{ name: 'redis-master', clusterIP: '10.43.0.11', ports: [{ port: 6379, name: 'redis' }] }, { name: 'headless', clusterIP: 'None', ports: [{ port: 1 }] }]);
    assert.equal(env['REDIS_MASTER_SERVICE_HOST'], '10.43.0.11');
    assert.equal(env['REDIS_MASTER_SERVICE_PORT'], '6379');
    assert.equal(env['REDIS_MASTER_SERVICE_PORT_REDIS'], '6379');
    assert.equal(env['REDIS_MASTER_PORT_6379_TCP_ADDR'], '10.43.0.11');
    assert.equal(env['HEADLESS_SERVICE_HOST'], undefined);
  });
});

describe('/etc files', () => {
  it('renders /etc/hosts with the pod address, subdomain and host aliases', () => {
    const text = renderHosts({ podIP: '10.42.0.5', hostname: 'web-0', subdomain: 'web', namespace: 'prod', hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] });
    assert.match(text, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(text, /\n10\.42\.0\.5\tweb-0\.web\.prod\.svc\.cluster\.local\tweb-0\n/);
    assert.match(text, /# Entries added by HostAliases\.\n1\.2\.3\.4\ta\tb\n$/);
    assert.match(renderHosts({ podIP: '10.42.0.6', hostname: 'p', namespace: 'd' }), /\n10\.42\.0\.6\tp\n$/);
  });

  const host = 'search lan\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0\n';
  const cases: [string, Parameters<typeof resolvFor>[0], string][] = [
    ['ClusterFirst', { namespace: 'prod', hostResolvConf: host }, 'search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n'],
    ['Default', { namespace: 'prod', dnsPolicy: 'Default', hostResolvConf: host }, 'search lan\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0\n'],
    ['ClusterFirst on the host network', { namespace: 'prod', hostNetwork: true, hostResolvConf: host }, 'search lan\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0\n'],
    [
      'None with dnsConfig',
      { namespace: 'prod', dnsPolicy: 'None', hostResolvConf: host, dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.y'], options: [{ name: 'ndots', value: '2' }] } },
      'search x.y\nnameserver 9.9.9.9\noptions ndots:2\n',
    ],
    [
      'ClusterFirst with dnsConfig merged',
      { namespace: 'a', hostResolvConf: host, dnsConfig: { searches: ['extra'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] } },
      'search a.svc.cluster.local svc.cluster.local cluster.local extra\nnameserver 10.43.0.10\noptions ndots:1 single-request\n',
    ],
  ];
  for (const [what, input, want] of cases) it(`renders resolv.conf for ${what}`, () => assert.equal(renderResolvConf(resolvFor(input)), want));

  it('parses resolv.conf comments and options', () => {
    assert.deepEqual(parseResolvConf('# c\nnameserver 1.1.1.1 # x\noptions ndots:2 rotate\n'), { nameservers: ['1.1.1.1'], searches: [], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] });
  });

  it('uses spec.hostname or the pod name, cut to 63', () => {
    assert.equal(podHostname('web', undefined), 'web');
    assert.equal(podHostname('web', 'h'), 'h');
    assert.equal(podHostname('a'.repeat(70), undefined).length, 63);
  });
});

describe('crash-loop back-off', () => {
  it('restarts at once, then waits 10 s, 20 s, ... 300 s from each exit, and resets after 10 min of running', () => {
    const b = new CrashBackoff();
    let t = 0;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      t += 1000; // each run lasts a second
      const wait = b.remainingMs('k', t, t);
      waits.push(wait);
      b.next('k', t);
      t += wait;
    }
    assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    // A run of more than 10 minutes: the next exit restarts at once, and the delay starts over.
    t += 11 * 60_000;
    assert.equal(b.remainingMs('k', t, t), 0);
    b.next('k', t);
    assert.equal(b.delayMs('k'), 10_000);
  });

  it('counts the wait from the exit, not from when the agent looks', () => {
    const b = new CrashBackoff();
    b.next('k', 0);
    assert.equal(b.remainingMs('k', 5000, 9000), 6000);
    assert.equal(b.remainingMs('k', 5000, 20_000), 0);
    b.forgetPrefix('k');
    assert.equal(b.remainingMs('k', 5000, 5000), 0);
  });
});

describe('probes', () => {
  it('applies success and failure thresholds', () => {
    const t = new ProbeTracker('readiness', { successThreshold: 2, failureThreshold: 3 });
    const steps: [boolean, string, boolean][] = [
      [true, 'failure', false],
      [true, 'success', true],
      [false, 'success', false],
      [false, 'success', false],
      [true, 'success', false],
      [false, 'success', false],
      [false, 'success', false],
      [false, 'failure', true],
    ];
    for (const [ok, want, changed] of steps) {
      assert.equal(t.record(ok), changed);
      assert.equal(t.result, want);
    }
  });

  it('uses Kubernetes defaults', () => {
    assert.deepEqual(probeTiming({}, 'liveness'), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
    assert.equal(probeTiming({ successThreshold: 3 }, 'liveness').successThreshold, 1);
    assert.equal(probeTiming({ successThreshold: 3 }, 'readiness').successThreshold, 3);
  });

  it('waits initialDelaySeconds, probes every period, reports only changes, stops when told', async () => {
    const clock = new FakeClock(0);
    const results: boolean[] = [true, false, false, true];
    const at: number[] = [];
    const changes: string[] = [];
    const w = new ProbeWorker({
      kind: 'liveness',
      timing: probeTiming({ initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 2 }, 'liveness'),
      clock,
      startedAtMs: 0,
      run: async () => {
        at.push(clock.now());
        return { ok: results.shift() ?? true, message: 'm' };
      },
      gate: () => true,
      onChange: (r) => changes.push(r),
    });
    await clock.advance(4000);
    assert.deepEqual(at, []);
    await clock.advance(7000);
    assert.deepEqual(at, [5000, 7000, 9000, 11_000]);
    assert.deepEqual(changes, ['failure', 'success']);
    w.stop();
    await clock.advance(10_000);
    assert.equal(at.length, 4);
  });

  it('holds liveness back until the startup probe has succeeded', async () => {
    const clock = new FakeClock(0);
    let started = false;
    let runs = 0;
    const w = new ProbeWorker({ kind: 'liveness', timing: probeTiming({ periodSeconds: 1 }, 'liveness'), clock, startedAtMs: 0, run: async () => (runs++, { ok: true, message: '' }), gate: () => started, onChange: () => undefined });
    await clock.advance(3000);
    assert.equal(runs, 0);
    started = true;
    await clock.advance(2000);
    assert.equal(runs, 2);
    w.stop();
  });
});

describe('pod status', () => {
  const running = (name: string, ready = true): ContainerView => ({ name, image: 'i', state: { running: { startedAt: 't' } }, ready, started: true, restartCount: 0 });
  const exited = (name: string, exitCode: number): ContainerView => ({ name, image: 'i', state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', finishedAt: 't' } }, ready: false, started: false, restartCount: 0 });
  const waiting = (name: string, last?: number): ContainerView => ({ name, image: 'i', state: { waiting: { reason: 'CrashLoopBackOff' } }, ready: false, started: false, restartCount: 1, ...(last !== undefined ? { lastState: { exitCode: last, reason: 'Error', finishedAt: 't' } } : {}) });
  const view = (over: Partial<PodView>): PodView => ({ restartPolicy: 'Always', init: [], containers: [], podIP: '10.42.0.2', hostIP: '192.168.1.5', startTime: 't0', qosClass: 'BestEffort', ...over });

  const phases: [string, Partial<PodView>, string][] = [
    ['all running', { containers: [running('a'), running('b')] }, 'Running'],
    ['one not started', { containers: [running('a'), { ...waiting('b'), state: { waiting: { reason: 'ContainerCreating' } } }] }, 'Pending'],
    ['init pending', { init: [running('i')], containers: [waiting('a')] }, 'Pending'],
    ['init failed, Never', { restartPolicy: 'Never', init: [exited('i', 1)], containers: [waiting('a')] }, 'Failed'],
    ['init failed, OnFailure', { restartPolicy: 'OnFailure', init: [exited('i', 1)], containers: [waiting('a')] }, 'Pending'],
    ['crash-looping, Always', { containers: [waiting('a', 1)] }, 'Running'],
    ['all exited 0, Never', { restartPolicy: 'Never', containers: [exited('a', 0), exited('b', 0)] }, 'Succeeded'],
    ['one failed, Never', { restartPolicy: 'Never', containers: [exited('a', 0), exited('b', 2)] }, 'Failed'],
    ['one failed, OnFailure', { restartPolicy: 'OnFailure', containers: [exited('a', 0), waiting('b', 2)] }, 'Running'],
    ['exited 0, OnFailure', { restartPolicy: 'OnFailure', containers: [exited('a', 0)] }, 'Succeeded'],
    ['one running one done', { restartPolicy: 'Never', containers: [running('a'), exited('b', 0)] }, 'Running'],
    ['terminal stays terminal', { previousPhase: 'Succeeded', containers: [running('a')] }, 'Succeeded'],
    ['deadline', { failure: { reason: 'DeadlineExceeded', message: 'm' }, containers: [running('a')] }, 'Failed'],
  ];
  for (const [what, over, want] of phases) it(`phase: ${what} → ${want}`, () => assert.equal(podPhase(view(over)), want));

  it('keeps condition transition times while their status stays, and stamps changes', () => {
    const first = buildPodStatus(view({ containers: [running('a', false)] }), undefined, 'T1');
    const ready = (s: Record<string, unknown>) => (s['conditions'] as { type: string; status: string; lastTransitionTime: string }[]).find((c) => c.type === 'Ready')!;
    assert.equal(ready(first).status, 'False');
    assert.equal(ready(first).lastTransitionTime, 'T1');
    const same = buildPodStatus(view({ containers: [running('a', false)] }), first, 'T2');
    assert.deepEqual(same, first, 'no change, no new timestamps: nothing to write');
    const now = buildPodStatus(view({ containers: [running('a', true)] }), same, 'T3');
    assert.equal(ready(now).status, 'True');
    assert.equal(ready(now).lastTransitionTime, 'T3');
    const init = (now['conditions'] as { type: string; lastTransitionTime: string }[]).find((c) => c.type === 'Initialized')!;
    assert.equal(init.lastTransitionTime, 'T1');
    assert.equal(now['podIP'], '10.42.0.2');
    assert.deepEqual(now['podIPs'], [{ ip: '10.42.0.2' }]);
  });

  it('reports container IDs and the terminal Ready reason', () => {
    const s = buildPodStatus(view({ restartPolicy: 'Never', containers: [{ ...exited('a', 0), containerID: 'x_a' }] }), undefined, 'T');
    assert.equal(s['phase'], 'Succeeded');
    const cs = (s['containerStatuses'] as { containerID: string }[])[0]!;
    assert.equal(cs.containerID, 'containerd://x_a');
    assert.equal((s['conditions'] as { type: string; reason?: string }[]).find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
  });

  const qos: [unknown[], string][] = [
    [[{}], 'BestEffort'],
    [[{ resources: { limits: { cpu: '1', memory: '1Gi' } } }], 'Guaranteed'],
    [[{ resources: { requests: { cpu: '1' } } }], 'Burstable'],
    [[{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }, {}], 'Burstable'],
  ];
  for (const [containers, want] of qos) it(`qosClass ${JSON.stringify(containers)} → ${want}`, () => assert.equal(qosClass(containers as never), want));
});

describe('volumes', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'bramble-agent-vol-'));

  it('projects keys, items and modes', () => {
    const data = { a: Buffer.from('1'), b: Buffer.from('2') };
    assert.deepEqual(projectKeys('configmap', 'cm', data, undefined, undefined, false).map((f) => [f.path, f.mode]), [['a', 0o644], ['b', 0o644]]);
    assert.deepEqual(projectKeys('configmap', 'cm', data, [{ key: 'b', path: 'sub/b.txt', mode: 0o400 }], 0o600, false).map((f) => [f.path, f.mode]), [['sub/b.txt', 0o400]]);
    assert.throws(() => projectKeys('configmap', 'cm', data, [{ key: 'zz', path: 'z' }], undefined, false), /configmap "cm" has no key "zz"/);
    assert.deepEqual(projectKeys('configmap', 'cm', data, [{ key: 'zz', path: 'z' }], undefined, true), []);
    assert.throws(() => projectKeys('configmap', 'cm', data, [{ key: 'a', path: '../x' }], undefined, false), VolumeError);
  });

  it('writes atomically through ..data, updates in place, removes stale keys, skips identical payloads', () => {
    const d = dir();
    try {
      assert.equal(writeAtomic(d, [{ path: 'a', data: Buffer.from('1'), mode: 0o644 }, { path: 'sub/b', data: Buffer.from('2'), mode: 0o600 }]), true);
      assert.equal(readFileSync(join(d, 'a'), 'utf8'), '1');
      assert.equal(readFileSync(join(d, 'sub', 'b'), 'utf8'), '2');
      assert.equal(lstatSync(join(d, 'a')).isSymbolicLink(), true);
      assert.equal(statSync(join(d, 'sub', 'b')).mode & 0o777, 0o600);
      const firstTarget = readlinkSync(join(d, '..data'));
      assert.equal(writeAtomic(d, [{ path: 'a', data: Buffer.from('1'), mode: 0o644 }, { path: 'sub/b', data: Buffer.from('2'), mode: 0o600 }]), false);
      assert.equal(readlinkSync(join(d, '..data')), firstTarget);
      assert.equal(writeAtomic(d, [{ path: 'a', data: Buffer.from('changed'), mode: 0o644 }]), true);
      assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'changed');
      assert.throws(() => statSync(join(d, 'sub')), /ENOENT/);
      assert.notEqual(readlinkSync(join(d, '..data')), firstTarget);
      assert.throws(() => statSync(join(d, firstTarget)), /ENOENT/, 'the old payload is removed');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('checks hostPath types and creates the *OrCreate ones', () => {
    const d = dir();
    try {
      writeFileSync(join(d, 'file'), 'x');
      checkHostPath('v', d, 'Directory');
      checkHostPath('v', join(d, 'file'), 'File');
      checkHostPath('v', join(d, 'new-dir'), 'DirectoryOrCreate');
      assert.equal(statSync(join(d, 'new-dir')).isDirectory(), true);
      checkHostPath('v', join(d, 'new-file'), 'FileOrCreate');
      assert.equal(statSync(join(d, 'new-file')).isFile(), true);
      checkHostPath('v', join(d, 'absent'), undefined);
      const refusals: [string, string, RegExp][] = [
        [join(d, 'absent'), 'Directory', /does not exist on this gateway; hostPath type Directory needs a directory/],
        [join(d, 'file'), 'Directory', /is not a directory/],
        [d, 'File', /is not a regular file/],
        [d, 'Socket', /is not a UNIX socket/],
        [join(d, 'no', 'file'), 'FileOrCreate', /parent directory .* does not exist/],
        [join(d, 'file'), 'DirectoryOrCreate', /exists but is not a directory/],
      ];
      for (const [path, type, pattern] of refusals) assert.throws(() => checkHostPath('v', path, type as never), pattern, `${type} ${path}`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('work queue', () => {
  it('de-duplicates keys, never runs one key twice at once, re-runs a key added while running', async () => {
    const clock = new FakeClock(0);
    const running = new Set<string>();
    const log: string[] = [];
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue({
      clock,
      concurrency: 2,
      handler: async (key) => {
        assert.equal(running.has(key), false, `${key} ran twice at once`);
        running.add(key);
        log.push(key);
        await gate;
        running.delete(key);
      },
      onError: () => undefined,
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('c');
    q.add('a'); // while a runs: once more afterwards
    await settle();
    assert.deepEqual(log, ['a', 'b']);
    release();
    gate = Promise.resolve();
    await q.idle();
    assert.deepEqual(log.sort(), ['a', 'a', 'b', 'c']);
  });

  it('retries failures with a growing back-off and honours requeueAfterMs', async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    let fail = 3;
    const q = new WorkQueue({
      clock,
      concurrency: 1,
      retryBaseMs: 100,
      handler: async () => {
        at.push(clock.now());
        if (fail-- > 0) throw new Error('no');
        if (at.length === 4) return { requeueAfterMs: 5000 };
        return undefined;
      },
      onError: () => undefined,
    });
    q.add('k');
    await q.idle();
    await clock.advance(10_000);
    assert.deepEqual(at, [0, 100, 300, 700, 5700]);
    q.stop();
  });
});

describe('event recorder', () => {
  it('counts repeats within the window instead of writing them, caps bursts, and never throws when writes fail', async () => {
    const { EventRecorder } = await import('../../src/agent/events.ts');
    const { quietLogger } = await import('../store/store-helpers.ts');
    const clock = new FakeClock(0);
    const written: string[] = [];
    let fail = false;
    const api = {
      create: async (_info: unknown, _ns: unknown, object: { reason?: unknown }) => {
        if (fail) throw new Error('503 no quorum');
        written.push(String(object.reason));
        return object as never;
      },
    } as never;
    const events = new EventRecorder({ api, clock, nodeName: 'gw1', logger: quietLogger, burst: 3, perSecond: 1, dedupeWindowMs: 60_000 });
    const pod = { namespace: 'default', name: 'p', uid: 'u' };
    events.record(pod, 'Warning', 'BackOff', 'same');
    events.record(pod, 'Warning', 'BackOff', 'same');
    events.record(pod, 'Normal', 'Started', 'a');
    events.record(pod, 'Normal', 'Started', 'b');
    events.record(pod, 'Normal', 'Started', 'c'); // over the burst of 3: dropped
    await events.flush();
    assert.deepEqual(written, ['BackOff', 'Started', 'Started']);
    await clock.advance(61_000);
    events.record(pod, 'Warning', 'BackOff', 'same');
    fail = true;
    events.record(pod, 'Normal', 'Killing', 'x');
    await events.flush();
    assert.deepEqual(written, ['BackOff', 'Started', 'Started', 'BackOff']);
  });
});
