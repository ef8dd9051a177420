// The API commands end to end against an in-process fake API: the exact requests the CLI makes
// (method, path, query, content type, body) and what it prints.

process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { LAST_APPLIED } from '../../src/cli/apply-plan.ts';
import { resolveResourceName, type KObject } from '../../src/model/index.ts';
import { FakeApi, run } from './fake-api.ts';

const DEPLOY = resolveResourceName('deployments')!;
const PODS = resolveResourceName('pods')!;

const pod = (name: string, namespace = 'default', phase = 'Running', labels: Record<string, string> = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels, creationTimestamp: '2024-01-01T00:55:00Z' },
  spec: { containers: [{ name: 'app', image: 'nginx' }], nodeName: 'gw1' },
  status: { phase, podIP: '10.42.0.9', containerStatuses: [{ name: 'app', ready: phase === 'Running', restartCount: 0, state: phase === 'Running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } }] },
});

const deployment = (name: string, replicas = 2): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } } },
  status: { replicas, readyReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas },
});

let api: FakeApi;
beforeEach(async () => {
  api = await FakeApi.start();
});
afterEach(async () => {
  await api.close();
});

describe('connection and errors', () => {
  test('an unreachable server: which one was tried and how to point elsewhere, exit 1', async () => {
    const result = await run(undefined, ['get', 'pods'], { env: { BRAMBLE_SERVER: 'http://127.0.0.1:1' } });
    assert.equal(result.code, 1);
    assert.match(result.err, /^bramble: cannot reach the bramble server at http:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); is it running\? Point elsewhere with --server URL or BRAMBLE_SERVER\n$/);
    assert.equal(result.out, '');
  });

  test('--server and --token win over the environment; the token is a bearer token', async () => {
    api.seed(pod('web-1'));
    const result = await run(undefined, ['get', 'pods', '--server', api.url, '--token', 's3cret'], { env: { BRAMBLE_SERVER: 'http://127.0.0.1:1', BRAMBLE_TOKEN: 'other' } });
    assert.equal(result.code, 0, result.err);
    assert.equal(api.requests[0]!.authorization, 'Bearer s3cret');
    await run(api, ['get', 'pods'], { env: { BRAMBLE_TOKEN: 'from-env' } });
    assert.equal(api.requests[1]!.authorization, 'Bearer from-env');
  });

  test('a Status error is one line, kubectl style, exit 1', async () => {
    const result = await run(api, ['get', 'pod', 'missing']);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'Error from server (NotFound): pods "missing" not found\n');
    assert.equal(result.out, '');
  });

  test('an error answer that is not a Status still gives one line', async () => {
    api.on('GET', '/api/v1/namespaces/default/pods', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database is locked\nstack trace...');
    });
    const result = await run(api, ['get', 'pods']);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'Error from server: database is locked (HTTP 500)\n');
  });

  test('a --server that is not a URL is a usage error (exit 2)', async () => {
    const result = await run(undefined, ['get', 'pods', '--server', 'gw1:7080']);
    assert.equal(result.code, 2);
    assert.match(result.err, /--server gw1:7080: expected an http:\/\/ or https:\/\/ URL/);
  });

  test('an unknown resource type is a usage error naming the known ones', async () => {
    const result = await run(api, ['get', 'cronjobs']);
    assert.equal(result.code, 2);
    assert.match(result.err, /^bramble get: the server doesn't have a resource type "cronjobs"; known types: namespaces \(ns\), nodes \(no\), pods \(po\)/);
    assert.equal(api.requests.length, 0);
  });
});

