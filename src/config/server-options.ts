// `bramble server` options: flags parsed and checked, then completed with defaults from the
// board profile and the machine (hostname). Pure: the caller supplies hostname, cwd and profile,
// so every rule here is unit-tested without touching the machine.
//
// Two steps because the profile is chosen by flags (--board, --config-dir): parseServerFlags()
// first (no profile needed), the caller loads the profile, then resolveServerOptions().

import { DNS_FLAGS, parseClusterDomain, parseDnsAddr, parseDnsUpstreams } from '../dns/options.ts';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs, type CommandSpec, type FlagValues } from '../cli/flags.ts';
import { UsageError } from '../errors.ts';
import type { Profile } from '../host/profile.ts';
import { isLogLevel, LOG_LEVELS, type Logger, type LogLevel } from '../log/logger.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface ServerOptions {
  /** This gateway's node name, a DNS-1123 label. */
  name: string;
  /** Absolute path. */
  dataDir: string;
  /** As requested: a board name or "auto". */
  board: string;
  /** `--config-dir` when given (the profile directory actually used is the caller's business). */
  configDir: string | undefined;
  /** The HTTP API (CLI, curl, kubectl-shaped clients). */
  apiAddr: HostPort;
  /** Raft and node-to-node traffic. */
  peerAddr: HostPort;
  /** A member's peer URL to join; undefined to start (or restart) on our own. */
  join: string | undefined;
  token: string | undefined;
  labels: Record<string, string>;
  logLevel: LogLevel;
  heartbeatIntervalMillis: number;
  nodeGraceMillis: number;
  evictionTimeoutMillis: number;
  /** A running containerd's socket to use instead of starting our own. */
  containerdSocket: string | undefined;
  /** Run no containers here: store and API only (k3s' --disable-agent). */
  disableAgent: boolean;
  /** This gateway's pod CIDR as given by --pod-cidr; undefined: a /24 of 10.42.0.0/16 assigned
   *  by the cluster at join and kept in the data directory (src/agent/node.ts). */
  podCidr: string | undefined;
  /** --dns-addr: where the DNS server also answers, for the host (cluster DNS is 10.43.0.10:53). */
  dnsAddr: { host: string; port: number } | undefined;
  /** --cluster-domain (cluster.local). */
  clusterDomain: string;
  /** --dns-upstream; undefined: the host's resolv.conf. */
  dnsUpstreams: string[] | undefined;
}

/** What `runServer(options, env)` gets besides its options: built once by the entry point. */
export interface ServerEnv {
  logger: Logger;
  profile: Profile;
}

export const SERVER_COMMAND = {
  name: 'server',
  summary: 'Run the bramble daemon on this gateway (API, Raft store, node agent).',
  flags: {
    name: { type: 'string', valueName: 'NAME', description: 'node name, a DNS-1123 label', defaultText: 'the hostname' },
    'data-dir': { type: 'string', short: 'd', valueName: 'DIR', description: 'where bramble keeps its state', defaultText: "the board profile's dataDir" },
    board: { type: 'string', valueName: 'NAME', description: 'board profile from firmware-configs/, or auto to detect', default: 'auto' },
    'config-dir': { type: 'string', valueName: 'DIR', description: 'directory of board profiles', defaultText: '$BRAMBLE_CONFIG_DIR, else firmware-configs/ beside bramble' },
    'api-addr': { type: 'string', valueName: 'HOST:PORT', description: 'listen address of the HTTP API', default: '127.0.0.1:7080' },
    'peer-addr': { type: 'string', valueName: 'HOST:PORT', description: 'listen address for other gateways', default: '0.0.0.0:7081' },
    join: { type: 'string', valueName: 'URL', description: "join the cluster of this member's peer URL, e.g. http://10.0.0.1:7081" },
    token: { type: 'string', valueName: 'TOKEN', description: "the cluster's join token (see 'bramble token')" },
    labels: { type: 'list', valueName: 'K=V,...', description: "labels of this node, e.g. topology.kubernetes.io/zone=z1" },
    'containerd-socket': { type: 'string', valueName: 'PATH', description: "use this running containerd instead of starting bramble's own" },
    'disable-agent': { type: 'bool', description: 'run no containers on this gateway: store and API only' },
    'pod-cidr': { type: 'string', valueName: 'CIDR', description: "this gateway's pod addresses (an override: by default the cluster assigns each gateway a /24 of 10.42.0.0/16)", defaultText: 'assigned by the cluster' },
    'log-level': { type: 'string', valueName: 'LEVEL', description: `minimum log level: ${LOG_LEVELS.join(', ')}`, default: 'info' },
    'heartbeat-interval': { type: 'duration', valueName: 'DURATION', description: 'how often the node reports to the leader', defaultText: 'from the board profile' },
    'node-grace': { type: 'duration', valueName: 'DURATION', description: 'silence after which a node is NotReady', defaultText: 'from the board profile' },
    ...DNS_FLAGS,
    'eviction-timeout': { type: 'duration', valueName: 'DURATION', description: "how long a NotReady node keeps its pods before they are replaced", defaultText: 'from the board profile' },
  },
} as const satisfies CommandSpec;

