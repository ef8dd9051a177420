// Run by netns.test.ts inside its own network namespace (`ip netns exec NAME node ...`): the
// balancer with the real IpAddressManager binds a 10.43.x.y ClusterIP on this namespace's
// loopback. Prints one JSON line of what it saw; the parent asserts on it.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { startProxy, IpAddressManager } from '../../src/proxy/index.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { endpoints, FakeData, service, tcpBackend, udpAsk, udpBackend, whoAnswers } from './helpers.ts';

const loopback = (): string[] =>
  execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('inet '))
    .map((l) => {
      // `1: lo    inet 10.43.77.7/32 scope global lo:bramble\       valid_lft ...`
      const words = l.split('\\')[0]!.trim().split(/\s+/);
      return `${words[words.indexOf('inet') + 1]} ${words[words.length - 1]}`;
    });

const tcp = await tcpBackend('in-netns');
const udp = await udpBackend('udp-in-netns');
const data = new FakeData();
data.setService(service('web', '10.43.77.7', [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }]));
const ep = endpoints('web', [{ ip: '127.0.0.1', port: tcp.port }], 'http');
(ep['subsets'] as unknown[]).push(...(endpoints('web', [{ ip: '127.0.0.1', port: udp.port }], 'dns', 'UDP')['subsets'] as unknown[]));
data.setEndpoints(ep);
const proxy = startProxy({ data, nodeAddress: '0.0.0.0', addresses: new IpAddressManager(), logger: quietLogger });
await proxy.settled();
const out: Record<string, unknown> = {};
out['loopbackWhileServing'] = loopback();
out['tcpAnswer'] = await whoAnswers('10.43.77.7', 80);
const udpClient = createSocket('udp4');
out['udpAnswer'] = (await udpAsk('10.43.77.7', 53, 'q', udpClient)).text;
udpClient.close();
data.deleteService('web');
await proxy.settled();
out['loopbackAfterDelete'] = loopback();
data.setService(service('web', '10.43.77.7', [{ name: 'http', port: 80 }]));
await proxy.settled();
out['tcpAnswerAgain'] = await whoAnswers('10.43.77.7', 80);
await proxy.stop();
out['loopbackAfterStop'] = loopback();
// An address already on the loopback (a crashed run's, or someone else's) is "there already",
// not an error: the DNS address is re-added this way at every start after a kill -9.
const dnsAddresses = new IpAddressManager({ label: 'lo:bramble-dns' });
out['addFresh'] = await dnsAddresses.add('10.43.0.10');
out['addAgain'] = await dnsAddresses.add('10.43.0.10').catch((error: Error) => error.message);
await tcp.close();
await udp.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