describe('get', () => {
  test('a namespaced list: the request, the table, ages against the clock', async () => {
    api.seed(pod('web-1'), pod('web-2', 'default', 'Pending'), pod('other', 'edge'));
    const result = await run(api, ['get', 'pods']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /api/v1/namespaces/default/pods?limit=500']);
    assert.equal(result.out, 'NAME    READY   STATUS              RESTARTS   AGE\nweb-1   1/1     Running             0          5m\nweb-2   0/1     ContainerCreating   0          5m\n');
    assert.equal(result.err, '');
  });

  test('-n, -l and --field-selector are passed through', async () => {
    api.seed(pod('a', 'edge', 'Running', { app: 'web' }), pod('b', 'edge', 'Running', { app: 'db' }));
    const result = await run(api, ['get', 'po', '-n', 'edge', '-l', 'app=web', '--field-selector', 'status.phase=Running']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.requests[0]!.query, { labelSelector: 'app=web', fieldSelector: 'status.phase=Running', limit: '500' });
    assert.equal(api.requests[0]!.path, '/api/v1/namespaces/edge/pods');
    assert.match(result.out, /\na +1\/1/);
    assert.doesNotMatch(result.out, /\nb /);
  });

  test('-A lists across namespaces with a NAMESPACE column; -owide adds columns', async () => {
    api.seed(pod('web-1'), pod('other', 'edge'));
    const result = await run(api, ['get', 'pods', '-A', '-owide']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /api/v1/pods?limit=500']);
    assert.equal(
      result.out,
      'NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE   IP          NODE\ndefault     web-1   1/1     Running   0          5m    10.42.0.9   gw1\nedge        other   1/1     Running   0          5m    10.42.0.9   gw1\n',
    );
  });

  test('cluster-scoped kinds have no namespace in the path', async () => {
    api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gw1', creationTimestamp: '2024-01-01T00:00:00Z' }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.30.0' } } });
    const result = await run(api, ['get', 'nodes', '-n', 'edge']);
    assert.deepEqual(api.lines(), ['GET /api/v1/nodes?limit=500']);
    assert.equal(result.out, 'NAME   STATUS   ROLES    AGE   VERSION\ngw1    Ready    <none>   60m   v1.30.0\n');
  });

  test('an empty list says so on stderr (namespace named, or not with -A)', async () => {
    const empty = await run(api, ['get', 'deployments']);
    assert.equal(empty.code, 0);
    assert.equal(empty.out, '');
    assert.equal(empty.err, 'No resources found in default namespace.\n');
    assert.equal((await run(api, ['get', 'deploy', '-A'])).err, 'No resources found\n');
    assert.equal((await run(api, ['get', 'ns'])).err, 'No resources found\n');
    assert.deepEqual(api.lines().slice(0, 2), ['GET /apis/apps/v1/namespaces/default/deployments?limit=500', 'GET /apis/apps/v1/deployments?limit=500']);
  });

  test('-o json: a named object as itself, a list as a v1 List with apiVersion/kind on items', async () => {
    api.seed(deployment('web'), deployment('api'));
    const one = await run(api, ['get', 'deploy', 'web', '-o', 'json']);
    assert.equal(api.lines()[0], 'GET /apis/apps/v1/namespaces/default/deployments/web');
    const object = JSON.parse(one.out) as KObject;
    assert.equal(object.kind, 'Deployment');
    assert.equal(object.metadata.name, 'web');
    api.on('GET', '/apis/apps/v1/namespaces/default/deployments', (_req, res) => {
      // Like Kubernetes, list items without apiVersion/kind.
      res.end(JSON.stringify({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'web' }, spec: {} }] }));
    });
    const list = JSON.parse((await run(api, ['get', 'deployments', '-o', 'json'])).out) as Record<string, unknown>;
    assert.deepEqual(list, { apiVersion: 'v1', items: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: {} }], kind: 'List', metadata: { resourceVersion: '' } });
  });

  test('-o yaml and -o name', async () => {
    api.seed(deployment('web'));
    const yaml = await run(api, ['get', 'deployment.apps/web', '-o', 'yaml']);
    assert.match(yaml.out, /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n {2}name: web\n/);
    const names = await run(api, ['get', 'deploy', '-o', 'name']);
    assert.equal(names.out, 'deployment.apps/web\n');
  });

  test('TYPE/NAME of several types: one table per type, names prefixed, blank line between', async () => {
    api.seed(deployment('web'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-01-01T00:59:30Z' }, spec: { clusterIP: '10.43.0.5', ports: [{ port: 80 }] } });
    const result = await run(api, ['get', 'deploy/web', 'svc/web']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /apis/apps/v1/namespaces/default/deployments/web', 'GET /api/v1/namespaces/default/services/web']);
    assert.equal(
      result.out,
      'NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\ndeployment.apps/web   2/2     2            2           60m\n\nNAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\nservice/web   ClusterIP   10.43.0.5    <none>        80/TCP    30s\n',
    );
  });

  test('names: the found ones print, the missing ones are errors, exit 1', async () => {
    api.seed(pod('a'));
    const result = await run(api, ['get', 'pods', 'a', 'nope']);
    assert.equal(result.code, 1);
    assert.match(result.out, /^NAME +READY.*\na +1\/1 +Running/);
    assert.equal(result.err, 'Error from server (NotFound): pods "nope" not found\n');
  });

  test('names cannot be combined with selectors', async () => {
    const result = await run(api, ['get', 'pods', 'a', '-l', 'app=web']);
    assert.equal(result.code, 2);
    assert.match(result.err, /names cannot be given with -l/);
  });

  test('long lists are read in chunks with continue', async () => {
    let calls = 0;
    api.on('GET', '/api/v1/namespaces/default/configmaps', (req, res) => {
      calls++;
      const page = req.query['continue'] === undefined ? 1 : 2;
      res.end(
        JSON.stringify({
          kind: 'ConfigMapList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '50', ...(page === 1 ? { continue: 'next-token' } : {}) },
          items: [{ metadata: { name: `cm-${page}`, creationTimestamp: '2024-01-01T00:00:00Z' }, data: {} }],
        }),
      );
    });
    const result = await run(api, ['get', 'cm']);
    assert.equal(calls, 2);
    assert.deepEqual(api.lines(), ['GET /api/v1/namespaces/default/configmaps?limit=500', 'GET /api/v1/namespaces/default/configmaps?limit=500&continue=next-token']);
    assert.equal(result.out, 'NAME   DATA   AGE\ncm-1   0      60m\ncm-2   0      60m\n');
  });

  test('-w: the table, then one row per event, from the list resourceVersion, until interrupted', async () => {
    api.on('GET', '/api/v1/namespaces/default/pods', (req, res) => {
      if (req.query['watch'] !== 'true') {
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '120' }, items: [pod('web-1')] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: pod('web-2', 'default', 'Pending') })}\n`);
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '130' } } })}\n`);
      // Split across writes: the client must join the line.
      const modified = JSON.stringify({ type: 'MODIFIED', object: pod('web-2') });
      res.write(modified.slice(0, 20));
      setTimeout(() => res.write(`${modified.slice(20)}\n`), 20);
      // The connection stays open, as a real watch does.
    });
    const controller = new AbortController();
    const result = await run(api, ['get', 'pods', '-w', '-l', 'app=web'], {
      signal: controller.signal,
      onStdout: (all) => {
        if (all.split('\n').length > 4) controller.abort();
      },
    });
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=500', 'GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb&watch=true&resourceVersion=120']);
    assert.equal(
      result.out,
      // Later rows keep the widths seen so far, and widen them when needed (kubectl's RememberWidths).
      'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          5m\nweb-2   0/1     ContainerCreating   0          5m\nweb-2   1/1     Running             0          5m\n',
    );
  });

  test('-w resumes a dropped watch from the last resourceVersion seen; an ERROR event ends it, exit 1', async () => {
    let watches = 0;
    api.on('GET', '/api/v1/namespaces/default/pods', (req, res) => {
      if (req.query['watch'] !== 'true') {
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [] }));
        return;
      }
      watches++;
      if (watches === 1) {
        const added = pod('web-1');
        added.metadata.resourceVersion = '11';
        res.end(`${JSON.stringify({ type: 'ADDED', object: added })}\n`);
        return;
      }
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 11 (20)', reason: 'Expired', code: 410 } })}\n`);
    });
    const result = await run(api, ['get', 'pods', '-w']);
    assert.equal(result.code, 1);
    assert.deepEqual(api.lines().slice(1), ['GET /api/v1/namespaces/default/pods?watch=true&resourceVersion=10', 'GET /api/v1/namespaces/default/pods?watch=true&resourceVersion=11']);
    // An empty list prints nothing; the first event brings the header.
    assert.equal(result.out, 'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          5m\n');
    assert.equal(result.err, 'Error from server (Expired): too old resource version: 11 (20)\n');
  });
});

