// The flags every API command shares (--server, --token, -n, -A) and what they resolve to: a
// client for the invocation plus the namespace to work in.

import { UsageError } from '../errors.ts';
import { apiTarget, withClient, type ApiClient } from './api-client.ts';
import type { CommandIo } from './io.ts';

export const DEFAULT_NAMESPACE = 'default';

export const CONNECTION_FLAGS = {
  server: { type: 'string', valueName: 'URL', description: 'the bramble API server', defaultText: '$BRAMBLE_SERVER or http://127.0.0.1:7080' },
  token: { type: 'string', valueName: 'TOKEN', description: 'bearer token for a remote server', defaultText: '$BRAMBLE_TOKEN' },
} as const;

export const API_FLAGS = {
  ...CONNECTION_FLAGS,
  // No declared default: apply must know whether -n was given to refuse a contradicting manifest.
  namespace: { type: 'string', short: 'n', valueName: 'NS', description: 'the namespace to work in', defaultText: DEFAULT_NAMESPACE },
  'all-namespaces': { type: 'bool', short: 'A', description: 'every namespace (lists only)' },
} as const;

export interface ApiFlagValues {
  server: string | undefined;
  token: string | undefined;
  namespace: string | undefined;
  'all-namespaces': boolean;
}

export interface ApiContext {
  client: ApiClient;
  /** -n, else "default". */
  namespace: string;
  /** -n as given, undefined when absent. */
  explicitNamespace: string | undefined;
  allNamespaces: boolean;
}

/** Runs `fn` with a client for this invocation; the client is closed afterwards. */
export function withApi<T>(flags: ApiFlagValues, io: CommandIo, fn: (ctx: ApiContext) => Promise<T>): Promise<T> {
  if (flags.namespace === '') throw new UsageError('bramble: -n/--namespace: the namespace may not be empty');
  return withClient(apiTarget(flags, io.env), (client) =>
    fn({ client, namespace: flags.namespace ?? DEFAULT_NAMESPACE, explicitNamespace: flags.namespace, allNamespaces: flags['all-namespaces'] }),
  );
}

/** For commands that work on one object: -A means nothing there, so say so. */
export function refuseAllNamespaces(command: string, flags: ApiFlagValues): void {
  if (flags['all-namespaces']) throw new UsageError(`bramble ${command}: -A/--all-namespaces only applies to lists (see 'bramble ${command} --help')`);
}
