// `bramble describe` against the fake API: the requests (object, events by field selector, a
// service's endpoints) and kubectl-like text for each kind.

process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { LAST_APPLIED } from '../../src/cli/apply-plan.ts';
import { FakeApi, run } from './fake-api.ts';

let api: FakeApi;
beforeEach(async () => {
  api = await FakeApi.start();
});
afterEach(async () => {
  await api.close();
});

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'default',
    labels: { app: 'web', 'pod-template-hash': '5d9c' },
    annotations: { [LAST_APPLIED]: '{}', team: 'edge' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9c', uid: 'x', controller: true }],
    creationTimestamp: '2024-01-01T00:50:00Z',
  },
  spec: {
    nodeName: 'gw1',
    containers: [
      {
        name: 'nginx',
        image: 'nginx:1.25',
        ports: [{ containerPort: 80 }],
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'LIVES', valueFrom: { configMapKeyRef: { name: 'game', key: 'lives' } } },
        ],
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'cfg', mountPath: '/etc/cfg', readOnly: true },
        ],
        resources: { limits: { cpu: '500m', memory: '128Mi' } },
      },
    ],
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'game' } },
    ],
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  },
  status: {
    phase: 'Running',
    hostIP: '192.168.1.10',
    podIP: '10.42.1.5',
    podIPs: [{ ip: '10.42.1.5' }],
    startTime: '2024-01-01T00:50:01Z',
    conditions: [
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    containerStatuses: [
      {
        name: 'nginx',
        containerID: 'containerd://abc',
        imageID: 'docker.io/library/nginx@sha256:1',
        ready: true,
        restartCount: 1,
        state: { running: { startedAt: '2024-01-01T00:51:00Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2024-01-01T00:50:02Z', finishedAt: '2024-01-01T00:50:59Z' } },
      },
    ],
  },
};

const EVENTS = [
  {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e2', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1' },
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    source: { component: 'kubelet', host: 'gw1' },
    firstTimestamp: '2024-01-01T00:50:30Z',
    lastTimestamp: '2024-01-01T00:58:00Z',
    count: 4,
  },
  {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1' },
    type: 'Normal',
    reason: 'Scheduled',
    message: 'Successfully assigned default/web-1 to gw1',
    source: { component: 'scheduler' },
    firstTimestamp: '2024-01-01T00:50:00Z',
    lastTimestamp: '2024-01-01T00:50:00Z',
    count: 1,
  },
  // Another object's event: the field selector leaves it out.
  { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e3', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web-2' }, type: 'Normal', reason: 'Pulled', message: 'x' },
];

