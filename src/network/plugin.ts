// Runs one CNI plugin binary the way the CNI spec says: parameters in environment variables,
// the network configuration JSON on stdin, the result (or an error object) as JSON on stdout.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { CniError, cniCodeName, type CniCommand } from './errors.ts';
import type { CniResult } from './types.ts';

export const DEFAULT_CNI_PATH = '/usr/lib/cni';
export const DEFAULT_PLUGIN_TIMEOUT_MS = 10_000;

export interface PluginCall {
  command: CniCommand;
  /** The network config JSON for this one plugin (already has name, cniVersion, prevResult). */
  config: Readonly<Record<string, unknown>>;
  containerId: string;
  /** Path of the container's netns; may be '' on DEL when the netns is already gone. */
  netns: string;
  ifName: string;
  /** CNI_ARGS, e.g. K8S_POD_NAME; joined as `K=V;K=V`. */
  args?: Readonly<Record<string, string>>;
  /** Directories searched for plugin binaries, colon-separated like CNI_PATH. */
  cniPath?: string;
  timeoutMs?: number;
  /**
   * Run the plugin inside this named network namespace (`ip netns exec NAME plugin`), so the
   * host side (bridge, veth, iptables rules) lands there. For tests and for several gateways on
   * one machine; a daemon that already runs in its gateway's netns leaves it unset.
   */
  hostNetns?: string;
  network?: string;
}

export interface PluginOutput {
  stdout: string;
  stderr: string;
}

function pluginType(config: Readonly<Record<string, unknown>>): string {
  const type = config['type'];
  if (typeof type !== 'string' || type === '' || type.includes('/')) {
    throw new CniError(`network config has no valid "type" (got ${JSON.stringify(type)}): every plugin entry needs the name of a plugin binary`, {
      plugin: String(type),
      command: 'ADD',
    });
  }
  return type;
}

/** Finds the plugin binary in CNI_PATH; a clear error names the plugin and the directories. */
export async function findPlugin(type: string, cniPath: string, command: CniCommand = 'ADD', network?: string): Promise<string> {
  const dirs = cniPath.split(':').filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, type);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  throw new CniError(
    `CNI plugin "${type}" not found in CNI_PATH ${cniPath}${network === undefined ? '' : ` (network "${network}")`}: ` +
      `fix the plugin "type" in the network config or install it (Debian: containernetworking-plugins)`,
    { plugin: type, command, ...(network === undefined ? {} : { network }) },
  );
}

/** Runs the plugin; resolves with its stdout on exit 0, rejects with a CniError otherwise. */
export async function execPlugin(call: PluginCall): Promise<PluginOutput> {
  const type = pluginType(call.config);
  const cniPath = call.cniPath ?? DEFAULT_CNI_PATH;
  const binary = await findPlugin(type, cniPath, call.command, call.network);
  const timeoutMs = call.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const env: NodeJS.ProcessEnv = {
    // Plugins shell out to iptables and friends: keep a PATH that has /usr/sbin.
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_PATH: cniPath,
  };
  if (call.args !== undefined && Object.keys(call.args).length > 0) {
    env['CNI_ARGS'] = Object.entries(call.args).map(([k, v]) => `${k}=${v}`).join(';');
  }
  const [file, argv] = call.hostNetns === undefined ? [binary, []] : ['ip', ['netns', 'exec', call.hostNetns, binary]];
  const where = { plugin: type, command: call.command, ...(call.network === undefined ? {} : { network: call.network }) };
  const label = `CNI ${call.command} of plugin "${type}"${call.network === undefined ? '' : ` in network "${call.network}"`} for container ${call.containerId}`;

  return new Promise<PluginOutput>((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    // `ip netns exec` execs the plugin in place, so this pid is the plugin's in both cases.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A plugin that exits without reading stdin makes the write fail with EPIPE; the exit
    // status tells the real story, so the write error is ignored.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(call.config));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CniError(`${label}: cannot start ${file}: ${error.message}`, where, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut) {
        reject(new CniError(`${label} timed out after ${timeoutMs} ms and was killed: the plugin is stuck (a held lock in its data directory, or a hung iptables?)`, { ...where, stderr }));
        return;
      }
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      reject(pluginFailure(label, where, stdout, stderr, code, signal));
    });
  });
}

function pluginFailure(
  label: string,
  where: { plugin: string; command: CniCommand; network?: string },
  stdout: string,
  stderr: string,
  code: number | null,
  signal: NodeJS.Signals | null,
): CniError {
  const parsed = parseErrorObject(stdout);
  if (parsed !== undefined) {
    const detail = parsed.details !== undefined && parsed.details !== '' ? ` (${parsed.details})` : '';
    return new CniError(`${label} failed: ${parsed.msg}${detail} [CNI error ${parsed.code}: ${cniCodeName(parsed.code)}]`, {
      ...where,
      cniCode: parsed.code,
      cniMsg: parsed.msg,
      ...(parsed.details === undefined ? {} : { cniDetails: parsed.details }),
      stderr,
    });
  }
  // No error object: `ip netns exec` failing (gateway netns missing) or a crashing plugin.
  const status = signal !== null ? `killed by ${signal}` : `exit status ${code}`;
  const text = [stderr, stdout.trim()].filter((s) => s !== '').join(' / ');
  return new CniError(`${label} failed with ${status}: ${text === '' ? 'no output' : text}`, { ...where, stderr });
}

function parseErrorObject(stdout: string): { code: number; msg: string; details?: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { code, msg, details } = json as Record<string, unknown>;
  if (typeof code !== 'number') return undefined;
  return {
    code,
    msg: typeof msg === 'string' ? msg : 'no message',
    ...(typeof details === 'string' ? { details } : {}),
  };
}

/** Validates a plugin's ADD/CHECK stdout as a CNI result. */
export function parseResult(stdout: string, plugin: string, command: CniCommand = 'ADD'): CniResult {
  const fail = (why: string): CniError =>
    new CniError(`CNI ${command} of plugin "${plugin}" printed an invalid result (${why}): ${stdout.slice(0, 200)}`, { plugin, command });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw fail('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail('not an object');
  const r = json as Record<string, unknown>;
  if (typeof r['cniVersion'] !== 'string') throw fail('no cniVersion');
  for (const key of ['interfaces', 'ips', 'routes'] as const) {
    if (r[key] !== undefined && !Array.isArray(r[key])) throw fail(`${key} is not a list`);
  }
  for (const ip of (r['ips'] as unknown[] | undefined) ?? []) {
    if (typeof ip !== 'object' || ip === null || typeof (ip as Record<string, unknown>)['address'] !== 'string') throw fail('an ips entry has no address');
  }
  return r as unknown as CniResult;
}

/** `CNI_COMMAND=VERSION`: the spec versions a plugin supports. */
export async function pluginVersions(type: string, options: { cniPath?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const { stdout } = await execPlugin({
    command: 'VERSION',
    config: { cniVersion: '1.0.0', type },
    containerId: '',
    netns: '',
    ifName: '',
    ...(options.cniPath === undefined ? {} : { cniPath: options.cniPath }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const versions = (JSON.parse(stdout) as { supportedVersions?: unknown }).supportedVersions;
  return Array.isArray(versions) ? versions.filter((v): v is string => typeof v === 'string') : [];
}