export type ServerFlags = FlagValues<(typeof SERVER_COMMAND)['flags']>;

export interface ServerDefaults {
  hostname: string;
  /** To make a relative --data-dir absolute. */
  cwd: string;
  profile: Profile;
}

const LABEL_NAME_MAX = 63;
const LABEL_PREFIX_MAX = 253;
const LABELS_MAX = 64;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const fail = (message: string): UsageError =>
  new UsageError(`bramble server: ${message} (see 'bramble server --help')`);

/** RFC 1123 label: what Kubernetes requires of node names, and what DNS can serve. */
export function isDnsLabel(text: string): boolean {
  return text.length >= 1 && text.length <= 63 && DNS_LABEL.test(text);
}

// Kubernetes label keys: optional DNS-subdomain prefix and "/", then a name of up to 63
// characters; values are empty or follow the name rule.
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (name.length > LABEL_NAME_MAX || !LABEL_NAME.test(name)) return false;
  if (slash === -1) return true;
  const prefix = key.slice(0, slash);
  return prefix.length <= LABEL_PREFIX_MAX && prefix.split('.').every(isDnsLabel);
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= LABEL_NAME_MAX && LABEL_NAME.test(value));
}

/** "k=v" items → object; refuses malformed keys and values, and a key given twice. */
export function parseLabels(items: readonly string[]): Record<string, string> {
  if (items.length > LABELS_MAX) throw fail(`--labels: at most ${LABELS_MAX} labels, got ${items.length}`);
  const labels: Record<string, string> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals === -1) throw fail(`--labels: expected KEY=VALUE, got ${JSON.stringify(item)}`);
    const key = item.slice(0, equals);
    const value = item.slice(equals + 1);
    if (!isLabelKey(key)) {
      throw fail(`--labels: invalid key ${JSON.stringify(key)} (letters, digits, "-", "_", "." up to 63 characters, with an optional DNS prefix and "/")`);
    }
    if (!isLabelValue(value)) {
      throw fail(`--labels: invalid value ${JSON.stringify(value)} for ${key} (empty, or letters, digits, "-", "_", "." up to 63 characters)`);
    }
    if (Object.hasOwn(labels, key)) throw fail(`--labels: ${key} given twice`);
    labels[key] = value;
  }
  return labels;
}

/** "HOST:PORT" or "[v6]:PORT" with a port from 1 to 65535. */
export function parseHostPort(text: string, flag: string): HostPort {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw fail(`${flag}: expected HOST:PORT with a port from 1 to 65535, got ${JSON.stringify(text)}`);
  }
  return { host: match[1] ?? match[2]!, port };
}

function parseJoinUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail(`--join: expected a URL such as http://10.0.0.1:7081, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(`--join: expected an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  return url.toString().replace(/\/$/, '');
}

function positiveDuration(millis: number | undefined, flag: string): void {
  if (millis !== undefined && millis <= 0) throw fail(`${flag}: must be longer than 0`);
}