describe('describe', () => {
  test('pod: the object, then its events by field selector; kubectl sections and alignment', async () => {
    api.seed(POD, ...EVENTS);
    const result = await run(api, ['describe', 'pod', 'web-1']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`), [
      'GET /api/v1/namespaces/default/pods/web-1 {}',
      'GET /api/v1/namespaces/default/events {"fieldSelector":"involvedObject.name=web-1,involvedObject.kind=Pod"}',
    ]);
    assert.equal(
      result.out,
      `Name:               web-1
Namespace:          default
Labels:             app=web
                    pod-template-hash=5d9c
Annotations:        team: edge
CreationTimestamp:  Mon, 01 Jan 2024 00:50:00 +0000
Node:               gw1/192.168.1.10
Start Time:         Mon, 01 Jan 2024 00:50:01 +0000
Status:             Running
IP:                 10.42.1.5
IPs:
  IP:           10.42.1.5
Controlled By:  ReplicaSet/web-5d9c
Containers:
  nginx:
    Container ID:   containerd://abc
    Image:          nginx:1.25
    Image ID:       docker.io/library/nginx@sha256:1
    Port:           80/TCP
    State:          Running
      Started:      Mon, 01 Jan 2024 00:51:00 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Mon, 01 Jan 2024 00:50:02 +0000
      Finished:     Mon, 01 Jan 2024 00:50:59 +0000
    Ready:          True
    Restart Count:  1
    Limits:
      cpu:     500m
      memory:  128Mi
    Environment:
      MODE:   prod
      LIVES:  <set to the key 'lives' of config map 'game'>  Optional: false
    Mounts:
      /data from data (rw)
      /etc/cfg from cfg (ro)
Conditions:
  Type         Status
  Initialized  True
  Ready        True
Volumes:
  data:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:
    SizeLimit:  <unset>
  cfg:
    Type:        ConfigMap (a volume populated by a ConfigMap)
    Name:        game
    Optional:    false
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                 From       Message
  ----     ------     ----                ----       -------
  Normal   Scheduled  10m                 scheduler  Successfully assigned default/web-1 to gw1
  Warning  BackOff    2m (x4 over 9m30s)  kubelet    Back-off restarting failed container
`,
    );
  });

  test('deployment: replicas line, strategy, pod template, conditions; no events', async () => {
    api.seed({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx-deployment', namespace: 'default', labels: { app: 'nginx' }, annotations: { 'deployment.kubernetes.io/revision': '1' }, creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] } } },
      status: {
        replicas: 3,
        updatedReplicas: 3,
        availableReplicas: 2,
        readyReplicas: 2,
        unavailableReplicas: 1,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    });
    const result = await run(api, ['describe', 'deployments.apps', 'nginx-deployment']);
    assert.equal(result.code, 0, result.err);
    assert.equal(api.requests[1]!.query['fieldSelector'], 'involvedObject.name=nginx-deployment,involvedObject.kind=Deployment');
    assert.equal(
      result.out,
      `Name:                   nginx-deployment
Namespace:              default
Labels:                 app=nginx
Annotations:            deployment.kubernetes.io/revision: 1
CreationTimestamp:      Mon, 01 Jan 2024 00:00:00 +0000
Selector:               app=nginx
Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=nginx
  Containers:
   nginx:
    Image:         nginx:1.14.2
    Port:          80/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type         Status  Reason
  ----         ------  ------
  Available    True    MinimumReplicasAvailable
  Progressing  True    NewReplicaSetAvailable
Events:        <none>
`,
    );
  });

  test('service: a Port/TargetPort/NodePort/Endpoints group per port, endpoints by port name', async () => {
    api.seed(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'my-service', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
        spec: {
          type: 'NodePort',
          selector: { app: 'nginx' },
          clusterIP: '10.43.0.12',
          externalTrafficPolicy: 'Local',
          internalTrafficPolicy: 'Cluster',
          ports: [
            { name: 'http', port: 80, targetPort: 9376, nodePort: 30080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, protocol: 'TCP' },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'my-service', namespace: 'default' },
        subsets: [{ addresses: [{ ip: '10.42.1.5' }, { ip: '10.42.2.6' }], ports: [{ name: 'http', port: 9376 }, { name: 'metrics', port: 9090 }] }],
      },
    );
    const result = await run(api, ['describe', 'svc/my-service']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines().slice(0, 1), ['GET /api/v1/namespaces/default/services/my-service']);
    assert.ok(api.lines().includes('GET /api/v1/namespaces/default/endpoints/my-service'));
    assert.match(
      result.out,
      /\nSelector: +app=nginx\nType: +NodePort\nIP: +10\.43\.0\.12\nPort: +http  80\/TCP\nTargetPort: +9376\/TCP\nNodePort: +http  30080\/TCP\nEndpoints: +10\.42\.1\.5:9376,10\.42\.2\.6:9376\nPort: +metrics  9090\/TCP\nTargetPort: +9090\/TCP\nEndpoints: +10\.42\.1\.5:9090,10\.42\.2\.6:9090\nSession Affinity: +None\nExternal Traffic Policy: +Local\nInternal Traffic Policy: +Cluster\nEvents: +<none>\n$/,
    );
  });

  test('node: cluster-wide events; roles, taints, conditions, addresses, capacity, system info', async () => {
    api.seed({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'gw1', labels: { 'node-role.kubernetes.io/control-plane': '' }, creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { podCIDR: '10.42.1.0/24', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:59:00Z', lastTransitionTime: '2024-01-01T00:00:10Z', reason: 'KubeletReady', message: 'ready' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
        capacity: { cpu: '4', memory: '3884Mi' },
        allocatable: { cpu: '3500m', memory: '3372Mi' },
        nodeInfo: { kernelVersion: '6.1.0-rpi', architecture: 'arm64', kubeletVersion: 'v1.30.0-bramble' },
      },
    });
    const result = await run(api, ['describe', 'node', 'gw1', '-n', 'ignored']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /api/v1/nodes/gw1', 'GET /api/v1/events?fieldSelector=involvedObject.name%3Dgw1%2CinvolvedObject.kind%3DNode']);
    const out = result.out;
    assert.match(out, /^Name: +gw1\nRoles: +control-plane\n/);
    assert.match(out, /\nTaints: +node\.kubernetes\.io\/unreachable:NoSchedule\nUnschedulable: +false\n/);
    assert.match(out, /\n {2}Type {3}Status {2}LastHeartbeatTime {16}LastTransitionTime {15}Reason {8}Message\n/);
    assert.match(out, /\n {2}Ready {2}True {4}Mon, 01 Jan 2024 00:59:00 \+0000 {2}Mon, 01 Jan 2024 00:00:10 \+0000 {2}KubeletReady {2}ready\n/);
    assert.match(out, /\nAddresses:\n {2}InternalIP: {2}192\.168\.1\.10\nCapacity:\n {2}cpu: {5}4\n {2}memory: {2}3884Mi\nAllocatable:\n {2}cpu: {5}3500m\n/);
    assert.match(out, /\n {2}Architecture: +arm64\n/);
    assert.doesNotMatch(out, /Namespace:/);
  });

  test('secret: sizes, never values; configmap: its data', async () => {
    api.seed(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('hunter22').toString('base64') } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game', namespace: 'default' }, data: { lives: '3' } },
    );
    const secret = await run(api, ['describe', 'secret', 'creds']);
    assert.match(secret.out, /\nType: {2}Opaque\n\nData\n====\npassword: {2}8 bytes\n\nEvents: {2}<none>\n$/);
    assert.doesNotMatch(secret.out, /hunter|aHVudGVy/);
    const cm = await run(api, ['describe', 'configmap', 'game']);
    assert.match(cm.out, /\nData\n====\nlives:\n----\n3\n\nBinaryData\n====\n\nEvents: {2}<none>\n$/);
  });

  test('other kinds: the header, then the rest of the object as YAML', async () => {
    api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edge' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    const result = await run(api, ['describe', 'ns', 'edge']);
    assert.equal(
      result.out,
      'Name:               edge\nLabels:             <none>\nAnnotations:        <none>\nCreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000\nSpec:\n  finalizers:\n  - kubernetes\nStatus:\n  phase: Active\nEvents:  <none>\n',
    );
  });

  test('a TYPE without names describes every object of it, two blank lines apart', async () => {
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'default' } });
    const result = await run(api, ['describe', 'cm']);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /^Name: +a\n[^]*Events: {2}<none>\n\n\nName: +b\n/);
    assert.equal(api.lines()[0], 'GET /api/v1/namespaces/default/configmaps?limit=500');
  });

  test('a missing object: the Status message, exit 1', async () => {
    const result = await run(api, ['describe', 'pod', 'nope']);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'Error from server (NotFound): pods "nope" not found\n');
  });
});
