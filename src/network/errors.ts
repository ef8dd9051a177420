// Errors of the pod network. Each carries a stable code (see src/errors.ts) and a message that
// says which plugin, which command and what to do, because these surface in pod events.
import { BrambleError, type BrambleErrorOptions } from '../errors.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** Well-known CNI error codes (CNI spec, "Error" section); 100+ are plugin-specific. */
const CNI_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

export interface CniErrorDetails {
  plugin: string;
  command: CniCommand;
  network?: string;
  /** The CNI error object's `code`, when the plugin printed one. */
  cniCode?: number;
  cniMsg?: string;
  cniDetails?: string;
  stderr?: string;
}

/** A CNI plugin that failed, printed garbage, was missing or timed out. */
export class CniError extends BrambleError {
  readonly plugin: string;
  readonly command: CniCommand;
  readonly network: string | undefined;
  readonly cniCode: number | undefined;
  readonly cniMsg: string | undefined;
  readonly cniDetails: string | undefined;
  readonly stderr: string | undefined;

  constructor(message: string, details: CniErrorDetails, options?: BrambleErrorOptions) {
    super('E_CNI', message, options);
    this.plugin = details.plugin;
    this.command = details.command;
    this.network = details.network;
    this.cniCode = details.cniCode;
    this.cniMsg = details.cniMsg;
    this.cniDetails = details.cniDetails;
    this.stderr = details.stderr;
  }
}

export function cniCodeName(code: number): string {
  return CNI_CODE_NAMES[code] ?? (code >= 100 ? 'plugin-specific error' : 'unknown error code');
}

/** A network namespace that could not be created, found or removed. */
export class NetnsError extends BrambleError {
  constructor(message: string, options?: BrambleErrorOptions) {
    super('E_NETNS', message, options);
  }
}

/** check() or a lookup for a pod that has no cached attachment. */
export class NotAttachedError extends BrambleError {
  readonly podUid: string;

  constructor(podUid: string) {
    super('E_CNI_NOT_ATTACHED', `pod ${podUid} has no network attachment on this gateway (no cached CNI ADD result): set it up first`);
    this.podUid = podUid;
  }
}

/** Settings of the pod network that cannot work (bad CIDR, bad bridge name). */
export class NetworkConfigError extends BrambleError {
  constructor(message: string, options?: BrambleErrorOptions) {
    super('E_NETWORK_CONFIG', message, options);
  }
}
