// The CLI against a real `bramble server` (a process, with its SQLite store), run as users run it:
// `dist/bramble.mjs ...` (its first line runs node with its flags) with --server. The Kubernetes
// documentation's manifests apply unchanged; apply is idempotent; get, describe, scale, delete
// and errors behave like kubectl.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab, MemberProcess } from '../helpers/members.ts';
import { startLab } from '../helpers/members.ts';
import { GAME_DEMO_CONFIGMAP, MY_SERVICE, NGINX_DEPLOYMENT } from '../model/fixtures.ts';

const bundle = join(process.cwd(), 'dist', 'bramble.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(server: string, args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(bundle, [...args, '--server', `http://${server}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

// The Kubernetes documentation's own manifests (kept verbatim in the model's fixtures).
const DOC_MANIFESTS = [NGINX_DEPLOYMENT, MY_SERVICE, GAME_DEMO_CONFIGMAP].map((doc) => doc.trim()).join('\n---\n');

describe('bramble CLI against a real server', () => {
  let lab: Lab;
  let m: MemberProcess;
  let dir: string;
  before(async () => {
    lab = startLab();
    m = await lab.start('cli1');
    dir = mkdtempSync(join(tmpdir(), 'bramble-cli-'));
  });
  after(async () => {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the Kubernetes documentation manifests, then reports them unchanged, then configured', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, DOC_MANIFESTS);
    const first = await cli(m.api, ['apply', '-f', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n'), ['deployment.apps/nginx-deployment created', 'service/my-service created', 'configmap/game-demo created']);
    const second = await cli(m.api, ['apply', '-f', file]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.stdout.trim().split('\n'), ['deployment.apps/nginx-deployment unchanged', 'service/my-service unchanged', 'configmap/game-demo unchanged']);
    writeFileSync(file, DOC_MANIFESTS.replace('replicas: 3', 'replicas: 2'));
    const third = await cli(m.api, ['apply', '-f', file]);
    assert.match(third.stdout, /deployment.apps\/nginx-deployment configured/);
    assert.match(third.stdout, /configmap\/game-demo unchanged/);
    const fromStdin = await cli(m.api, ['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\ndata:\n  a: "1"\n');
    assert.equal(fromStdin.stdout.trim(), 'configmap/piped created');
  });

  it('gets tables, a List as JSON, YAML and names', async () => {
    const table = await cli(m.api, ['get', 'deploy']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    assert.match(lines[1]!, /^nginx-deployment\s+0\/2\s+/);
    const json = await cli(m.api, ['get', 'deployments', '-o', 'json']);
    const list = JSON.parse(json.stdout);
    assert.ok(list.kind === 'List' || list.kind === 'DeploymentList');
    assert.equal(list.items[0].metadata.name, 'nginx-deployment');
    assert.equal(list.items[0].spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    const svc = await cli(m.api, ['get', 'svc']);
    assert.match(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    assert.match(svc.stdout, /my-service\s+ClusterIP\s+.*80\/TCP/);
    const yaml = await cli(m.api, ['get', 'cm', 'game-demo', '-o', 'yaml']);
    assert.match(yaml.stdout, /kind: ConfigMap/);
    assert.match(yaml.stdout, /enemy.types=aliens,monsters/);
    const names = await cli(m.api, ['get', 'cm', '-o', 'name']);
    assert.match(names.stdout, /^configmap\/game-demo$/m);
    const ns = await cli(m.api, ['get', 'ns']);
    assert.match(ns.stdout, /^default\s+Active\s+/m);
  });

  it('scales, describes and deletes', async () => {
    const scaled = await cli(m.api, ['scale', 'deploy/nginx-deployment', '--replicas=5']);
    assert.equal(scaled.stdout.trim(), 'deployment.apps/nginx-deployment scaled');
    const json = JSON.parse((await cli(m.api, ['get', 'deploy', 'nginx-deployment', '-o', 'json'])).stdout);
    assert.equal(json.spec.replicas, 5);
    const described = await cli(m.api, ['describe', 'deploy', 'nginx-deployment']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Name:\s+nginx-deployment$/m);
    assert.match(described.stdout, /^Replicas:\s+5 desired/m);
    assert.match(described.stdout, /^Events:/m);
    const deleted = await cli(m.api, ['delete', 'cm', 'game-demo']);
    assert.equal(deleted.stdout.trim(), 'configmap "game-demo" deleted');
    const gone = await cli(m.api, ['get', 'cm', 'game-demo']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): configmaps "game-demo" not found');
  });

  it('refuses a bad manifest with one line naming the field, and writes nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: busybox\n    bogusField: 1\n');
    const r = await cli(m.api, ['apply', '-f', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.containers\[0\]\.bogusField/);
    assert.equal((await cli(m.api, ['get', 'pod', 'bad'])).code, 1);
  });

  it('never writes a Secret to its log', async () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: s3cr3t-value-7f3a\n');
    assert.equal((await cli(m.api, ['apply', '-f', file])).code, 0);
    // and a refused one: its value must not come back in the log either
    writeFileSync(file, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds2\ndata:\n  password: "not base64 s3cr3t-value-9c1d!"\n');
    assert.equal((await cli(m.api, ['apply', '-f', file])).code, 1);
    const described = await cli(m.api, ['describe', 'secret', 'creds']);
    assert.doesNotMatch(described.stdout, /s3cr3t/);
    const log = m.log.join('\n');
    for (const needle of ['s3cr3t-value-7f3a', Buffer.from('s3cr3t-value-7f3a').toString('base64'), 's3cr3t-value-9c1d']) assert.equal(log.includes(needle), false, `the log holds ${needle}`);
  });

  it('makes read-only tokens and prints versions', async () => {
    const token = await cli(m.api, ['token', 'create', '--read-only']);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^brr_[A-Za-z0-9_-]+$/);
    const version = await cli(m.api, ['version']);
    assert.match(version.stdout, /^Server Version: bramble \d+\.\d+\.\d+ \(v1\.\d+\.\d+/m);
    assert.equal(readFileSync(join(m.dataDir, 'admin-token'), 'utf8').trim().startsWith('bra_'), true);
  });

  it('takes global flags before the command, as kubectl does; top nodes with no node', async () => {
    const r = await new Promise<Run>((resolve) => {
      const child = spawn('node', [bundle, '--server', `http://${m.api}`, '-n', 'kube-system', 'get', 'cm', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).kind, 'List');
    // This member runs without an agent (--disable-agent): it is no node, sends no heartbeats,
    // and `top nodes` says there is nothing to show (the heartbeat path has its own tests).
    const top = await cli(m.api, ['top', 'nodes']);
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stdout, '');
    assert.match(top.stderr, /^No resources found/);
  });

  it('says which server it could not reach', async () => {
    const r = await cli('127.0.0.1:1', ['get', 'pods']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
    assert.match(r.stderr, /--server/);
  });
});
