// Manifests from the Kubernetes documentation validate unchanged: accepted as they are, the input
// left untouched, and the answer is the input plus defaults. Then the defaults of each kind.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultObject, defaultPullPolicy, validateObject, type KObject } from '../../src/model/index.ts';
import * as F from './fixtures.ts';
import { clone, info, yaml } from './fixtures.ts';

/** Every member of `input` is in `output` with the same value (nulls in the input mean absent). */
function assertContains(output: unknown, input: unknown, path = ''): void {
  if (Array.isArray(input)) {
    assert.ok(Array.isArray(output), `${path}: expected an array`);
    assert.equal(output.length, input.length, `${path}: length`);
    input.forEach((item, i) => assertContains(output[i], item, `${path}[${i}]`));
  } else if (typeof input === 'object' && input !== null) {
    assert.ok(typeof output === 'object' && output !== null, `${path}: expected an object`);
    for (const [k, v] of Object.entries(input)) {
      if (v === null) continue;
      assertContains((output as Record<string, unknown>)[k], v, path ? `${path}.${k}` : k);
    }
  } else {
    assert.equal(output, input, path);
  }
}

function accept(kind: string, manifest: KObject): KObject {
  const before = clone(manifest);
  const result = validateObject(info(kind), manifest);
  assert.deepEqual(manifest, before, 'the input must not be changed');
  if (!result.ok) assert.fail(`expected ${kind} to validate, got:\n${result.causes.map((c) => `${c.field}: ${c.message}`).join('\n')}`);
  return result.object;
}

