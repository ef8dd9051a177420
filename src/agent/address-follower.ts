// Follows this gateway's own address. A board that gets a new address (a DHCP lease, another
// uplink) must say so in its Node's InternalIP: the other gateways route this gateway's pod CIDR
// via that address (host-gw) and re-route as soon as the Node changes. The address is read again
// every `everyMs`; a change updates the shared facts the Node is written from, and re-registers.
import type { Logger } from '../log/index.ts';
import type { NodeFacts } from './node.ts';

export interface AddressFollowerOptions {
  facts: NodeFacts;
  /** The address now (hostIPv4 on a gateway); null while none is up (a link down), which
   *  keeps the last one: a gateway cut off for a while has not moved. */
  read: () => string | null;
  everyMs: number;
  /** Called after facts.hostIP changed: write the Node again. */
  changed: (before: string, after: string) => void;
  logger: Logger;
}

export function followHostAddress(o: AddressFollowerOptions): { stop(): void } {
  const timer = setInterval(() => {
    let now: string | null;
    try {
      now = o.read();
    } catch (error) {
      o.logger.warn('cannot read this gateway\'s address; keeping the last one', { error: String(error) });
      return;
    }
    const before = o.facts.hostIP;
    if (now === null || now === before) return;
    o.facts.hostIP = now;
    o.logger.info('this gateway\'s address changed: registering the Node again so the other gateways re-route its pods', { before, after: now });
    o.changed(before, now);
  }, o.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
