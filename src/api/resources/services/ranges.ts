// The address and port ranges Services are given values from, and how a free value is picked.
// Like Kubernetes (ServiceIPStaticSubrange, ServiceNodePortStaticSubrange), automatic picks come
// from the upper part of a range first, so the lower part stays free for values that manifests
// ask for by number (10.43.0.20, 30080) and a manifest applied later rarely finds its IP taken.
import { CLUSTER_DNS_IP, SERVICE_CIDR } from '../../../network/config.ts';
import { isIPv4 } from 'node:net';

/** An address kept out of automatic allocation, and who alone may ask for it. */
export interface ReservedAddress {
  ip: string;
  /** `namespace/name` of the one Service that may request it. */
  owner: string;
  why: string;
}

export interface ServiceNetworkConfig {
  /** Where ClusterIPs come from (DESIGN: 10.43.0.0/16). */
  clusterIpCidr: string;
  reserved: readonly ReservedAddress[];
  nodePorts: { min: number; max: number };
}

export const SERVICE_NETWORK_DEFAULT: ServiceNetworkConfig = {
  clusterIpCidr: SERVICE_CIDR,
  reserved: [
    // Kubernetes gives the first address of the range to the API's own Service.
    { ip: '10.43.0.1', owner: 'default/kubernetes', why: 'the API server Service default/kubernetes (only a Service of that name may take it)' },
    // Pods' resolv.conf points here.
    { ip: CLUSTER_DNS_IP, owner: 'kube-system/kube-dns', why: 'the cluster DNS, which every gateway answers at that address (only a Service named kube-system/kube-dns may take it)' },
  ],
  nodePorts: { min: 30000, max: 32767 },
};

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv4 network: its usable addresses exclude the network and broadcast addresses. */
export class Ipv4Range {
  readonly cidr: string;
  readonly #base: number;
  readonly #size: number;

  constructor(cidr: string) {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
    const bits = m ? Number(m[2]) : NaN;
    if (!m || !isIPv4(m[1]!) || !(bits >= 8 && bits <= 30)) {
      throw new Error(`the Service IP range ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix of /8 to /30 (e.g. 10.43.0.0/16)`);
    }
    this.#size = 2 ** (32 - bits);
    this.#base = ipToNumber(m[1]!) - (ipToNumber(m[1]!) % this.#size);
    this.cidr = `${numberToIp(this.#base)}/${bits}`;
  }

  /** How many addresses a Service may get (network and broadcast excluded). */
  get usable(): number {
    return this.#size - 2;
  }

  /** Whether `ip` is a usable address of the range. */
  contains(ip: string): boolean {
    if (!isIPv4(ip)) return false;
    const offset = ipToNumber(ip) - this.#base;
    return offset >= 1 && offset <= this.#size - 2;
  }

  /** The usable address at `index` (0 is the first usable address). */
  at(index: number): string {
    return numberToIp(this.#base + 1 + index);
  }
}

/** Kubernetes' static band: the lower part of a range of `size` kept for requested values. */
export function staticBandSize(size: number, divisor: number, max: number): number {
  return Math.min(Math.max(16, Math.floor(size / divisor)), max, size);
}

/**
 * A free index in [0, size): first from the dynamic band [band, size) starting at a random
 * place, then from the static band [0, band). Undefined when every index is taken.
 */
export function pickFree(size: number, band: number, isFree: (index: number) => boolean, random: () => number): number | undefined {
  const scan = (from: number, to: number): number | undefined => {
    const length = to - from;
    if (length <= 0) return undefined;
    const start = Math.floor(random() * length);
    for (let i = 0; i < length; i++) {
      const index = from + ((start + i) % length);
      if (isFree(index)) return index;
    }
    return undefined;
  };
  return scan(band, size) ?? scan(0, band);
}