/** Step 1: parse and check every flag that needs no profile. `help` set means print help. */
export function parseServerFlags(argv: readonly string[]): { flags: ServerFlags; help: boolean } {
  const { flags, help } = parseArgs(SERVER_COMMAND, argv);
  if (help) return { flags, help };
  if (flags.name !== undefined && !isDnsLabel(flags.name)) {
    throw fail(`--name: ${JSON.stringify(flags.name)} is not a DNS-1123 label (lowercase letters, digits and "-", 1 to 63 characters, starting and ending with a letter or digit)`);
  }
  if (flags['data-dir'] === '') throw fail('--data-dir: must not be empty');
  if (flags['config-dir'] === '') throw fail('--config-dir: must not be empty');
  if (flags.board === '') throw fail('--board: must not be empty (a board name or auto)');
  parseHostPort(flags['api-addr'], '--api-addr');
  parseHostPort(flags['peer-addr'], '--peer-addr');
  if (flags.join !== undefined) parseJoinUrl(flags.join);
  if (flags.join !== undefined && (flags.token === undefined || flags.token === '')) {
    throw fail('--join needs --token (print it on a member with: bramble token)');
  }
  if (flags.token === '') throw fail('--token: must not be empty');
  if (flags.labels !== undefined) parseLabels(flags.labels);
  if (!isLogLevel(flags['log-level'])) {
    throw fail(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(flags['log-level'])}`);
  }
  positiveDuration(flags['heartbeat-interval'], '--heartbeat-interval');
  positiveDuration(flags['node-grace'], '--node-grace');
  positiveDuration(flags['eviction-timeout'], '--eviction-timeout');
  if (flags['pod-cidr'] !== undefined) parsePodCidr(flags['pod-cidr']);
  if (flags['dns-addr'] !== undefined) parseDnsAddr(flags['dns-addr']);
  if (flags['disable-agent'] && (flags['dns-addr'] !== undefined || flags['dns-upstream'] !== undefined)) {
    throw fail('--dns-addr and --dns-upstream configure the DNS server of a gateway that runs pods; with --disable-agent this member runs none');
  }
  parseClusterDomain(flags['cluster-domain']);
  parseDnsUpstreams(flags['dns-upstream']);
  if (flags['containerd-socket'] !== undefined && flags['disable-agent']) throw fail('--containerd-socket and --disable-agent: give one or the other (no containers run with --disable-agent)');
  if (flags['containerd-socket'] !== undefined && !isAbsolute(flags['containerd-socket'])) throw fail(`--containerd-socket: expected an absolute path, got ${JSON.stringify(flags['containerd-socket'])}`);
  return { flags, help };
}

// A default node name from the hostname: its first DNS label, lowercased ("Gw-1.local" → "gw-1").
function nameFromHostname(hostname: string): string {
  const name = hostname.split('.')[0]!.toLowerCase();
  if (!isDnsLabel(name)) {
    throw fail(`--name: not given, and the hostname ${JSON.stringify(hostname)} does not make a DNS-1123 label; pass --name NAME`);
  }
  return name;
}

/** Step 2: complete checked flags with the profile's and the machine's defaults. */
export function resolveServerOptions(flags: ServerFlags, defaults: ServerDefaults): ServerOptions {
  const timing = defaults.profile.timing;
  const heartbeatIntervalMillis = flags['heartbeat-interval'] ?? timing.heartbeatIntervalMillis;
  const nodeGraceMillis = flags['node-grace'] ?? timing.nodeGraceMillis;
  const evictionTimeoutMillis = flags['eviction-timeout'] ?? timing.evictionTimeoutMillis;
  // Checked after merging: the flag may be fine alone but clash with the profile's value.
  if (nodeGraceMillis <= heartbeatIntervalMillis) {
    throw fail(`--node-grace (${nodeGraceMillis}ms) must be longer than --heartbeat-interval (${heartbeatIntervalMillis}ms), or every node would flap to NotReady`);
  }
  const dataDir = flags['data-dir'] ?? defaults.profile.dataDir;
  const logLevel = flags['log-level'];
  if (!isLogLevel(logLevel)) throw fail(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  return {
    name: flags.name ?? nameFromHostname(defaults.hostname),
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(defaults.cwd, dataDir),
    board: flags.board,
    configDir: flags['config-dir'],
    apiAddr: parseHostPort(flags['api-addr'], '--api-addr'),
    peerAddr: parseHostPort(flags['peer-addr'], '--peer-addr'),
    join: flags.join === undefined ? undefined : parseJoinUrl(flags.join),
    token: flags.token,
    labels: parseLabels(flags.labels ?? []),
    logLevel,
    heartbeatIntervalMillis,
    nodeGraceMillis,
    evictionTimeoutMillis,
    containerdSocket: flags['containerd-socket'],
    disableAgent: flags['disable-agent'],
    podCidr: flags['pod-cidr'] === undefined ? undefined : parsePodCidr(flags['pod-cidr']),
    dnsAddr: flags['dns-addr'] === undefined ? undefined : parseDnsAddr(flags['dns-addr']),
    clusterDomain: parseClusterDomain(flags['cluster-domain']),
    dnsUpstreams: parseDnsUpstreams(flags['dns-upstream']),
  };
}

/** An IPv4 CIDR from /16 to /28 whose address is the network's (10.42.0.0/24, not 10.42.0.7/24). */
function parsePodCidr(text: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits < 16 || bits > 28) {
    throw fail(`--pod-cidr: expected an IPv4 CIDR from /16 to /28 like 10.42.0.0/24, got ${JSON.stringify(text)}`);
  }
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  if (address % 2 ** (32 - bits) !== 0) throw fail(`--pod-cidr: ${text} is not a network address (the host bits must be zero)`);
  return text;
}

/** Both steps at once, for callers (and tests) that already have the profile. */
export function parseServerOptions(argv: readonly string[], defaults: ServerDefaults): ServerOptions {
  const { flags, help } = parseServerFlags(argv);
  if (help) throw new UsageError("bramble server: --help is handled by the caller; print formatHelp(SERVER_COMMAND)");
  return resolveServerOptions(flags, defaults);
}
