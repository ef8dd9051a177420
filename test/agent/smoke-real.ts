// A manual smoke run of the agent over the real runtime and network (root, containerd, CNI):
//   node --import ./scripts/ts-loader.mjs test/agent/smoke-real.ts
// It makes its own gateway network namespace, containerd directory and containerd namespace,
// runs one two-container pod, reads its log, execs in it, deletes it, and removes everything.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkPort } from '../../src/agent/network-adapter.ts';
import { resourceApiClient, startAgent } from '../../src/agent/index.ts';
import { runtimePorts } from '../../src/agent/runtime-adapter.ts';
import { createLogger } from '../../src/log/index.ts';
import { findResource } from '../../src/model/index.ts';
import { PodNetwork } from '../../src/network/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import { startTestApi } from '../api/resource-helpers.ts';

const podsInfo = findResource('', 'v1', 'pods')!;
const gw = `gwsmoke${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'bramble-agent-smoke-'));
const logger = createLogger({ level: (process.env['LOG'] as 'debug') ?? 'warn' });
execFileSync('ip', ['netns', 'add', gw]);
execFileSync('ip', ['-n', gw, 'link', 'set', 'lo', 'up']);
const rt = await startRuntime({ dataDir: dir, logger, namespace: `bramble-smoke-${process.pid}` });
let exitCode = 1;
try {
  await rt.ensureBusyboxImage();
  const network = new PodNetwork({ dataDir: dir, hostNetns: gw, logger });
  const test = await startTestApi({ selfNode: 'gw1' });
  const api = resourceApiClient(test.resources.api, test.resources.deleter);
  const ports = runtimePorts(rt);
  const started = Date.now();
  const agent = await startAgent({ nodeName: 'gw1', dataDir: dir, ...ports, network: networkPort(network, 'gw1'), api, watch: test.resources.cache, logger });
  await test.resources.api.create(
    podsInfo,
    'default',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'smoke' },
      spec: {
        nodeName: 'gw1',
        terminationGracePeriodSeconds: 3,
        containers: [
          { name: 'web', image: 'busybox', command: ['sh', '-c', 'echo hello from $(POD_NAME); mkdir -p /www; echo ok > /www/index.html; httpd -f -p 8080 -h /www'], env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], readinessProbe: { exec: { command: ['wget', '-qO-', 'http://127.0.0.1:8080/'] }, periodSeconds: 1 } },
          { name: 'client', image: 'busybox', command: ['sh', '-c', 'sleep 3600'], livenessProbe: { exec: { command: ['true'] }, periodSeconds: 2 } },
        ],
      },
    },
    { dryRun: false },
  );
  let pod;
  for (let i = 0; i < 200; i++) {
    pod = await api.get(podsInfo, 'default', 'smoke');
    const status = pod?.['status'] as { phase?: string; conditions?: { type: string; status: string }[] } | undefined;
    if (status?.phase === 'Running' && status.conditions?.find((c) => c.type === 'Ready')?.status === 'True') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log('ready after', Date.now() - started, 'ms');
  console.log(JSON.stringify(pod?.['status'], null, 1));
  let log = '';
  await agent.podRuntime.logs(pod!, 'web', { container: 'web', follow: false, tailLines: undefined }, { writeHead() {}, write: (c: Buffer) => ((log += c), true), end() {}, destroyed: false, once() {} } as never, new AbortController().signal);
  console.log('log:', JSON.stringify(log));
  console.log('exec:', JSON.stringify(await agent.podRuntime.exec(pod!, 'client', ['sh', '-c', 'hostname; wget -qO- http://127.0.0.1:8080/; cat /etc/resolv.conf'], new AbortController().signal)));
  await test.call('DELETE', '/api/v1/namespaces/default/pods/smoke');
  for (let i = 0; i < 100 && (await api.get(podsInfo, 'default', 'smoke')); i++) await new Promise((r) => setTimeout(r, 100));
  console.log('deleted:', (await api.get(podsInfo, 'default', 'smoke')) === undefined, 'containers left:', (await ports.runtime.list()).length);
  await agent.stop();
  await test.close();
  exitCode = 0;
} catch (error) {
  console.error(error);
} finally {
  await rt.stop({ keepContainers: false, namespaces: [`bramble-smoke-${process.pid}`] });
  execFileSync('ip', ['netns', 'del', gw]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
