// The bridge plugin (v1.1) removes a pod's masquerade rule only when it can still enter the
// pod's netns to learn the pod's IP. When the netns is already gone (deleted out of band, or a
// crash between removing the netns and DEL), the rule and its chain would stay forever, so DEL
// of such a pod removes them here, with the IP from the cached ADD result. The names follow the
// plugin's own scheme (utils.FormatChainName: "CNI-" + first 24 hex of sha512(name + id)),
// verified against the rules the plugin created.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { CniResult } from './types.ts';

const run = promisify(execFile);

export function ipMasqChainName(networkName: string, containerId: string): string {
  return `CNI-${createHash('sha512').update(networkName + containerId).digest('hex').slice(0, 24)}`;
}

/** Best effort: every step may find nothing to remove, which is the normal case. */
export async function removeStaleIpMasq(
  networkName: string,
  containerId: string,
  result: CniResult | undefined,
  options: { hostNetns?: string; timeoutMs?: number } = {},
): Promise<void> {
  const chain = ipMasqChainName(networkName, containerId);
  const comment = `name: "${networkName}" id: "${containerId}"`;
  const iptables = async (args: string[]): Promise<void> => {
    const [file, argv] = options.hostNetns === undefined ? ['iptables', args] : ['ip', ['netns', 'exec', options.hostNetns, 'iptables', ...args]];
    try {
      await run(file, argv, { timeout: options.timeoutMs ?? 10_000 });
    } catch {
      // absent rule or chain: nothing to clean
    }
  };
  for (const ip of result?.ips ?? []) {
    const address = ip.address.split('/')[0] ?? '';
    if (address.includes(':')) continue; // bramble's pod network is IPv4 only
    await iptables(['-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', `${address}/32`, '-m', 'comment', '--comment', comment, '-j', chain]);
  }
  await iptables(['-w', '-t', 'nat', '-F', chain]);
  await iptables(['-w', '-t', 'nat', '-X', chain]);
}
