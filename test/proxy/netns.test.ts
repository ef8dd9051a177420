// The real address manager in a network namespace of its own (created and deleted here): the
// ClusterIP goes on the namespace's loopback labelled lo:bramble, serves TCP and UDP, and is
// taken off when the Service goes and at stop; an address bramble did not add stays, and one an
// earlier run added is removed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const netns = `bpx-${process.pid}`;

describe('balancer in its own network namespace', () => {
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root to create a network namespace: run the suite as root, as the README says');
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    // Someone else's Service-range address, and one an earlier bramble run left.
    await run('ip', ['-n', netns, 'addr', 'add', '10.43.77.8/32', 'dev', 'lo']);
    await run('ip', ['-n', netns, 'addr', 'add', '10.43.77.9/32', 'dev', 'lo', 'label', 'lo:bramble']);
  });
  after(async () => {
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
  });

  it('binds a real ClusterIP on the loopback and removes only its own addresses', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', netns, process.execPath, '--import', './scripts/ts-loader.mjs', 'test/proxy/netns-child.ts'], { timeout: 20_000 });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string[] | string>;
    assert.deepEqual(seen['loopbackWhileServing'], ['127.0.0.1/8 lo', '10.43.77.8/32 lo', '10.43.77.7/32 lo:bramble'], 'the stale lo:bramble address went, the ClusterIP came');
    assert.equal(seen['tcpAnswer'], 'in-netns');
    assert.equal(seen['udpAnswer'], 'udp-in-netns:q');
    assert.deepEqual(seen['loopbackAfterDelete'], ['127.0.0.1/8 lo', '10.43.77.8/32 lo']);
    assert.equal(seen['tcpAnswerAgain'], 'in-netns');
    assert.deepEqual(seen['loopbackAfterStop'], ['127.0.0.1/8 lo', '10.43.77.8/32 lo'], 'stop removes what bramble added, and only that');
    assert.equal(seen['addFresh'], true);
    assert.equal(seen['addAgain'], false, 'an address already there is reported as such, not as a failure');
  });
});
