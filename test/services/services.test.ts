// Issue 7 for real: three gateways, each in its own network namespace, real pods. The flat pod
// network (pod to pod across gateways, the receiver sees the sender's pod IP), a Service over a
// 3-replica HTTP Deployment reached by ClusterIP and by name from a pod on another gateway, a
// NodePort from the lab's bridge, a killed backend skipped, ClientIP affinity, and the seed's
// environment variables for Services created before a pod and not after.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { ClusterLab, LabGateway } from '../helpers/cluster-lab.ts';
import { eventually, withClusterLab } from '../helpers/cluster-lab.ts';

type Pod = { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] } };

const ready = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

function pinnedPod(name: string, node: string, command: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { role: name } },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', command], ...extra }] },
  };
}

async function exec(gw: LabGateway, pod: string, command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await gw.api('POST', `/api/v1/namespaces/default/pods/${pod}/exec`, { command, container: 'c' });
  if (r.status !== 200) throw new Error(`exec in ${pod}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function readyPod(gw: LabGateway, name: string): Promise<Pod> {
  return eventually(`pod ${name} ready`, async () => {
    const r = await gw.api('GET', `/api/v1/namespaces/default/pods/${name}`);
    return r.status === 200 && ready(r.json) ? (r.json as Pod) : undefined;
  }, 60_000, async () => JSON.stringify((await gw.api('GET', `/api/v1/namespaces/default/pods/${name}`)).json?.status ?? {}).slice(0, 600));
}

const WEB = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'h',
            image: 'busybox',
            // httpd as a child of sh (not PID 1), so the test can kill it from an exec
            command: ['sh', '-c', 'mkdir -p /w && hostname > /w/index.html && httpd -f -p 8080 -h /w & wait'],
            ports: [{ containerPort: 8080, name: 'http' }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    },
  },
});

describe('services across three gateways', { concurrency: false }, () => {
  it('flat pod network, ClusterIP by IP and by name, NodePort, failover to live backends, ClientIP affinity, env vars, balancing while cut off, routes back after a link flap', async () => {
    await withClusterLab({ zones: ['z1', 'z2', 'z3'] }, async (lab: ClusterLab) => {
      const [g1, g2, g3] = lab.gateways as [LabGateway, LabGateway, LabGateway];
      // The seed's example: redis-master exists before the client pod, late-svc after it.
      await lab.apply([
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis-master' }, spec: { selector: { app: 'redis' }, ports: [{ port: 6379, targetPort: 6379 }] } },
      ]);
      // Pod to pod across gateways: a listener on g3 records who connected.
      await lab.apply([pinnedPod('listener', g3.name, 'while true; do nc -l -p 9000 >/dev/null; done'), pinnedPod('client', g1.name, 'sleep 3600')]);
      const listener = await readyPod(g1, 'listener');
      const client = await readyPod(g1, 'client');
      assert.notEqual(listener.status!.podIP!.split('.').slice(0, 3).join('.'), client.status!.podIP!.split('.').slice(0, 3).join('.'), 'the two pods are in different gateways\' pod CIDRs');
      const ping = await exec(g1, 'client', ['ping', '-c', '1', '-W', '3', listener.status!.podIP!]);
      assert.equal(ping.exitCode, 0, `ping across gateways: ${ping.stdout} ${ping.stderr}`);
      // The receiver sees the sender's pod IP (no NAT inside 10.42.0.0/16): the TCP peer netstat
      // shows in the listener while the connection is open.
      const seen = await exec(g1, 'client', ['sh', '-c', `(sleep 2; echo) | nc ${listener.status!.podIP} 9000 >/dev/null & sleep 1; true`]);
      assert.equal(seen.exitCode, 0);
      const peers = await exec(g3, 'listener', ['sh', '-c', 'netstat -tn 2>/dev/null | grep ":9000 " || true']);
      assert.match(peers.stdout, new RegExp(`${client.status!.podIP!.replace(/\./g, '\\.')}:\\d+`), `the listener saw ${peers.stdout.trim() || 'nothing'}, want ${client.status!.podIP}`);

      // The web Deployment behind a Service (and a NodePort).
      await lab.apply([
        WEB(3),
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-np' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-sticky' }, spec: { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] } },
      ]);
      const cip = ((await g1.api('GET', '/api/v1/namespaces/default/services/web')).json.spec.clusterIP) as string;
      assert.match(cip, /^10\.43\./);
      const backends = await eventually('3 ready web pods on 3 gateways', async () => {
        const list = ((await g1.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).json.items as Pod[]).filter(ready);
        return list.length === 3 && new Set(list.map((p) => p.spec.nodeName)).size === 3 ? list : undefined;
      }, 90_000);
      await eventually('3 endpoints for web', async () => {
        const ep = (await g1.api('GET', '/api/v1/namespaces/default/endpoints/web')).json;
        return ep?.subsets?.[0]?.addresses?.length === 3 ? true : undefined;
      }, 30_000);
      const fetchMany = async (target: string, n: number) => {
        const r = await exec(g1, 'client', ['sh', '-c', `for i in $(seq ${n}); do wget -qO- -T 3 ${target}; done`]);
        return r.stdout.split('\n').filter(Boolean);
      };
      const names = new Set(backends.map((p) => p.metadata.name));
      const byIp = await eventually('every backend by ClusterIP', async () => {
        const got = new Set(await fetchMany(`http://${cip}`, 9));
        return [...names].every((n) => got.has(n)) ? got : undefined;
      }, 30_000);
      assert.equal(byIp.size, 3);
      const byName = new Set(await fetchMany('http://web', 9));
      assert.ok([...byName].every((n) => names.has(n)) && byName.size >= 2, `by name: ${[...byName].join(', ')}`);
      const nslookup = await exec(g1, 'client', ['nslookup', 'web.default.svc.cluster.local']);
      assert.match(nslookup.stdout, new RegExp(cip.replace(/\./g, '\\.')));
      // ClientIP affinity: one backend for one client.
      const sticky = new Set(await fetchMany('http://web-sticky', 6));
      assert.equal(sticky.size, 1, `affinity reached ${[...sticky].join(', ')}`);
      // NodePort from the lab's bridge (the hub namespace) to g2's address.
      const hub = `bcl-${lab.id}-hub`;
      execFileSync('ip', ['-n', hub, 'addr', 'add', '10.77.0.254/24', 'dev', 'br0']);
      const fromHub = spawnSync('ip', ['netns', 'exec', hub, 'sh', '-c', `for i in 1 2 3 4 5 6; do wget -qO- -T 3 http://${g2.addr}:30080; done`], { encoding: 'utf8', timeout: 30_000 });
      const npNames = new Set(fromHub.stdout.split('\n').filter(Boolean));
      assert.ok(npNames.size >= 2 && [...npNames].every((n) => names.has(n)), `NodePort answered ${fromHub.stdout} ${fromHub.stderr}`);
      // Health is public (no token) from another machine, as Kubernetes' /readyz; the rest is not.
      const health = spawnSync('ip', ['netns', 'exec', hub, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${g2.addr}:7080/readyz`], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(health.stdout, '200');
      const secret = spawnSync('ip', ['netns', 'exec', hub, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${g2.addr}:7080/api/v1/pods`], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(secret.stdout, '401');
      // A backend killed mid-test is skipped: kill the httpd on g3 behind the balancer's back.
      const victim = backends.find((p) => p.spec.nodeName === g3.name)!;
      await exec(g3, victim.metadata.name, ['sh', '-c', 'kill -9 $(pidof httpd)']).catch(() => undefined);
      const after = await fetchMany(`http://${cip}`, 9);
      assert.equal(after.length, 9, `requests failed after a backend died: ${after.join(', ')}`);

      // Environment: redis-master existed before the client pod, late-svc did not.
      await lab.apply([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'late-svc' }, spec: { selector: { app: 'late' }, ports: [{ port: 1234 }] } }]);
      const env = (await exec(g1, 'client', ['env'])).stdout;
      const redisIp = ((await g1.api('GET', '/api/v1/namespaces/default/services/redis-master')).json.spec.clusterIP) as string;
      assert.match(env, new RegExp(`^REDIS_MASTER_SERVICE_HOST=${redisIp.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(env, /^REDIS_MASTER_SERVICE_PORT=6379$/m);
      assert.match(env, new RegExp(`^REDIS_MASTER_PORT=tcp://${redisIp.replace(/\./g, '\\.')}:6379$`, 'm'));
      assert.doesNotMatch(env, /LATE_SVC_SERVICE_HOST/);
      assert.doesNotMatch(env, /^WEB_SERVICE_HOST=/m, 'web was created after the client pod');

      // Cut off from the rest of the cluster (and the leader), g1's balancer keeps forwarding on
      // the endpoints it last knew: the backend on g1 itself still answers through the ClusterIP
      // (the others are unreachable: with the link down its routes are gone, so they fail at once and are marked down). Asked from g1's own side:
      // exec needs the API, which a cut-off gateway cannot serve consistently.
      const local = backends.find((p) => p.spec.nodeName === g1.name)!;
      g1.linkDown();
      try {
        const cut = spawnSync('ip', ['netns', 'exec', g1.ns, 'sh', '-c', `for i in 1 2 3 4; do curl -s --max-time 10 http://${cip}; done`], { encoding: 'utf8', timeout: 60_000 });
        const answered = cut.stdout.split('\n').filter(Boolean);
        assert.deepEqual(answered, Array(4).fill(local.metadata.name), `cut off, the ClusterIP answered ${answered.join(', ')} ${cut.stderr}`);
      } finally {
        g1.linkUp();
      }
      // Taking the link down took g1's routes to the other gateways' pods with it (the kernel
      // does not bring them back): bramble does, and pod to pod across gateways works again.
      await eventually('g1\'s routes to the other gateways\' pods restored', async () => {
        const r = spawnSync('ip', ['-n', g1.ns, '-4', 'route', 'show', 'proto', '44'], { encoding: 'utf8' });
        return r.stdout.split('\n').filter(Boolean).length === 2 ? true : undefined;
      }, 30_000);
      // (exec goes through the API, which needs g1 back in touch with the leader first.)
      await eventually('ping across gateways after the link came back', async () => {
        const again = await exec(g1, 'client', ['ping', '-c', '1', '-W', '3', listener.status!.podIP!]).catch(() => undefined);
        return again?.exitCode === 0 ? true : undefined;
      }, 30_000);
    });
  });
});
