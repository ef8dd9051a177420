// The printers of `get`: kubectl's ages, every kind's table (normal, wide, -A), -o json, yaml
// and name, and the tab alignment describe uses.

process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { KObject } from '../../src/model/index.ts';
import { resolveResourceName } from '../../src/model/index.ts';
import { nodeStatus, podSummary } from '../../src/cli/printers/columns.ts';
import { formatObjects, parseOutputFormat, tableOf, TablePrinter, toYaml, withTypeMeta } from '../../src/cli/printers/output.ts';
import { tabwrite } from '../../src/cli/printers/tabwriter.ts';
import { age, humanDuration, rfc1123z } from '../../src/cli/printers/time.ts';
import { formatTable } from '../../src/cli/table.ts';
import { UsageError } from '../../src/errors.ts';

const NOW = Date.parse('2024-03-10T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function table(objects: KObject[], options: { wide?: boolean; withNamespace?: boolean; withKind?: boolean; showLabels?: boolean } = {}): string {
  const kind = objects[0]!.kind;
  const info = resolveResourceName(kind);
  return new TablePrinter().print(
    tableOf(kind, objects, info, { wide: options.wide ?? false, withNamespace: options.withNamespace ?? false, withKind: options.withKind ?? false, showLabels: options.showLabels ?? false, now: NOW }),
  );
}

function pod(name: string, extra: { spec?: object; status?: object; metadata?: object } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: ago(300), ...extra.metadata },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25' }], ...extra.spec },
    status: extra.status ?? {},
  };
}

const running = (ready = true, restartCount = 0) => ({ name: 'app', ready, restartCount, state: { running: { startedAt: ago(290) } } });

describe('ages (kubectl HumanDuration)', () => {
  test('each range prints in its form', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [-1500, '0s'],
      [-2500, '<invalid>'],
      [45_000, '45s'],
      [119_000, '119s'],
      [120_000, '2m'],
      [310_000, '5m10s'],
      [600_000, '10m'],
      [179 * 60_000, '179m'],
      [3 * 3_600_000, '3h'],
      [3 * 3_600_000 + 5 * 60_000, '3h5m'],
      [8 * 3_600_000, '8h'],
      [47 * 3_600_000, '47h'],
      [48 * 3_600_000, '2d'],
      [51 * 3_600_000, '2d3h'],
      [8 * 86_400_000, '8d'],
      [400 * 86_400_000, '400d'],
      [730 * 86_400_000, '2y'],
      [740 * 86_400_000, '2y10d'],
      [3000 * 86_400_000, '8y'],
    ];
    for (const [millis, text] of cases) assert.equal(humanDuration(millis), text, `${millis}ms`);
  });

  test('age of a timestamp; unknown when absent or unreadable', () => {
    assert.equal(age(ago(45), NOW), '45s');
    assert.equal(age(undefined, NOW), '<unknown>');
    assert.equal(age('yesterday', NOW), '<unknown>');
  });

  test('describe times are RFC 1123 with a numeric zone', () => {
    assert.equal(rfc1123z('2024-03-10T09:05:03Z'), 'Sun, 10 Mar 2024 09:05:03 +0000');
    assert.equal(rfc1123z(undefined), '<unknown>');
  });
});

