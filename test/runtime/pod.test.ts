// A pod for real: a fresh network namespace, the pod's IPC and UTS namespaces pinned as files,
// containers that join them by path (and a sandbox's PID namespace when they share one); exec,
// graceful stop, OOM detection, logs (tail, follow, copy-truncate rotation).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BUSYBOX_IMAGE,
  containerId,
  containerLogPath,
  ensureBusyboxImage,
  isNamespaceMounted,
  type JoinedNamespaces,
  LABEL_POD_UID,
  pinPodNamespaces,
  podLabels,
  readLog,
  releasePodNamespaces,
  rotateLog,
  sandboxId,
  type Containers,
} from '../../src/runtime/index.ts';
import { alive, sleep, startLab, waitFor, type Lab } from './helpers.ts';

describe('pod sandbox and containers (real containerd)', () => {
  let lab: Lab;
  let c: Containers;
  const pod = { namespace: 'default', name: 'web-0', uid: '9d1c2b3a-0000-4000-8000-00000000abcd' };
  let sandboxPid = 0;
  let joined: JoinedNamespaces;
  let pinDir = '';
  const logOf = (name: string) => containerLogPath(join(lab.dir, 'logs'), { namespace: pod.namespace, podName: pod.name, podUid: pod.uid, containerName: name });

  before(async () => {
    lab = await startLab();
    c = lab.runtime.containers;
    await ensureBusyboxImage(lab.ctr, { workDir: lab.dir });
    const netnsPath = lab.addNetns();
    pinDir = join(lab.dir, 'pods', pod.uid, 'ns');
    const { paths, created } = await pinPodNamespaces(pinDir, { hostname: pod.name });
    assert.equal(created, true);
    joined = { network: netnsPath, ...paths };
    // The PID-namespace holder the containers that share PIDs join (shareProcessNamespace).
    ({ pid: sandboxPid } = await c.runSandbox({ id: sandboxId(pod.uid), netnsPath, pinned: paths, hostname: pod.name, labels: podLabels(pod) }));
  });
  after(async () => {
    if (pinDir) await releasePodNamespaces(pinDir).catch(() => undefined);
    await lab?.cleanup();
  });

  const run = (name: string, command: string[], extra: Partial<Parameters<Containers['runContainer']>[0]> = {}) =>
    c.runContainer({
      id: containerId(pod.uid, name),
      image: 'busybox',
      command,
      namespaces: joined,
      logPath: logOf(name),
      labels: podLabels(pod, name),
      ...extra,
    });

  test('two containers share network, IPC, UTS (and PID when asked); mounts, env, cwd apply', async () => {
    const shared = join(lab.dir, 'volume');
    mkdirSync(shared);
    writeFileSync(join(shared, 'index.html'), 'hello from the pod\n');
    await run('server', ['httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/www'], {
      mounts: [{ source: shared, destination: '/www', readOnly: true }],
      namespaces: { ...joined, pid: `/proc/${sandboxPid}/ns/pid` },
    });
    await run('client', ['sh', '-c', 'while :; do sleep 1; done'], { env: { GREETING: 'hi there', EMPTY: '' }, workingDir: '/tmp', namespaces: { ...joined, pid: `/proc/${sandboxPid}/ns/pid` } });
    const client = containerId(pod.uid, 'client');
    const fetched = await waitFor('the client to reach the server over localhost', async () => {
      const result = await c.exec(client, ['wget', '-qO-', 'http://127.0.0.1:8080/index.html'], { timeoutMs: 5_000 });
      return result.exitCode === 0 ? result.stdout : undefined;
    });
    assert.equal(fetched, 'hello from the pod\n');
    assert.equal((await c.exec(client, ['hostname'])).stdout, `${pod.name}\n`);
    assert.equal((await c.exec(containerId(pod.uid, 'server'), ['hostname'])).stdout, `${pod.name}\n`);
    // IPC: a SysV shared memory segment made in the server's IPC namespace (from the host:
    // busybox-static has no ipcmk or ipcs) is listed inside the client.
    const serverPid = (await c.taskStatus(containerId(pod.uid, 'server'))).pid;
    const made = execFileSync('nsenter', [`--ipc=/proc/${serverPid}/ns/ipc`, '--', 'ipcmk', '-M', '4096'], { encoding: 'utf8' });
    const shmId = /(\d+)\s*$/.exec(made.trim())?.[1];
    assert.ok(shmId, made);
    const ipcs = (await c.exec(client, ['cat', '/proc/sysvipc/shm'])).stdout;
    assert.match(ipcs, new RegExp(`\\b${shmId}\\b`));
    execFileSync('nsenter', [`--ipc=/proc/${serverPid}/ns/ipc`, '--', 'ipcrm', '-m', shmId]);
    assert.equal((await c.exec(client, ['sh', '-c', 'echo "$GREETING|$EMPTY|$(pwd)"'])).stdout, 'hi there||/tmp\n');
    const ps = (await c.exec(client, ['ps', '-o', 'args'])).stdout;
    assert.match(ps, /httpd -f -p 127\.0\.0\.1:8080/);
    assert.match(ps, /sleep 3600/); // the sandbox's own loop: one PID namespace for the pod
    // Read-only mount really is.
    const write = await c.exec(containerId(pod.uid, 'server'), ['sh', '-c', 'echo x > /www/new']);
    assert.notEqual(write.exitCode, 0);
  });

  test('without a sandbox: a container joins the pinned IPC and UTS by path; re-pinning from its pid keeps them; release unmounts', async () => {
    await run('solo', ['sleep', '3600']);
    const solo = containerId(pod.uid, 'solo');
    const soloPid = (await c.taskStatus(solo)).pid;
    assert.equal((await c.exec(solo, ['hostname'])).stdout, `${pod.name}\n`);
    const serverPid = (await c.taskStatus(containerId(pod.uid, 'server'))).pid;
    for (const kind of ['ipc', 'uts', 'net'] as const) {
      assert.equal(readlinkSync(`/proc/${soloPid}/ns/${kind}`), readlinkSync(`/proc/${serverPid}/ns/${kind}`), `${kind} shared with the other containers`);
    }
    assert.notEqual(readlinkSync(`/proc/${soloPid}/ns/pid`), readlinkSync(`/proc/${serverPid}/ns/pid`), 'no shared PID namespace unless asked');
    // What a daemon restarted in another mount namespace does: pin the namespaces of a running
    // container (here into a second directory) and get the very same ones.
    const again = join(lab.dir, 'pods', pod.uid, 'ns-again');
    const repinned = await pinPodNamespaces(again, { hostname: 'ignored', fromPid: soloPid });
    assert.equal(repinned.created, false);
    assert.equal(await isNamespaceMounted(repinned.paths.ipc), true);
    const inode = (path: string) => execFileSync('stat', ['-L', '-c', '%i', path], { encoding: 'utf8' }).trim();
    assert.equal(inode(repinned.paths.uts), inode(joined.uts));
    assert.equal(inode(repinned.paths.ipc), readlinkSync(`/proc/${soloPid}/ns/ipc`).replace(/\D/g, ''));
    assert.equal((await pinPodNamespaces(again, { hostname: 'x' })).created, false, 'mounted pins are kept');
    await releasePodNamespaces(again);
    await releasePodNamespaces(again); // idempotent
    assert.equal(existsSync(again), false);
    assert.equal(await isNamespaceMounted(joined.ipc), true, 'the pod\'s own pins are untouched');
    await c.removeContainer(solo);
  });

  test('a snapshot or a shim bundle left by a run cut short is removed with the container id, so the id runs again', async () => {
    // Make what a power cut in the middle of `ctr run` leaves: the container's snapshot, keyed by
    // its id, on the image's layers, and no container.
    const probe = containerId(pod.uid, 'probe');
    await run('probe', ['sleep', '1']);
    const parent = (JSON.parse((await lab.ctr.run(['snapshots', 'info', probe])).stdout) as { Parent: string }).Parent;
    await c.removeContainer(probe);
    const orphan = containerId(pod.uid, 'orphan');
    await lab.ctr.run(['snapshots', 'prepare', orphan, parent]);
    await assert.rejects(run('orphan', ['sleep', '3600']), /already exists/);
    await c.removeContainer(orphan);
    await run('orphan', ['sleep', '3600']);
    assert.equal((await c.taskStatus(orphan)).state, 'running');
    await c.removeContainer(orphan);
    // The same for the bundle directory of a shim killed while it started.
    const bundle = join(lab.supervisor.dir, 'state', 'io.containerd.runtime.v2.task', lab.ctr.namespace, orphan);
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    writeFileSync(join(bundle, 'init.pid'), '999999');
    await assert.rejects(run('orphan', ['sleep', '3600']), /file exists/);
    await c.removeContainer(orphan);
    assert.equal(existsSync(bundle), false);
    await run('orphan', ['sleep', '3600']);
    assert.equal((await c.taskStatus(orphan)).state, 'running');
    await c.removeContainer(orphan);
  });

  test('exec returns exit code, stdout and stderr; ctr failures and timeouts throw', async () => {
    const client = containerId(pod.uid, 'client');
    const result = await c.exec(client, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(result, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    await assert.rejects(c.exec(client, ['/no/such/binary']), (error: unknown) => {
      assert.match((error as Error).message, /ctr tasks exec .*no such file or directory/);
      return true;
    });
    await assert.rejects(c.exec(containerId(pod.uid, 'nope'), ['true']), /not found/);
    const started = Date.now();
    await assert.rejects(c.exec(client, ['sleep', '30'], { timeoutMs: 500 }), (error: unknown) => (error as { timedOut?: boolean }).timedOut === true);
    assert.ok(Date.now() - started < 5_000);
    // The timed-out process was killed inside the container too.
    await waitFor('the timed-out exec to be killed', async () => (/sleep 30/.test((await c.exec(client, ['ps', '-o', 'args'])).stdout) ? undefined : true));
  });

  test('stopTask: a container that traps TERM exits 0 within the grace; one that ignores it is killed', async () => {
    await run('polite', ['sh', '-c', 'trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done']);
    await run('stubborn', ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']);
    await sleep(300); // let the shells install their traps
    const [polite, stubborn] = await Promise.all([c.stopTask(containerId(pod.uid, 'polite'), 5), c.stopTask(containerId(pod.uid, 'stubborn'), 1)]);
    assert.equal(polite.state, 'stopped');
    assert.equal(polite.exitCode, 0);
    assert.ok(polite.exitedAt);
    assert.equal(stubborn.state, 'stopped');
    assert.equal(stubborn.exitCode, 137);
    assert.match(readFileSync(logOf('polite'), 'utf8'), /bye\n$/);
    assert.deepEqual(await c.deleteTask(containerId(pod.uid, 'stubborn')), { exitCode: 137 });
    await c.removeContainer(containerId(pod.uid, 'polite'));
    await c.removeContainer(containerId(pod.uid, 'polite')); // idempotent
    await c.removeContainer(containerId(pod.uid, 'stubborn'));
    assert.equal(await c.containerInfo(containerId(pod.uid, 'polite')), undefined);
  });

  test('memory limit: an over-allocating container is OOM-killed and told apart from a plain kill', async () => {
    await run('hog', ['sh', '-c', 'head -c 200000000 /dev/zero | tail > /dev/null'], { memoryLimitBytes: 32 * 1024 * 1024 });
    await run('killed', ['sleep', '60'], { memoryLimitBytes: 32 * 1024 * 1024, cpuLimitCores: 0.5 });
    const hog = containerId(pod.uid, 'hog');
    const status = await waitFor('the hog to stop', async () => {
      const current = await c.taskStatus(hog);
      return current.state === 'stopped' && current.exitCode !== null ? current : undefined;
    });
    assert.equal(status.exitCode, 137);
    assert.equal(await c.wasOomKilled(hog), true);
    const killed = containerId(pod.uid, 'killed');
    await c.killTask(killed, 'SIGKILL');
    const killedStatus = await waitFor('the killed one to stop', async () => {
      const current = await c.taskStatus(killed);
      return current.state === 'stopped' && current.exitCode !== null ? current : undefined;
    });
    assert.equal(killedStatus.exitCode, 137);
    assert.equal(await c.wasOomKilled(killed), false);
    await c.removeContainer(hog);
    await c.removeContainer(killed);
  });

  test('listContainers finds the pod by label; listTasks shows running tasks with pids', async () => {
    const mine = await c.listContainers({ key: LABEL_POD_UID, value: pod.uid });
    const ids = mine.map((info) => info.id).sort();
    assert.deepEqual(ids, [sandboxId(pod.uid), containerId(pod.uid, 'client'), containerId(pod.uid, 'server')].sort());
    const sandbox = mine.find((info) => info.id === sandboxId(pod.uid));
    assert.equal(sandbox?.labels['io.bramble.sandbox'], 'true');
    assert.equal(sandbox?.image, BUSYBOX_IMAGE);
    const server = mine.find((info) => info.id === containerId(pod.uid, 'server'));
    assert.equal(server?.labels['io.bramble.container.name'], 'server');
    assert.equal(server?.labels['io.bramble.pod.namespace'], 'default');
    const tasks = await lab.runtime.containers.listTasks();
    const sandboxTask = tasks.find((task) => task.id === sandboxId(pod.uid));
    assert.equal(sandboxTask?.pid, sandboxPid);
    assert.equal(sandboxTask?.state, 'running');
    assert.ok(alive(sandboxPid));
  });

  test('logs: tail, follow across a copy-truncate rotation, and the rotation keeps filesMax files', async () => {
    await run('talker', ['sh', '-c', 'i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo "line $i"; done; sleep 0.2; echo "err line" >&2; while :; do sleep 0.05; read -t 0 x; [ -f /tmp/go ] && { i=$((i+1)); echo "line $i"; }; done']);
    const talker = containerId(pod.uid, 'talker');
    const path = logOf('talker');
    // stdout and stderr are two pipes merged by the shim: order holds within one stream only.
    await waitFor('the first lines', () => (readFileSync(path, 'utf8').includes('err line') ? true : undefined));
    const tail: Buffer[] = [];
    await readLog(path, { tailLines: 2 }, (chunk) => void tail.push(chunk));
    assert.equal(Buffer.concat(tail).toString(), 'line 5\nerr line\n');
    const all: Buffer[] = [];
    await readLog(path, {}, (chunk) => void all.push(chunk));
    assert.equal(Buffer.concat(all).toString(), 'line 1\nline 2\nline 3\nline 4\nline 5\nerr line\n');

    // Follow from "now", then let the container write and rotate underneath the reader.
    const controller = new AbortController();
    const followed: string[] = [];
    const following = readLog(path, { tailLines: 0, follow: true, signal: controller.signal, pollMs: 50 }, (chunk) => void followed.push(chunk.toString()));
    await c.exec(talker, ['touch', '/tmp/go']);
    await waitFor('followed lines', () => (followed.join('').includes('line 8') ? true : undefined));
    assert.equal(rotateLog(path, { fileBytesMax: 10, filesMax: 3 }), true);
    assert.equal(readFileSync(`${path}.1`, 'utf8').startsWith('line 1\n'), true);
    // The shim keeps writing through its O_APPEND fd into the truncated file, from offset 0.
    await waitFor('new lines after rotation', () => (/^line \d+\n/.test(readFileSync(path, 'utf8')) ? true : undefined));
    assert.equal(readFileSync(path).indexOf(0), -1, 'no NUL bytes (sparse hole) after truncate');
    const seenAfter = followed.join('').length;
    await waitFor('the follower to read past the rotation', () => (followed.join('').length > seenAfter + 14 ? true : undefined));
    controller.abort();
    await following;
    await sleep(150);
    assert.equal(rotateLog(path, { fileBytesMax: 10, filesMax: 3 }), true);
    await sleep(150);
    assert.equal(rotateLog(path, { fileBytesMax: 10, filesMax: 3 }), true);
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(join(path, '..')).sort(), ['current.log', 'current.log.1', 'current.log.2']);
    await c.removeContainer(talker);
  });
});