describe('apply', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bramble-apply-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const NGINX = (replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: ${replicas}
${extra}  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
`;
  const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: my-service\nspec:\n  selector:\n    app: nginx\n  ports:\n  - port: 80\n';
  const CONFIG = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: game-demo\n  namespace: games\ndata:\n  lives: "3"\n';

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  test('creates what is missing: GET, then POST with the last-applied annotation', async () => {
    const path = await file('app.yaml', `${NGINX(3)}---\n${SERVICE}---\n${CONFIG}`);
    const result = await run(api, ['apply', '-f', path]);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/nginx-deployment created\nservice/my-service created\nconfigmap/game-demo created\n');
    assert.deepEqual(api.lines(), [
      'GET /apis/apps/v1/namespaces/default/deployments/nginx-deployment',
      'POST /apis/apps/v1/namespaces/default/deployments',
      'GET /api/v1/namespaces/default/services/my-service',
      'POST /api/v1/namespaces/default/services',
      'GET /api/v1/namespaces/games/configmaps/game-demo',
      'POST /api/v1/namespaces/games/configmaps',
    ]);
    const post = api.requests[1]!;
    assert.equal(post.contentType, 'application/json');
    const body = post.body as KObject;
    // The manifest as given, compact, in the file's key order; the body is the manifest plus it.
    const annotation = body.metadata.annotations?.[LAST_APPLIED];
    assert.equal(annotation, JSON.stringify(parse(NGINX(3))));
    assert.deepEqual({ ...body, metadata: { ...body.metadata, annotations: undefined } }, { ...parse(NGINX(3)), metadata: { ...parse(NGINX(3)).metadata, annotations: undefined } });
    assert.equal((body as unknown as { spec: { replicas: number } }).spec.replicas, 3);
  });

  test('applying the same file again writes nothing and says unchanged', async () => {
    const path = await file('same.yaml', `${NGINX(3)}---\n${SERVICE}`);
    await run(api, ['apply', '-f', path]);
    const writes = api.requests.length;
    const again = await run(api, ['apply', '-f', path]);
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out, 'deployment.apps/nginx-deployment unchanged\nservice/my-service unchanged\n');
    assert.deepEqual(
      api.requests.slice(writes).map((r) => r.method),
      ['GET', 'GET'],
    );
  });

  test('a changed file: PATCH with a JSON merge patch, removed fields as null', async () => {
    await run(api, ['apply', '-f', await file('v1.yaml', NGINX(3, '  minReadySeconds: 5\n'))]);
    const before = api.requests.length;
    const result = await run(api, ['apply', '-f', await file('v2.yaml', NGINX(5))]);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/nginx-deployment configured\n');
    const patch = api.requests[before + 1]!;
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.path, '/apis/apps/v1/namespaces/default/deployments/nginx-deployment');
    assert.equal(patch.contentType, 'application/merge-patch+json');
    const lastApplied = (api.get(DEPLOY, 'default', 'nginx-deployment')!.metadata.annotations ?? {})[LAST_APPLIED]!;
    assert.deepEqual(patch.body, { spec: { replicas: 5, minReadySeconds: null }, metadata: { annotations: { [LAST_APPLIED]: lastApplied } } });
    const live = api.get(DEPLOY, 'default', 'nginx-deployment') as unknown as { spec: Record<string, unknown> };
    assert.equal(live.spec['replicas'], 5);
    assert.equal('minReadySeconds' in live.spec, false);
  });

  test('namespace: the manifest, else -n, else default; a contradicting -n is refused', async () => {
    const path = await file('ns.yaml', `${SERVICE}---\n${CONFIG}`);
    const result = await run(api, ['apply', '-f', path, '-n', 'edge']);
    assert.equal(result.code, 1);
    assert.equal(result.out, 'service/my-service created\n');
    assert.match(result.err, /^error: .*ns\.yaml: document 2: the namespace from the provided object "games" does not match the namespace "edge"; pass --namespace=games/);
    assert.deepEqual(api.lines(), ['GET /api/v1/namespaces/edge/services/my-service', 'POST /api/v1/namespaces/edge/services']);
  });

  test('a kind bramble does not serve: error naming file, document and kind; the rest applied; exit 1', async () => {
    const path = await file('mixed.yaml', `${SERVICE}---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n---\n${CONFIG}`);
    const result = await run(api, ['apply', '-f', path]);
    assert.equal(result.code, 1);
    assert.equal(result.out, 'service/my-service created\nconfigmap/game-demo created\n');
    assert.match(result.err, /^error: .*mixed\.yaml: document 2: no matches for kind "CronJob" in version "batch\/v1"; bramble serves /);
  });

  test('bad YAML: error with file and line; the good documents still applied', async () => {
    const path = await file('broken.yaml', `${SERVICE}---\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n`);
    const result = await run(api, ['apply', '-f', path]);
    assert.equal(result.code, 1);
    assert.equal(result.out, 'service/my-service created\n');
    assert.match(result.err, /broken\.yaml: document 2: line 13, column \d+: invalid YAML: /);
  });

  test('-f - reads standard input; -f is required', async () => {
    const result = await run(api, ['apply', '-f', '-'], { stdin: CONFIG });
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'configmap/game-demo created\n');
    const missing = await run(api, ['apply']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /bramble apply: must give -f FILE/);
  });

  test('a refusal from the server names the file and continues', async () => {
    api.on('POST', '/api/v1/namespaces/default/services', (_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, message: 'Service "my-service" is invalid: spec.ports[0].port: Invalid value: 0' }));
    });
    const path = await file('refused.yaml', `${SERVICE}---\n${CONFIG}`);
    const result = await run(api, ['apply', '-f', path]);
    assert.equal(result.code, 1);
    assert.equal(result.out, 'configmap/game-demo created\n');
    assert.equal(result.err, `Error from server (Invalid): error when creating ${JSON.stringify(path)}: Service "my-service" is invalid: spec.ports[0].port: Invalid value: 0\n`);
  });

  test('an object created without apply is adopted: a warning, then configured', async () => {
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-demo', namespace: 'games' }, data: { lives: '1' } });
    const result = await run(api, ['apply', '-f', await file('adopt.yaml', CONFIG)]);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'configmap/game-demo configured\n');
    assert.match(result.err, /^Warning: configmap\/game-demo is missing the kubectl\.kubernetes\.io\/last-applied-configuration annotation/);
    assert.deepEqual((api.requests[1]!.body as { data: unknown }).data, { lives: '3' });
  });

  test('create -f: POST only; an existing object is an error', async () => {
    const path = await file('create.yaml', `${SERVICE}---\n${CONFIG}`);
    const first = await run(api, ['create', '-f', path]);
    assert.equal(first.code, 0, first.err);
    assert.equal(first.out, 'service/my-service created\nconfigmap/game-demo created\n');
    assert.deepEqual(api.lines(), ['POST /api/v1/namespaces/default/services', 'POST /api/v1/namespaces/games/configmaps']);
    assert.equal((api.requests[0]!.body as KObject).metadata.annotations, undefined);
    const second = await run(api, ['create', '-f', path]);
    assert.equal(second.code, 1);
    assert.equal(second.out, '');
    assert.equal(
      second.err,
      `Error from server (AlreadyExists): error when creating ${JSON.stringify(path)}: services "my-service" already exists\nError from server (AlreadyExists): error when creating ${JSON.stringify(path)}: configmaps "game-demo" already exists\n`,
    );
  });
});

describe('delete', () => {
  test('TYPE NAME...: one DELETE each, kubectl wording; a missing one is an error', async () => {
    api.seed(pod('a'), pod('b'));
    const result = await run(api, ['delete', 'pod', 'a', 'b', 'c']);
    assert.equal(result.code, 1);
    assert.deepEqual(api.lines(), ['DELETE /api/v1/namespaces/default/pods/a', 'DELETE /api/v1/namespaces/default/pods/b', 'DELETE /api/v1/namespaces/default/pods/c']);
    assert.equal(result.out, 'pod "a" deleted\npod "b" deleted\n');
    assert.equal(result.err, 'Error from server (NotFound): pods "c" not found\n');
    assert.equal(api.get(PODS, 'default', 'a'), undefined);
  });

  test('TYPE/NAME with a group; --ignore-not-found; --grace-period', async () => {
    api.seed(deployment('web'));
    const result = await run(api, ['delete', 'deploy/web', 'deploy/gone', '--ignore-not-found', '--grace-period', '0']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps "web" deleted\n');
    assert.deepEqual(api.lines(), ['DELETE /apis/apps/v1/namespaces/default/deployments/web?gracePeriodSeconds=0', 'DELETE /apis/apps/v1/namespaces/default/deployments/gone?gracePeriodSeconds=0']);
  });

  test('TYPE -l SELECTOR: list with the selector, then delete each', async () => {
    api.seed(pod('a', 'default', 'Running', { app: 'web' }), pod('b', 'default', 'Running', { app: 'db' }), pod('c', 'default', 'Running', { app: 'web' }));
    const result = await run(api, ['delete', 'pods', '-l', 'app=web']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=500', 'DELETE /api/v1/namespaces/default/pods/a', 'DELETE /api/v1/namespaces/default/pods/c']);
    assert.equal(result.out, 'pod "a" deleted\npod "c" deleted\n');
    const none = await run(api, ['delete', 'pods', '-l', 'app=nothing']);
    assert.equal(none.err, 'No resources found in default namespace.\n');
  });

  test('-f FILE deletes the objects it names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bramble-delete-'));
    try {
      const path = join(dir, 'x.yaml');
      await writeFile(path, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n');
      api.seed(deployment('web'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } });
      const result = await run(api, ['delete', '-f', path]);
      assert.equal(result.code, 0, result.err);
      assert.equal(result.out, 'configmap "cfg" deleted\ndeployment.apps "web" deleted\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a type without names, -l or --all is a usage error', async () => {
    const result = await run(api, ['delete', 'pods']);
    assert.equal(result.code, 2);
    assert.match(result.err, /give the names to delete, or -l SELECTOR, or --all/);
  });
});

describe('scale, logs, exec', () => {
  test('scale deploy/NAME --replicas=N: merge patch on the scale subresource', async () => {
    api.seed(deployment('web'));
    const result = await run(api, ['scale', 'deploy/web', '--replicas=5']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/web scaled\n');
    assert.equal(api.requests.length, 1);
    const request = api.requests[0]!;
    assert.equal(`${request.method} ${request.path}`, 'PATCH /apis/apps/v1/namespaces/default/deployments/web/scale');
    assert.equal(request.contentType, 'application/merge-patch+json');
    assert.deepEqual(request.body, { spec: { replicas: 5 } });
    assert.equal((api.get(DEPLOY, 'default', 'web') as unknown as { spec: { replicas: number } }).spec.replicas, 5);
  });

  test('scale deployment NAME --replicas N --current-replicas M: GET then PUT, refused on mismatch', async () => {
    api.seed(deployment('web', 2));
    const ok = await run(api, ['scale', 'deployment', 'web', '--replicas', '0', '--current-replicas', '2']);
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(api.lines(), ['GET /apis/apps/v1/namespaces/default/deployments/web/scale', 'PUT /apis/apps/v1/namespaces/default/deployments/web/scale']);
    assert.deepEqual((api.requests[1]!.body as { spec: unknown }).spec, { replicas: 0 });
    const stale = await run(api, ['scale', 'deployment', 'web', '--replicas', '3', '--current-replicas', '2']);
    assert.equal(stale.code, 1);
    assert.equal(stale.err, 'error: deployment.apps/web: expected 2 current replicas, found 0\n');
  });

  test('scale: a kind without a scale subresource, or no --replicas, is a usage error', async () => {
    assert.match((await run(api, ['scale', 'pod/x', '--replicas=1'])).err, /pods cannot be scaled/);
    assert.equal((await run(api, ['scale', 'deploy/web'])).code, 2);
    assert.equal(api.requests.length, 0);
  });

  test('logs POD -c C -f --tail N: the query, and the stream copied to stdout', async () => {
    api.on('GET', '/api/v1/namespaces/edge/pods/web-1/log', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line 1\nline');
      setTimeout(() => res.end(' 2\n'), 20);
    });
    const result = await run(api, ['logs', 'web-1', '-c', 'app', '-f', '--tail', '20', '-n', 'edge']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'line 1\nline 2\n');
    assert.deepEqual(api.requests[0]!.query, { container: 'app', follow: 'true', tailLines: '20' });
    await run(api, ['logs', 'pod/web-1', '-n', 'edge']);
    assert.deepEqual(api.requests[1]!.query, {});
  });

  test('logs of a missing pod: the Status message, exit 1', async () => {
    const result = await run(api, ['logs', 'nope']);
    assert.equal(result.code, 1);
    assert.equal(result.err, 'Error from server (NotFound): pods "nope" not found\n');
  });

  test('exec POD -c C -- CMD ARGS: the JSON request; output and exit code passed on', async () => {
    api.on('POST', '/api/v1/namespaces/default/pods/web-1/exec', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ exitCode: 3, stdout: 'hello\n', stderr: 'warning\n' }));
    });
    const result = await run(api, ['exec', 'web-1', '-c', 'app', '--', 'sh', '-c', 'echo hello; exit 3']);
    assert.equal(result.code, 3);
    assert.equal(result.out, 'hello\n');
    assert.equal(result.err, 'warning\n');
    const request = api.requests[0]!;
    assert.equal(request.contentType, 'application/json');
    assert.deepEqual(request.body, { command: ['sh', '-c', 'echo hello; exit 3'], container: 'app' });
  });

  test('exec without -- COMMAND is a usage error', async () => {
    assert.equal((await run(api, ['exec', 'web-1'])).code, 2);
    assert.equal((await run(api, ['exec', 'web-1', 'ls'])).code, 2);
  });
});

describe('top, version, token', () => {
  test('top nodes: usage against allocatable, nodes without metrics last', async () => {
    const node = (name: string, cpu: string, memory: string): KObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { allocatable: { cpu, memory }, capacity: { cpu, memory } } });
    api.seed(node('gw1', '4', '4Gi'), node('gw2', '2', '2000Mi'), node('gw3', '4', '4Gi'));
    api.on('GET', '/apis/metrics.k8s.io/v1beta1/nodes', (_req, res) => {
      res.end(
        JSON.stringify({
          kind: 'NodeMetricsList',
          items: [
            { metadata: { name: 'gw1' }, timestamp: '2024-01-01T00:59:50Z', window: '10s', usage: { cpu: '250m', memory: '512Mi' } },
            { metadata: { name: 'gw2' }, timestamp: '2024-01-01T00:59:50Z', window: '10s', usage: { cpu: '1500000000n', memory: '1000Mi' } },
          ],
        }),
      );
    });
    const result = await run(api, ['top', 'nodes']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(api.lines(), ['GET /apis/metrics.k8s.io/v1beta1/nodes', 'GET /api/v1/nodes?limit=500']);
    assert.equal(
      result.out,
      'NAME   CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\ngw1    250m         6%          512Mi           12%\ngw2    1500m        75%         1000Mi          50%\ngw3    <unknown>    <unknown>   <unknown>       <unknown>\n',
    );
  });

  test('version: the client line, then the server version', async () => {
    api.on('GET', '/version', (_req, res) => {
      res.end(JSON.stringify({ major: '1', minor: '30', gitVersion: 'v1.30.0', platform: 'linux/arm64', bramble: '0.1.0' }));
    });
    const result = await run(api, ['version']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'bramble 9.8.7 (node 20.0.0, linux/x64)\nServer Version: bramble 0.1.0 (v1.30.0, linux/arm64)\n');
  });

  test('version with no server: the client line, then a note on stderr, exit 0; --client asks nothing', async () => {
    const down = await run(undefined, ['version'], { env: { BRAMBLE_SERVER: 'http://127.0.0.1:1' } });
    assert.equal(down.code, 0);
    assert.equal(down.out, 'bramble 9.8.7 (node 20.0.0, linux/x64)\n');
    assert.match(down.err, /^bramble: server version unknown: cannot reach the bramble server at http:\/\/127\.0\.0\.1:1/);
    const client = await run(api, ['version', '--client']);
    assert.equal(client.code, 0);
    assert.equal(client.out, 'bramble 9.8.7 (node 20.0.0, linux/x64)\n');
    assert.equal(api.requests.length, 0);
  });

  test('token create --read-only: POST, then the token alone on stdout', async () => {
    api.on('POST', '/bramble/v1/tokens', (req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'bt_abc123', readOnly: (req.body as { readOnly: boolean }).readOnly }));
    });
    const result = await run(api, ['token', 'create', '--read-only']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'bt_abc123\n');
    assert.deepEqual(api.requests[0]!.body, { readOnly: true });
    assert.equal(api.requests[0]!.contentType, 'application/json');
    await run(api, ['token', 'create']);
    assert.deepEqual(api.requests[1]!.body, { readOnly: false });
  });

  test('token --data-dir still prints the join token file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bramble-token-'));
    try {
      await writeFile(join(dir, 'token'), 'K10join::token\n');
      const result = await run(undefined, ['token', '--data-dir', dir]);
      assert.equal(result.code, 0, result.err);
      assert.equal(result.out, 'K10join::token\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