describe('get tables', () => {
  test('pods: READY, STATUS, RESTARTS, AGE; wide adds IP and NODE', () => {
    const pods = [
      pod('web-1', { spec: { nodeName: 'gw1' }, status: { phase: 'Running', podIP: '10.42.1.5', containerStatuses: [running()] } }),
      pod('web-2', { status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } }),
    ];
    assert.equal(
      table(pods),
      'NAME    READY   STATUS              RESTARTS   AGE\n' + 'web-1   1/1     Running             0          5m\n' + 'web-2   0/1     ContainerCreating   0          5m\n',
    );
    assert.equal(
      table(pods, { wide: true }),
      'NAME    READY   STATUS              RESTARTS   AGE   IP          NODE\n' +
        'web-1   1/1     Running             0          5m    10.42.1.5   gw1\n' +
        'web-2   0/1     ContainerCreating   0          5m    <none>      <none>\n',
    );
  });

  test('pod status: Terminating, CrashLoopBackOff with restarts and when, Completed, init, exit codes', () => {
    const terminating = pod('a', { metadata: { deletionTimestamp: ago(5) }, status: { phase: 'Running', containerStatuses: [running()] } });
    assert.equal(podSummary(terminating).status, 'Terminating');
    const crashing = pod('b', {
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'app', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(70) } } }],
      },
    });
    assert.deepEqual(podSummary(crashing), { ready: 0, total: 1, status: 'CrashLoopBackOff', restarts: 4, lastRestart: ago(70) });
    assert.match(table([crashing]), /\nb +0\/1 +CrashLoopBackOff +4 \(70s ago\) +5m\n$/);
    const done = pod('c', { status: { phase: 'Succeeded', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } });
    assert.equal(podSummary(done).status, 'Completed');
    const failed = pod('d', { status: { phase: 'Failed', containerStatuses: [{ name: 'app', restartCount: 0, state: { terminated: { exitCode: 137 } } }] } });
    assert.equal(podSummary(failed).status, 'ExitCode:137');
    const init = pod('e', {
      spec: { initContainers: [{ name: 'init' }, { name: 'init2' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'init', restartCount: 0, state: { terminated: { exitCode: 0 } } }, { name: 'init2', restartCount: 0, state: { running: {} } }] },
    });
    assert.equal(podSummary(init).status, 'Init:1/2');
    assert.equal(podSummary(pod('f')).status, 'Pending');
    // Two containers, one ready.
    const half = pod('g', { spec: { containers: [{ name: 'a' }, { name: 'b' }] }, status: { phase: 'Running', containerStatuses: [running(), { ...running(false), name: 'b' }] } });
    assert.equal(podSummary(half).ready, 1);
    assert.equal(podSummary(half).total, 2);
  });

  test('-A puts NAMESPACE first; --show-labels adds LABELS; several types prefix names', () => {
    const p = pod('web-1', { metadata: { namespace: 'edge', labels: { app: 'web', tier: 'fe' } }, status: { phase: 'Running', containerStatuses: [running()] } });
    assert.equal(table([p], { withNamespace: true }), 'NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\nedge        web-1   1/1     Running   0          5m\n');
    assert.match(table([p], { showLabels: true }), /AGE   LABELS\n.*5m    app=web,tier=fe\n$/);
    assert.match(table([p], { withKind: true }), /\npod\/web-1 +1\/1/);
  });

  test('deployments, replicasets, daemonsets (and their wide columns)', () => {
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } };
    const deployment: KObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', creationTimestamp: ago(7200) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.equal(table([deployment]), 'NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           120m\n');
    assert.equal(
      table([deployment], { wide: true }),
      'NAME   READY   UP-TO-DATE   AVAILABLE   AGE    CONTAINERS   IMAGES               SELECTOR\n' + 'web    2/3     3            2           120m   nginx,log    nginx:1.25,busybox   app=web\n',
    );
    const rs: KObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d9c', creationTimestamp: ago(60) }, spec: { replicas: 2, template }, status: { replicas: 2, readyReplicas: 1 } };
    assert.equal(table([rs]), 'NAME       DESIRED   CURRENT   READY   AGE\nweb-5d9c   2         2         1       60s\n');
    const ds: KObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', creationTimestamp: ago(86400 * 3) },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [] } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
    };
    assert.equal(
      table([ds]),
      'NAME    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE\n' + 'agent   3         3         2       3            2           kubernetes.io/os=linux   3d\n',
    );
  });

  test('services: types, cluster IP, external IP, ports', () => {
    const svc = (name: string, spec: object, status: object = {}): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, creationTimestamp: ago(30) }, spec, status });
    const services = [
      svc('web', { type: 'ClusterIP', clusterIP: '10.43.0.12', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } }),
      svc('np', { type: 'NodePort', clusterIP: '10.43.0.13', ports: [{ port: 80, nodePort: 30080 }, { port: 53, protocol: 'UDP' }] }),
      svc('lb', { type: 'LoadBalancer', clusterIP: '10.43.0.14', ports: [{ port: 443, protocol: 'TCP' }] }),
      svc('lb2', { type: 'LoadBalancer', clusterIP: '10.43.0.15', ports: [] }, { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } }),
      svc('headless', { clusterIP: 'None', ports: [{ port: 5432 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
    ];
    assert.equal(
      table(services),
      [
        'NAME       TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)               AGE',
        'web        ClusterIP      10.43.0.12   <none>           80/TCP                30s',
        'np         NodePort       10.43.0.13   <none>           80:30080/TCP,53/UDP   30s',
        'lb         LoadBalancer   10.43.0.14   <pending>        443/TCP               30s',
        'lb2        LoadBalancer   10.43.0.15   192.168.1.10     <none>                30s',
        'headless   ClusterIP      None         <none>           5432/TCP              30s',
        'ext        ExternalName   <none>       db.example.com   <none>                30s',
        '',
      ].join('\n'),
    );
    assert.match(table([services[0]!], { wide: true }), /AGE   SELECTOR\n.*30s   app=web\n$/);
  });

  test('endpoints: at most three, then "+ N more..."', () => {
    const ep = (name: string, subsets: object[]): KObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, creationTimestamp: ago(30) }, subsets });
    const addresses = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.42.0.${i + 1}` }));
    assert.equal(
      table([ep('web', [{ addresses: addresses(2), ports: [{ port: 80 }] }]), ep('many', [{ addresses: addresses(5), ports: [{ port: 8080 }] }]), ep('none', [])]),
      [
        'NAME   ENDPOINTS                                                  AGE',
        'web    10.42.0.1:80,10.42.0.2:80                                  30s',
        'many   10.42.0.1:8080,10.42.0.2:8080,10.42.0.3:8080 + 2 more...   30s',
        'none   <none>                                                     30s',
        '',
      ].join('\n'),
    );
  });

  test('nodes: Ready condition, cordoned, roles, version; wide adds addresses and system info', () => {
    const node = (name: string, ready: string | undefined, extra: { unschedulable?: boolean; labels?: Record<string, string> } = {}): KObject => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, creationTimestamp: ago(86400 * 10), labels: extra.labels ?? {} },
      spec: extra.unschedulable ? { unschedulable: true } : {},
      status: {
        conditions: ready === undefined ? [] : [{ type: 'Ready', status: ready }],
        nodeInfo: { kubeletVersion: 'v1.30.0-bramble', osImage: 'Debian 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.2' },
        addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: name }],
      },
    });
    const nodes = [
      node('gw1', 'True', { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' } }),
      node('gw2', 'False', { unschedulable: true }),
      node('gw3', 'Unknown'),
      node('gw4', undefined),
    ];
    assert.equal(nodeStatus(nodes[1]!), 'NotReady,SchedulingDisabled');
    assert.equal(
      table(nodes),
      [
        'NAME   STATUS                        ROLES                  AGE   VERSION',
        'gw1    Ready                         control-plane,master   10d   v1.30.0-bramble',
        'gw2    NotReady,SchedulingDisabled   <none>                 10d   v1.30.0-bramble',
        'gw3    NotReady                      <none>                 10d   v1.30.0-bramble',
        'gw4    Unknown                       <none>                 10d   v1.30.0-bramble',
        '',
      ].join('\n'),
    );
    assert.match(table([nodes[0]!], { wide: true }), /VERSION           INTERNAL-IP    EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME\n.*v1.30.0-bramble   192.168.1.10   <none>        Debian 12   6.1.0            containerd:\/\/1.7.2\n$/);
  });

  test('namespaces, configmaps, secrets', () => {
    assert.equal(table([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: ago(600) }, status: { phase: 'Active' } }]), 'NAME      STATUS   AGE\ndefault   Active   10m\n');
    assert.equal(
      table([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-demo', creationTimestamp: ago(5) }, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }]),
      'NAME        DATA   AGE\ngame-demo   3      5s\n',
    );
    assert.equal(
      table([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', creationTimestamp: ago(5) }, type: 'Opaque', data: { user: 'YQ==', pass: 'Yg==' } }]),
      'NAME    TYPE     DATA   AGE\ncreds   Opaque   2      5s\n',
    );
  });

  test('events: last seen, type, reason, object, message', () => {
    const event: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-1.17a', namespace: 'default', creationTimestamp: ago(600) },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/web-1 to gw1 ',
      type: 'Normal',
      firstTimestamp: ago(600),
      lastTimestamp: ago(60),
      count: 3,
      source: { component: 'scheduler' },
    };
    assert.equal(
      table([event]),
      'LAST SEEN   TYPE     REASON      OBJECT      MESSAGE\n60s         Normal   Scheduled   pod/web-1   Successfully assigned default/web-1 to gw1\n',
    );
    assert.match(table([event], { wide: true }), /^LAST SEEN +TYPE +REASON +OBJECT +SUBOBJECT +SOURCE +MESSAGE +FIRST SEEN +COUNT +NAME\n60s .* scheduler +Successfully .* 10m +3 +web-1\.17a\n$/);
  });

  test('ingresses: class, hosts, address, ports', () => {
    const ing: KObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', creationTimestamp: ago(30) },
      spec: { ingressClassName: 'bramble', rules: [{ host: 'a.local' }, { host: 'b.local' }], tls: [{ hosts: ['a.local'] }] },
      status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
    };
    const bare: KObject = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'any', creationTimestamp: ago(30) }, spec: { rules: [{ http: {} }] } };
    assert.equal(
      table([ing, bare]),
      'NAME   CLASS     HOSTS             ADDRESS        PORTS     AGE\nweb    bramble   a.local,b.local   192.168.1.10   80, 443   30s\nany    <none>    *                                80        30s\n',
    );
  });

  test('an unknown kind falls back to NAME and AGE', () => {
    const other = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', creationTimestamp: ago(3) } };
    assert.equal(new TablePrinter().print(tableOf('Widget', [other], undefined, { wide: false, withNamespace: false, withKind: false, showLabels: false, now: NOW })), 'NAME   AGE\nw      3s\n');
  });

  test('a printer keeps its widths, so watch rows line up under the first table', () => {
    const printer = new TablePrinter();
    const first = printer.print({ headers: ['NAME', 'STATUS'], rows: [['a-long-name', 'Running']] });
    const next = printer.print({ headers: ['NAME', 'STATUS'], rows: [['b', 'Pending']] });
    assert.equal(first, 'NAME          STATUS\na-long-name   Running\n');
    assert.equal(next, 'b             Pending\n');
  });

  test('formatTable pads to at least six columns, like kubectl', () => {
    assert.equal(formatTable(['ID', 'X'], [['1', 'y']]), 'ID    X\n1     y\n');
  });
});

describe('-o json, yaml, name', () => {
  const info = resolveResourceName('deployments')!;
  const deploy = (name: string): KObject => withTypeMeta({ metadata: { name, namespace: 'default' }, spec: { replicas: 1 } } as unknown as KObject, info);

  test('list items get apiVersion and kind first', () => {
    assert.deepEqual(Object.keys(deploy('web')), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.equal(deploy('web').apiVersion, 'apps/v1');
  });

  test('json: one object as itself, several as a v1 List, four-space indent', () => {
    const one = formatObjects('json', [deploy('web')], true);
    assert.deepEqual(JSON.parse(one), deploy('web'));
    assert.match(one, /^\{\n {4}"apiVersion": "apps\/v1",\n/);
    const list = JSON.parse(formatObjects('json', [deploy('a'), deploy('b')], false)) as Record<string, unknown>;
    assert.deepEqual(list, { apiVersion: 'v1', items: [deploy('a'), deploy('b')], kind: 'List', metadata: { resourceVersion: '' } });
    assert.deepEqual(JSON.parse(formatObjects('json', [], false)), { apiVersion: 'v1', items: [], kind: 'List', metadata: { resourceVersion: '' } });
  });

  test('yaml: kubectl layout (sequences flush with their key), never folded', () => {
    const text = formatObjects('yaml', [deploy('web')], true);
    assert.equal(text, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 1\n');
    const list = formatObjects('yaml', [deploy('a')], false);
    assert.match(list, /^apiVersion: v1\nitems:\n- apiVersion: apps\/v1\n {2}kind: Deployment\n/);
    assert.deepEqual(parse(list), { apiVersion: 'v1', items: [deploy('a')], kind: 'List', metadata: { resourceVersion: '' } });
    const long = 'x'.repeat(300);
    assert.equal(toYaml({ a: long }), `a: ${long}\n`);
  });

  test('name: group-qualified resource names', () => {
    assert.equal(formatObjects('name', [deploy('a'), deploy('b')], false), 'deployment.apps/a\ndeployment.apps/b\n');
    const svc: KObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } };
    assert.equal(formatObjects('name', [svc], true), 'service/web\n');
  });

  test('an unknown -o is a usage error listing the formats', () => {
    assert.equal(parseOutputFormat('get', undefined), 'table');
    assert.equal(parseOutputFormat('get', 'wide'), 'wide');
    assert.throws(() => parseOutputFormat('get', 'jsonpath'), (e: unknown) => e instanceof UsageError && /allowed formats: wide, json, yaml, name/.test(e.message));
  });
});

describe('tabwriter (describe layout)', () => {
  test('aligns each block of consecutive cells, nested levels included', () => {
    const text = 'Name:\tweb\nService Account:\tdefault\nIPs:\n  IP:\t10.42.0.5\nControlled By:\tReplicaSet/web\n';
    assert.equal(tabwrite(text), 'Name:             web\nService Account:  default\nIPs:\n  IP:           10.42.0.5\nControlled By:  ReplicaSet/web\n');
  });

  test('a table inside: each column as wide as its widest cell plus two', () => {
    const text = 'Events:\n  Type\tReason\tMessage\n  ----\t------\t-------\n  Normal\tScheduled\tassigned\n';
    assert.equal(tabwrite(text), 'Events:\n  Type    Reason     Message\n  ----    ------     -------\n  Normal  Scheduled  assigned\n');
  });

  test('continuation lines with an empty first cell align under the value', () => {
    assert.equal(tabwrite('Labels:\ta=1\n\tb=2\nAnnotations:\t<none>\n'), 'Labels:       a=1\n              b=2\nAnnotations:  <none>\n');
  });
});
