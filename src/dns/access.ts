// Who may ask: the node itself, its pods and the addresses given (no open resolver: a DNS server
// that answers anyone is a reflection amplifier). Decisions are remembered per source address,
// since one client sends many queries.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const DECISIONS_MAX = 4096;

export class SourceFilter {
  readonly #list = new BlockList();
  readonly #decisions = new Map<string, boolean>();

  /** `cidrs`: IPv4 or IPv6 networks (`10.42.0.0/16`, `::1/128`) or single addresses. Throws a
   *  TypeError naming the entry that is not one. */
  constructor(cidrs: readonly string[]) {
    for (const entry of cidrs) this.allow(entry);
  }

  /** Lets `entry` (an address or CIDR) ask too: the node's new address after a change. */
  allow(entry: string): void {
    const [address = '', prefixText] = entry.trim().split('/');
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
    const prefix = prefixText === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefixText);
    if (family === null || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128) || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
      throw new TypeError(`DNS allowFrom: ${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 10.42.0.0/16)`);
    }
    this.#list.addSubnet(address, prefix, family);
    this.#decisions.clear();
  }

  allows(address: string): boolean {
    const known = this.#decisions.get(address);
    if (known !== undefined) return known;
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    const decision = isIPv4(plain) ? this.#list.check(plain, 'ipv4') : isIPv6(plain) ? this.#list.check(plain, 'ipv6') : false;
    if (this.#decisions.size >= DECISIONS_MAX) this.#decisions.clear();
    this.#decisions.set(address, decision);
    return decision;
  }
}
