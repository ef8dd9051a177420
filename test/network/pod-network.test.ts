// The pod network with the distribution's real CNI plugins, each test in its own gateway netns
// (see lab.ts). Needs root; fails saying so otherwise.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { addNetworkList, CniError, createPodNetns, ipMasqChainName, NotAttachedError, removePodNetns } from '../../src/network/index.ts';
import { waitFor, withLab, type Lab } from './lab.ts';
import { requireRoot } from './lab.ts';

const opts = {};
beforeEach(requireRoot);

function inCidr24(ip: string, prefix = '10.42.0.'): boolean {
  return ip.startsWith(prefix) && Number(ip.slice(prefix.length)) > 1 && Number(ip.slice(prefix.length)) < 255;
}

async function ipamFiles(lab: Lab): Promise<string[]> {
  try {
    return (await readdir(join(lab.dir, 'data', 'cni', 'ipam', 'bramble'))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    return [];
  }
}

async function attach(lab: Lab, suffix: string, extra: Partial<{ portMappings: { hostPort: number; containerPort: number; protocol: 'tcp' }[] }> = {}, network = lab.network()) {
  const ns = await lab.podNetns(suffix);
  const attachment = await network.setUp({ podUid: `uid-${lab.id}-${suffix}`, namespace: 'default', name: suffix, netnsPath: ns.path, ...extra });
  return { ns, attachment, network };
}

describe('pod network with real CNI plugins', opts, () => {
  test('two pods get distinct IPs in the CIDR, ping each other, and the gateway reaches them', opts, async () => {
    await withLab(async (lab) => {
      const network = lab.network();
      // Concurrently, as the agent would after a reboot: the per-pod lock and the global
      // limit must still hand out distinct addresses.
      const [a, b] = await Promise.all([attach(lab, 'a', {}, network), attach(lab, 'b', {}, network)]);
      const ipA = a.attachment.ip;
      const ipB = b.attachment.ip;
      assert.ok(inCidr24(ipA) && inCidr24(ipB), `${ipA}, ${ipB} in 10.42.0.0/24`);
      assert.notEqual(ipA, ipB);
      assert.equal(a.attachment.gateway, '10.42.0.1');
      assert.equal(a.attachment.prefixLength, 24);
      assert.equal(a.attachment.interface, 'eth0');

      await lab.exec(a.ns.name, ['busybox', 'ping', '-c1', '-W2', ipB]);
      await lab.exec(b.ns.name, ['busybox', 'ping', '-c1', '-W2', ipA]);
      await lab.exec(lab.gw, ['busybox', 'ping', '-c1', '-W2', ipA]);
      // loopback plugin: lo is up inside the pod.
      await lab.exec(a.ns.name, ['busybox', 'ping', '-c1', '-W2', '127.0.0.1']);
      // The bridge is in the gateway netns, with the gateway address.
      assert.match(await lab.exec(lab.gw, ['ip', '-4', 'addr', 'show', 'bramble0']), /inet 10\.42\.0\.1\/24/);
      // Default route in the pod points at the bridge.
      assert.match(await lab.exec(a.ns.name, ['ip', 'route']), /default via 10\.42\.0\.1 dev eth0/);

      const listed = (await network.list()).map((e) => e.podUid).sort();
      assert.deepEqual(listed, [`uid-${lab.id}-a`, `uid-${lab.id}-b`].sort());
      // setUp again with the same netns reuses the attachment (same IP, no second address).
      const again = await network.setUp({ podUid: `uid-${lab.id}-a`, namespace: 'default', name: 'a', netnsPath: a.ns.path });
      assert.equal(again.ip, ipA);
      assert.equal((await ipamFiles(lab)).length, 2);
    });
  });

  test('DEL frees the IP in host-local and a second DEL succeeds', opts, async () => {
    await withLab(async (lab) => {
      const { attachment, network } = await attach(lab, 'd');
      assert.deepEqual(await ipamFiles(lab), [attachment.ip]);
      await network.tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
      assert.deepEqual(await network.list(), []);
      assert.ok(attachment.hostInterface, 'host veth named in the result');
      assert.notEqual((await lab.tryExec(lab.gw, ['ip', 'link', 'show', attachment.hostInterface as string])).code, 0, 'host veth removed');
      await network.tearDown(attachment.podUid);
      await assert.rejects(network.check(attachment.podUid), NotAttachedError);
    });
  });

  test('CHECK passes on a healthy attachment and fails clearly once the veth is gone', opts, async () => {
    await withLab(async (lab) => {
      const { ns, attachment, network } = await attach(lab, 'c');
      await network.check(attachment.podUid);
      await lab.exec(ns.name, ['ip', 'link', 'del', 'eth0']);
      await assert.rejects(network.check(attachment.podUid), (error: unknown) => {
        assert.ok(error instanceof CniError, String(error));
        assert.equal(error.command, 'CHECK');
        assert.equal(error.plugin, 'bridge');
        assert.match(error.message, /CNI CHECK of plugin "bridge" in network "bramble"/);
        assert.match(error.message, /eth0/);
        return true;
      });
      // Broken or not, it can still be torn down.
      await network.tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
    });
  });

  test('a hostPort forwards a TCP connection from the gateway address to a server in the pod', opts, async () => {
    await withLab(async (lab) => {
      const hostPort = 30000 + Math.floor(Math.random() * 2000);
      const { ns, attachment, network } = await attach(lab, 'h', { portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }] });
      assert.deepEqual(attachment.portMappings, [{ hostPort, containerPort: 8080, protocol: 'tcp' }]);
      const www = join(lab.dir, 'www');
      await mkdir(www);
      await writeFile(join(www, 'index.html'), `hello from ${attachment.ip}\n`);
      lab.spawnIn(ns.name, ['busybox', 'httpd', '-f', '-p', '8080', '-h', www]);
      const direct = `http://${attachment.ip}:8080/`;
      // No `wget -T`: busybox 1.35's wget segfaults with it after a successful fetch; the exec
      // timeout bounds the wait instead.
      await waitFor('httpd in the pod', async () => (await lab.tryExec(lab.gw, ['busybox', 'wget', '-q', '-O', '-', direct], 2_000)).code === 0);
      const viaHostPort = await lab.exec(lab.gw, ['busybox', 'wget', '-q', '-O', '-', `http://${lab.gwAddress}:${hostPort}/`], 3_000);
      assert.equal(viaHostPort, `hello from ${attachment.ip}\n`);
      // DEL removes the DNAT rules: the host port no longer answers.
      await network.tearDown(attachment.podUid);
      assert.doesNotMatch(await lab.exec(lab.gw, ['iptables', '-t', 'nat', '-S']), new RegExp(`dport ${hostPort}`));
    });
  });

  test('a new PodNetwork over the same data dir (daemon restart) lists and tears down old attachments', opts, async () => {
    await withLab(async (lab) => {
      const before = lab.network();
      const { attachment } = await attach(lab, 'r', {}, before);
      const after = lab.network();
      const listed = await after.list();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.complete, true);
      assert.equal(listed[0]?.attachment?.ip, attachment.ip);
      await after.check(attachment.podUid);
      await after.tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
      assert.deepEqual(await before.list(), []);
    });
  });

  test('setUp of a pod whose netns was recreated (reboot) releases the old attachment first', opts, async () => {
    await withLab(async (lab) => {
      const { ns, attachment, network } = await attach(lab, 'o');
      await removePodNetns(ns.name);
      const fresh = await lab.podNetns('o2');
      const again = await network.setUp({ podUid: attachment.podUid, namespace: 'default', name: 'o', netnsPath: fresh.path });
      assert.equal(again.netnsPath, fresh.path);
      assert.deepEqual(await ipamFiles(lab), [again.ip], 'only the new address is held');
      await lab.exec(lab.gw, ['busybox', 'ping', '-c1', '-W2', again.ip]);
      const listed = await network.list();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.netnsPath, fresh.path);
      await network.tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
    });
  });

  test('setUp of a pod whose netns was recreated at the same path (reboot: /run/netns is a tmpfs) attaches it again', opts, async () => {
    await withLab(async (lab) => {
      const { ns, attachment } = await attach(lab, 'r');
      await removePodNetns(ns.name);
      await createPodNetns(ns.name); // same name, same path, a new and empty netns
      // A new daemon process (its own PodNetwork) must not trust the cached result for the path.
      const again = await lab.network().setUp({ podUid: attachment.podUid, namespace: 'default', name: 'r', netnsPath: ns.path });
      const addr = await lab.exec(ns.name, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.ok(addr.includes(`${again.ip}/24`), `eth0 in the new netns has ${again.ip}: ${addr}`);
      await lab.exec(lab.gw, ['busybox', 'ping', '-c1', '-W2', again.ip]);
      assert.deepEqual(await ipamFiles(lab), [again.ip], 'only the new address is held');
      await lab.network().tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
    });
  });

  test('without per-pod ipMasq: one masquerade chain for the pod CIDR, no iptables rules per pod, no portmap without hostPorts', opts, async () => {
    await withLab(async (lab) => {
      const { attachment } = await attach(lab, 'm');
      const nat = await lab.exec(lab.gw, ['iptables', '-t', 'nat', '-S']);
      assert.match(nat, /-A POSTROUTING -s 10\.42\.0\.0\/24 .*-j BRAMBLE-POSTROUTING/);
      assert.match(nat, /-A BRAMBLE-POSTROUTING -d 10\.42\.0\.0\/16 -j RETURN/);
      assert.match(nat, /-A BRAMBLE-POSTROUTING -j MASQUERADE/);
      assert.doesNotMatch(nat, new RegExp(ipMasqChainName('bramble', attachment.podUid)));
      assert.doesNotMatch(nat, /CNI-HOSTPORT-DNAT.*\n.*-j CNI-DN-/, 'no portmap rules for a pod without hostPorts');
      const [entry] = (await lab.network().list()).filter((e) => e.podUid === attachment.podUid);
      assert.ok(entry?.complete);
    });
  });

  test('DEL succeeds when the pod netns is already gone, and removes the (per-pod ipMasq) masquerade rule too', opts, async () => {
    await withLab(async (lab) => {
      // An attachment made with the bridge's own masquerade rule (as bramble did before).
      const { ns, attachment, network } = await attach(lab, 'g', {}, lab.network({ ipMasq: true }));
      const chain = ipMasqChainName('bramble', attachment.podUid);
      assert.match(await lab.exec(lab.gw, ['iptables', '-t', 'nat', '-S']), new RegExp(chain));
      await removePodNetns(ns.name);
      await network.tearDown(attachment.podUid);
      assert.deepEqual(await ipamFiles(lab), []);
      assert.doesNotMatch(await lab.exec(lab.gw, ['iptables', '-t', 'nat', '-S']), new RegExp(chain));
      await network.tearDown(attachment.podUid);
    });
  });

  test('a config with an unknown plugin type, or an unknown IPAM type, names the plugin', opts, async () => {
    await withLab(async (lab) => {
      const ns = await lab.podNetns('x');
      const rt = { containerId: 'bad1', netns: ns.path, ifName: 'eth0' };
      await assert.rejects(
        addNetworkList({ cniVersion: '1.0.0', name: 'bad', plugins: [{ type: 'bramble-no-such-plugin' }] }, rt, { hostNetns: lab.gw }),
        (error: unknown) => error instanceof CniError && error.plugin === 'bramble-no-such-plugin' && /CNI plugin "bramble-no-such-plugin" not found in CNI_PATH \/usr\/lib\/cni/.test(error.message),
      );
      const badIpam = { cniVersion: '1.0.0', name: 'bad', plugins: [{ type: 'bridge', bridge: 'bntbad0', ipam: { type: 'bramble-no-ipam' } }] };
      await assert.rejects(addNetworkList(badIpam, rt, { hostNetns: lab.gw }), (error: unknown) => {
        assert.ok(error instanceof CniError, String(error));
        assert.equal(error.plugin, 'bridge');
        assert.match(error.message, /CNI ADD of plugin "bridge" in network "bad" for container bad1 failed: .*bramble-no-ipam/);
        return true;
      });
    });
  });

  test('a setUp that fails leaves no IP, no veth and no cache entry behind', opts, async () => {
    await withLab(async (lab) => {
      const missing = lab.network();
      await assert.rejects(missing.setUp({ podUid: 'uid-nons', namespace: 'default', name: 'n', netnsPath: `/run/netns/${lab.id}-missing` }), /does not exist/);
      await assert.rejects(
        missing.setUp({ podUid: 'uid-proto', namespace: 'default', name: 'n', netnsPath: '/x', portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'icmp' as 'tcp' }] }),
        /protocol must be TCP, UDP or SCTP/,
      );
      assert.deepEqual(await missing.list(), []);
      // A portmap that refuses, found first in CNI_PATH: bridge has taken an IP and made a veth
      // by then, and the rollback DEL must undo both.
      const fakes = join(lab.dir, 'fake-cni');
      await mkdir(fakes);
      await writeFile(
        join(fakes, 'portmap'),
        '#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then echo \'{"cniVersion":"1.0.0","code":999,"msg":"fake portmap refuses"}\'; exit 1; fi\nexit 0\n',
        { mode: 0o755 },
      );
      const network = lab.network({ cniPath: `${fakes}:/usr/lib/cni` });
      const ns = await lab.podNetns('f');
      // A hostPort, or portmap is not called at all.
      const portMappings = [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' as const }];
      await assert.rejects(network.setUp({ podUid: 'uid-fail', namespace: 'default', name: 'f', netnsPath: ns.path, portMappings }), (error: unknown) => {
        assert.ok(error instanceof CniError, String(error));
        assert.equal(error.plugin, 'portmap');
        assert.match(error.message, /fake portmap refuses/);
        return true;
      });
      assert.deepEqual(await ipamFiles(lab), []);
      assert.deepEqual(await network.list(), []);
      assert.equal((await lab.tryExec(ns.name, ['ip', 'link', 'show', 'eth0'])).code !== 0, true, 'pod veth removed');
      assert.equal(existsSync(join(lab.dir, 'data', 'cni', 'results', 'bramble-uid-fail-eth0.json')), false);
    });
  });
});