describe('Kubernetes documentation examples validate unchanged', () => {
  const examples: [string, string, string][] = [
    ['nginx Deployment', 'Deployment', F.NGINX_DEPLOYMENT],
    ['Service my-service', 'Service', F.MY_SERVICE],
    ['NodePort Service', 'Service', F.NODEPORT_SERVICE],
    ['ExternalName Service', 'Service', F.EXTERNALNAME_SERVICE],
    ['Service with a named targetPort', 'Service', F.NAMED_PORT_SERVICE],
    ['Pod with a named port', 'Pod', F.NAMED_PORT_POD],
    ['ConfigMap game-demo', 'ConfigMap', F.GAME_DEMO_CONFIGMAP],
    ['Pod with env from a ConfigMap and a ConfigMap volume', 'Pod', F.CONFIGMAP_DEMO_POD],
    ['DaemonSet fluentd-elasticsearch', 'DaemonSet', F.FLUENTD_DAEMONSET],
    ['minimal Ingress', 'Ingress', F.MINIMAL_INGRESS],
    ['TLS Ingress with host rules and a named port', 'Ingress', F.TLS_INGRESS],
    ['Secret with stringData', 'Secret', F.STRINGDATA_SECRET],
    ['basic-auth Secret', 'Secret', F.BASIC_AUTH_SECRET],
    ['Secret with data', 'Secret', F.DATA_SECRET],
    ['Pod with an exec liveness probe', 'Pod', F.LIVENESS_EXEC_POD],
    ['Pod with an httpGet liveness probe', 'Pod', F.LIVENESS_HTTP_POD],
    ['Pod with tcpSocket probes', 'Pod', F.TCP_PROBE_POD],
    ['Pod with requests and limits', 'Pod', F.RESOURCES_POD],
    ['Pod with a security context', 'Pod', F.SECURITY_CONTEXT_POD],
    ['Pod with dnsPolicy None', 'Pod', F.DNS_CONFIG_POD],
    ['Pod with hostAliases', 'Pod', F.HOST_ALIASES_POD],
    ['Pod with init containers', 'Pod', F.INIT_CONTAINERS_POD],
    ['ReplicaSet frontend', 'ReplicaSet', F.FRONTEND_REPLICASET],
    ['Pod with downward API env', 'Pod', F.DOWNWARD_ENV_POD],
    ['Pod with envFrom and a Secret volume', 'Pod', F.ENVFROM_POD],
    ['kubectl create --dry-run output (nulls, empty objects)', 'Deployment', F.KUBECTL_DRY_RUN_DEPLOYMENT],
    ['Endpoints', 'Endpoints', F.ENDPOINTS],
    ['Namespace', 'Namespace', F.NAMESPACE],
    ['Node', 'Node', F.NODE],
    ['Event', 'Event', F.EVENT],
  ];
  for (const [name, kind, text] of examples) {
    test(name, () => {
      const manifest = yaml(text);
      const out = accept(kind, manifest);
      if (kind === 'Secret') {
        // stringData is merged into data (and removed); everything else is kept.
        const { stringData: _ignored, ...rest } = manifest as KObject & { stringData?: unknown };
        assertContains(out, rest);
      } else {
        assertContains(out, manifest);
      }
    });
  }

  test('validating the defaulted answer again gives the same object (defaults are stable)', () => {
    for (const [kind, text] of [['Deployment', F.NGINX_DEPLOYMENT], ['Pod', F.LIVENESS_HTTP_POD], ['Service', F.MY_SERVICE], ['Secret', F.STRINGDATA_SECRET], ['DaemonSet', F.FLUENTD_DAEMONSET]] as const) {
      const once = accept(kind, yaml(text));
      assert.deepEqual(accept(kind, clone(once)), once, kind);
    }
  });

  test('apiVersion and kind may be left out: the endpoint supplies them', () => {
    const manifest = yaml(F.MY_SERVICE) as Partial<KObject>;
    delete manifest.apiVersion;
    delete manifest.kind;
    const out = accept('Service', manifest as KObject);
    assert.equal(out.apiVersion, 'v1');
    assert.equal(out.kind, 'Service');
  });

  test('server-set metadata sent back by a client is accepted', () => {
    const manifest = yaml(F.NGINX_DEPLOYMENT);
    Object.assign(manifest.metadata, {
      uid: '2b1c7a9e-0000-4000-8000-000000000001',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2024-05-01T12:00:00Z',
      selfLink: '/apis/apps/v1/namespaces/default/deployments/nginx-deployment',
      managedFields: [{ manager: 'kubectl', operation: 'Update' }],
      finalizers: ['example.com/cleanup'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u1', controller: true, blockOwnerDeletion: true }],
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      namespace: 'default',
    });
    manifest.status = { replicas: 3, readyReplicas: 3, observedGeneration: 3, conditions: [{ type: 'Available', status: 'True' }] };
    accept('Deployment', manifest);
  });
});

describe('defaults', () => {
  test('Pod: restartPolicy, dnsPolicy, grace period, pull policy, termination message, port protocol', () => {
    const out = accept('Pod', yaml(F.NAMED_PORT_POD)) as KObject & { spec: any };
    assert.equal(out.spec.restartPolicy, 'Always');
    assert.equal(out.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(out.spec.terminationGracePeriodSeconds, 30);
    const c = out.spec.containers[0];
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
    assert.equal(c.terminationMessagePolicy, 'File');
    assert.equal(c.ports[0].protocol, 'TCP');
  });

  test('explicit choices are kept (restartPolicy Never, grace period 0)', () => {
    const pod = yaml(F.HOST_ALIASES_POD) as KObject & { spec: any };
    pod.spec.terminationGracePeriodSeconds = 0;
    const out = accept('Pod', pod) as KObject & { spec: any };
    assert.equal(out.spec.restartPolicy, 'Never');
    assert.equal(out.spec.terminationGracePeriodSeconds, 0);
  });

  const pullPolicies: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.14.2', 'IfNotPresent'],
    ['localhost:5000/nginx', 'Always'],
    ['localhost:5000/nginx:1.2', 'IfNotPresent'],
    ['registry.k8s.io/busybox', 'Always'],
    ['nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31', 'IfNotPresent'],
  ];
  for (const [image, policy] of pullPolicies) {
    test(`imagePullPolicy of ${image} is ${policy}`, () => assert.equal(defaultPullPolicy(image), policy));
  }

  test('probes: timings, and httpGet scheme and path', () => {
    const pod = yaml(F.LIVENESS_HTTP_POD) as KObject & { spec: any };
    delete pod.spec.containers[0].livenessProbe.httpGet.path;
    pod.spec.containers[0].readinessProbe = { tcpSocket: { port: 8080 } };
    const out = accept('Pod', pod) as KObject & { spec: any };
    const live = out.spec.containers[0].livenessProbe;
    assert.deepEqual(
      { period: live.periodSeconds, timeout: live.timeoutSeconds, success: live.successThreshold, failure: live.failureThreshold },
      { period: 3, timeout: 1, success: 1, failure: 3 },
    );
    assert.equal(live.httpGet.scheme, 'HTTP');
    assert.equal(live.httpGet.path, '/');
    const ready = out.spec.containers[0].readinessProbe;
    assert.deepEqual(ready, { tcpSocket: { port: 8080 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  });

  test('Deployment: replicas, strategy 25%/25%, history, progress deadline, template like a Pod', () => {
    const d = yaml(F.NGINX_DEPLOYMENT) as KObject & { spec: any };
    delete d.spec.replicas;
    const out = accept('Deployment', d) as KObject & { spec: any };
    assert.equal(out.spec.replicas, 1);
    assert.deepEqual(out.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(out.spec.revisionHistoryLimit, 10);
    assert.equal(out.spec.progressDeadlineSeconds, 600);
    assert.equal(out.spec.template.spec.restartPolicy, 'Always');
    assert.equal(out.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(out.spec.template.spec.containers[0].ports[0].protocol, 'TCP');
  });

  test('Deployment: Recreate gets no rollingUpdate; replicas 0 stays 0', () => {
    const d = yaml(F.NGINX_DEPLOYMENT) as KObject & { spec: any };
    d.spec.strategy = { type: 'Recreate' };
    d.spec.replicas = 0;
    const out = accept('Deployment', d) as KObject & { spec: any };
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    assert.equal(out.spec.replicas, 0);
  });

  test('kubectl dry-run output: nulls dropped, strategy {} defaulted', () => {
    const out = accept('Deployment', yaml(F.KUBECTL_DRY_RUN_DEPLOYMENT)) as KObject & { spec: any };
    assert.equal('creationTimestamp' in out.metadata, false);
    assert.equal('creationTimestamp' in out.spec.template.metadata, false);
    assert.equal(out.spec.strategy.type, 'RollingUpdate');
    assert.equal(out.spec.template.spec.containers[0].imagePullPolicy, 'Always');
  });

  test('ReplicaSet: replicas 1 and template defaults', () => {
    const rs = yaml(F.FRONTEND_REPLICASET) as KObject & { spec: any };
    delete rs.spec.replicas;
    const out = accept('ReplicaSet', rs) as KObject & { spec: any };
    assert.equal(out.spec.replicas, 1);
    assert.equal(out.spec.template.spec.dnsPolicy, 'ClusterFirst');
  });

  test('DaemonSet: RollingUpdate with maxUnavailable 1, maxSurge 0; history 10', () => {
    const out = accept('DaemonSet', yaml(F.FLUENTD_DAEMONSET)) as KObject & { spec: any };
    assert.deepEqual(out.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(out.spec.revisionHistoryLimit, 10);
    assert.equal(out.spec.template.spec.restartPolicy, 'Always');
  });

  test('Service: type ClusterIP, sessionAffinity None, protocol TCP, targetPort = port', () => {
    const svc = yaml(F.MY_SERVICE) as KObject & { spec: any };
    delete svc.spec.ports[0].protocol;
    delete svc.spec.ports[0].targetPort;
    const out = accept('Service', svc) as KObject & { spec: any };
    assert.equal(out.spec.type, 'ClusterIP');
    assert.equal(out.spec.sessionAffinity, 'None');
    assert.deepEqual(out.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  });

  test('Secret: type Opaque, stringData merged into data as base64 and removed', () => {
    const s = yaml(F.STRINGDATA_SECRET) as KObject & { data?: any; stringData?: any };
    delete (s as { type?: string }).type;
    const out = accept('Secret', s) as KObject & { data: Record<string, string>; type: string };
    assert.equal(out.type, 'Opaque');
    assert.equal('stringData' in out, false);
    assert.equal(Buffer.from(out.data['config.yaml']!, 'base64').toString('utf8'), s.stringData['config.yaml']);
  });

  test('Secret: stringData wins over data for the same key, as in Kubernetes', () => {
    const s = yaml(F.DATA_SECRET) as KObject & { stringData?: Record<string, string> };
    s.stringData = { username: 'root' };
    const out = accept('Secret', s) as KObject & { data: Record<string, string> };
    assert.equal(out.data.username, Buffer.from('root').toString('base64'));
    assert.equal(out.data.password, 'MWYyZDFlMmU2N2Rm');
  });

  test('Endpoints ports get protocol TCP; Namespace gets status.phase Active', () => {
    const ep = accept('Endpoints', yaml(F.ENDPOINTS)) as KObject & { subsets: any };
    assert.equal(ep.subsets[0].ports[0].protocol, 'TCP');
    const ns = accept('Namespace', yaml(F.NAMESPACE)) as KObject & { status: any };
    assert.deepEqual(ns.status, { phase: 'Active' });
  });

  test('volumes from ConfigMaps and Secrets default to mode 0644; fieldRef apiVersion to v1', () => {
    const out = accept('Pod', yaml(F.CONFIGMAP_DEMO_POD)) as KObject & { spec: any };
    assert.equal(out.spec.volumes[0].configMap.defaultMode, 0o644);
    const env = accept('Pod', yaml(F.DOWNWARD_ENV_POD)) as KObject & { spec: any };
    assert.equal(env.spec.containers[0].env[0].valueFrom.fieldRef.apiVersion, 'v1');
  });

  test('defaultObject returns a defaulted copy and leaves its input alone', () => {
    const pod = yaml(F.NAMED_PORT_POD);
    const before = clone(pod);
    const out = defaultObject(info('Pod'), pod) as KObject & { spec: any };
    assert.deepEqual(pod, before);
    assert.equal(out.spec.restartPolicy, 'Always');
    assert.notEqual(out.spec, (pod as KObject & { spec: unknown }).spec);
  });
});
