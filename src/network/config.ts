// bramble's pod network as a CNI configuration list: bridge (with host-local IPAM), portmap,
// loopback. Built in code rather than read from /etc/cni/net.d so the node's pod CIDR (given at
// join) and the data directory decide it, and nothing on the host can change it underneath.
import { NetworkConfigError } from './errors.ts';
import type { NetworkConfigList } from './types.ts';

export const DEFAULT_POD_CIDR = '10.42.0.0/24';
/** The whole pod network, every gateway's pod CIDR in it: never masqueraded. */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
/** Services' ClusterIPs (DESIGN: 10.43.0.0/16). */
export const SERVICE_CIDR = '10.43.0.0/16';
/** The cluster DNS address every pod's resolv.conf names. */
export const CLUSTER_DNS_IP = '10.43.0.10';
export const DEFAULT_BRIDGE = 'bramble0';
export const DEFAULT_NETWORK_NAME = 'bramble';
export const CNI_VERSION = '1.0.0';

export interface Ipv4Cidr {
  /** Normalised network address, e.g. "10.42.0.0". */
  network: string;
  prefix: number;
  /** The first host address, used as the bridge's (and the pods' default) gateway. */
  gateway: string;
  cidr: string;
}

function toInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr {
  const [address, prefixText, extra] = cidr.split('/');
  const base = address === undefined ? undefined : toInt(address);
  const prefix = Number(prefixText);
  if (base === undefined || extra !== undefined || prefixText === undefined || !/^\d{1,2}$/.test(prefixText) || prefix > 30 || prefix < 8) {
    throw new NetworkConfigError(`pod CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix from /8 to /30 (for example 10.42.0.0/24)`);
  }
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  return { network: toAddress(network), prefix, gateway: toAddress(network + 1), cidr: `${toAddress(network)}/${prefix}` };
}

export interface PodNetworkConfigOptions {
  podCidr?: string;
  bridge?: string;
  networkName?: string;
  /** host-local's directory of allocated IPs: under bramble's data dir, not /var/lib/cni. */
  ipamDataDir: string;
  mtu?: number;
  /** The bridge plugin's per-pod masquerade rule (default false: ensurePodMasquerade's one chain does it). */
  ipMasq?: boolean;
}

export function podNetworkConfigList(options: PodNetworkConfigOptions): NetworkConfigList {
  const cidr = parseIpv4Cidr(options.podCidr ?? DEFAULT_POD_CIDR);
  const bridge = options.bridge ?? DEFAULT_BRIDGE;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) {
    throw new NetworkConfigError(`bridge name ${JSON.stringify(bridge)} is not a valid Linux interface name (1-15 letters, digits, '_', '.', '-')`);
  }
  return {
    cniVersion: CNI_VERSION,
    name: options.networkName ?? DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // Pods reach beyond the gateway (the uplink) through NAT, by one chain for all pods
        // (ensurePodMasquerade) rather than rules made and removed at every pod start.
        ipMasq: options.ipMasq ?? false,
        // A pod can reach itself through a Service/hostPort that maps back to it.
        hairpinMode: true,
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: cidr.cidr, gateway: cidr.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: options.ipamDataDir,
        },
      },
      // snat: connections to a hostPort from the gateway itself (127.0.0.1 or hairpin) work too.
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      // Brings lo up inside the pod (it ignores CNI_IFNAME and passes prevResult through).
      { type: 'loopback' },
    ],
  };
}
