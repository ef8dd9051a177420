// The containerd supervisor against the real binary: start, restart with back-off after
// kill -9 (logged once per outage), stop; containers survive containerd dying, a supervisor
// stop (keepContainers) and the kill -9 of the daemon that supervised them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX_IMAGE, ContainerdSupervisor, ensureBusyboxImage, ExternalContainerd, probeContainerd } from '../../src/runtime/index.ts';
import { alive, recordLogs, startLab, waitFor, type Lab } from './helpers.ts';

describe('containerd supervisor (real containerd)', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ backoffInitialMs: 100 });
    await ensureBusyboxImage(lab.ctr, { workDir: lab.dir });
  });
  after(async () => {
    await lab?.cleanup();
  });

  const runKeeper = async (id: string) => {
    await lab.ctr.run(['run', '-d', '--null-io', BUSYBOX_IMAGE, id, 'sleep', '600']);
    return (await lab.runtime.containers.taskStatus(id)).pid;
  };

  test('starts its own containerd under the directory, with our config', async () => {
    const supervisor = lab.supervisor;
    assert.equal(supervisor.state, 'running');
    assert.ok(supervisor.pid && alive(supervisor.pid));
    assert.ok(existsSync(join(lab.dir, 'containerd', 'containerd.sock')));
    assert.ok(existsSync(join(lab.dir, 'containerd', 'root')));
    assert.ok(existsSync(join(lab.dir, 'containerd', 'state')));
    assert.equal(await probeContainerd(supervisor.address), true);
  });

  test('kill -9 of containerd: restarted with back-off, one log line per outage, containers keep running', async () => {
    const keeperPid = await runKeeper('keeper-1');
    const before = lab.logs.records().length;
    const oldPid = lab.supervisor.pid!;
    process.kill(oldPid, 'SIGKILL');
    await waitFor('containerd to restart', () => (lab.supervisor.state === 'running' && lab.supervisor.pid !== oldPid ? true : undefined));
    await lab.supervisor.whenReady();
    const lines = lab.logs.records().slice(before);
    assert.equal(lines.filter((line) => line['level'] === 'error').length, 1, JSON.stringify(lines));
    assert.equal(lines.filter((line) => line['msg'] === 'containerd is back').length, 1);
    assert.equal(lab.supervisor.restarts, 1);
    assert.ok(alive(keeperPid));
    const status = await lab.runtime.containers.taskStatus('keeper-1');
    assert.deepEqual([status.state, status.pid], ['running', keeperPid]);
  });

  test('stop keeps containers (shims are not our children); a new start adopts them with the same pid', async () => {
    const keeperPid = (await lab.runtime.containers.taskStatus('keeper-1')).pid;
    const oldPid = lab.supervisor.pid!;
    await lab.supervisor.stop();
    assert.equal(alive(oldPid), false);
    assert.ok(alive(keeperPid), 'the container must survive containerd being stopped');
    await lab.supervisor.start();
    const status = await lab.runtime.containers.taskStatus('keeper-1');
    assert.deepEqual([status.state, status.pid], ['running', keeperPid]);
  });

  test('kill -9 of the daemon: the next start replaces its orphaned containerd, containers keep running', async () => {
    const keeperPid = (await lab.runtime.containers.taskStatus('keeper-1')).pid;
    await lab.supervisor.stop();
    const daemon = spawn(process.execPath, ['--import', './scripts/ts-loader.mjs', 'test/runtime/fixtures/hold-containerd.ts', join(lab.dir, 'containerd')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let orphanPid = 0;
    try {
      const line = await new Promise<string>((resolve, reject) => {
        daemon.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
        daemon.once('exit', (code) => reject(new Error(`the stand-in daemon exited early (${code})`)));
      });
      orphanPid = Number(/containerd (\d+)/.exec(line)?.[1]);
      assert.ok(orphanPid > 0, line);
    } finally {
      daemon.kill('SIGKILL');
    }
    await waitFor('the stand-in daemon to die', () => (daemon.exitCode !== null || daemon.signalCode !== null ? true : undefined));
    assert.ok(alive(orphanPid), 'containerd outlives a kill -9 of its parent');
    await lab.supervisor.start();
    assert.equal(alive(orphanPid), false, 'the orphaned containerd was stopped');
    assert.notEqual(lab.supervisor.pid, orphanPid);
    const status = await lab.runtime.containers.taskStatus('keeper-1');
    assert.deepEqual([status.state, status.pid], ['running', keeperPid]);
  });

  test('stop({ keepContainers: false }) removes the containers first', async () => {
    const keeperPid = (await lab.runtime.containers.taskStatus('keeper-1')).pid;
    await lab.supervisor.stop({ keepContainers: false, namespaces: [lab.namespace] });
    assert.equal(alive(keeperPid), false);
    await lab.supervisor.start();
    assert.deepEqual(await lab.runtime.containers.listContainerIds(), []);
  });

  test('a containerd that cannot start says why; an external socket that does not answer too', async () => {
    const broken = new ContainerdSupervisor({ dir: join(lab.dir, 'broken'), logger: recordLogs().logger, containerdPath: '/nonexistent/containerd' });
    await assert.rejects(broken.start(), /not found; install containerd/);
    await assert.rejects(new ExternalContainerd(join(lab.dir, 'nope.sock')).start(), /no such socket/);
    const external = new ExternalContainerd(lab.supervisor.address);
    await external.start();
    await external.stop(); // never stops someone else's containerd
    assert.equal(await probeContainerd(lab.supervisor.address), true);
  });
});
