// The ClusterIPs this gateway answers must be local addresses: each is put on the loopback as a
// /32 (DESIGN: no dummy interface or IPVS needed). bramble marks the ones it adds with the label
// `lo:bramble`, so it can tell them from addresses someone else put there, find the ones an
// earlier run left behind, and never remove anything it did not add. Only the Service range
// (10.43.0.0/16) is ever touched.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isIPv4 } from './service-table.ts';
import { SERVICE_CIDR } from '../network/config.ts';
import { Ipv4Range } from '../api/resources/services/ranges.ts';

const run = promisify(execFile);

export interface AddressManager {
  /** Addresses bramble put on the loopback, including those from an earlier run. */
  list(): Promise<string[]>;
  /** Puts `ip` on the loopback; resolves false when it was there already (not ours to remove). */
  add(ip: string): Promise<boolean>;
  /** Takes an address bramble added off the loopback; one already gone is fine. */
  remove(ip: string): Promise<void>;
}

export { SERVICE_CIDR };
const SERVICE_RANGE = new Ipv4Range(SERVICE_CIDR);
export const LOOPBACK_LABEL = 'lo:bramble';

export class AddressError extends Error {
  readonly code = 'PROXY_ADDRESS';
}

/** Whether `ip` is in 10.43.0.0/16, the only range bramble adds to the loopback. */
export function inServiceRange(ip: string): boolean {
  return isIPv4(ip) && SERVICE_RANGE.contains(ip);
}

function checked(ip: string): string {
  if (!inServiceRange(ip)) throw new AddressError(`refusing to change the loopback address ${JSON.stringify(ip)}: bramble only adds Service addresses in ${SERVICE_CIDR}`);
  return ip;
}

export interface IpAddressManagerOptions {
  /** The `ip` command (iproute2). */
  ipCommand?: string;
  /** The label of the addresses this manager adds and lists (default lo:bramble, the
   *  balancer's; the cluster DNS address has its own, so the balancer never takes it away). */
  label?: string;
  timeoutMs?: number;
}

/** The real manager: `ip addr add|del IP/32 dev lo label lo:bramble`. */
export class IpAddressManager implements AddressManager {
  readonly #ip: string;
  readonly #timeoutMs: number;
  readonly #label: string;

  constructor(options: IpAddressManagerOptions = {}) {
    this.#ip = options.ipCommand ?? 'ip';
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#label = options.label ?? LOOPBACK_LABEL;
  }

  async list(): Promise<string[]> {
    const { stdout } = await this.#run(['-o', '-4', 'addr', 'show', 'dev', 'lo', 'label', this.#label]);
    const out: string[] = [];
    for (const match of stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/32\b/g)) if (inServiceRange(match[1]!)) out.push(match[1]!);
    return out;
  }

  async add(ip: string): Promise<boolean> {
    try {
      await this.#run(['addr', 'add', `${checked(ip)}/32`, 'dev', 'lo', 'label', this.#label]);
      return true;
    } catch (error) {
      // Older kernels say "File exists", newer ones "ipv4: Address already assigned".
      if (/File exists|already assigned/i.test(String((error as { stderr?: string }).stderr))) return false;
      throw error;
    }
  }

  async remove(ip: string): Promise<void> {
    try {
      await this.#run(['addr', 'del', `${checked(ip)}/32`, 'dev', 'lo']);
    } catch (error) {
      if (/Cannot assign requested address|No such|not found/i.test(String((error as { stderr?: string }).stderr))) return;
      throw error;
    }
  }

  async #run(args: string[]): Promise<{ stdout: string }> {
    try {
      return await run(this.#ip, args, { timeout: this.#timeoutMs });
    } catch (error) {
      if (error instanceof AddressError) throw error;
      const e = error as { stderr?: string; message: string };
      const failure = new AddressError(`${this.#ip} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message} (bramble needs root, or CAP_NET_ADMIN, to put Service addresses on the loopback)`);
      (failure as { stderr?: string }).stderr = e.stderr;
      throw failure;
    }
  }
}
