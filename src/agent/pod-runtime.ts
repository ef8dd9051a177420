// The LocalPodRuntime the API's log and exec subresources call for pods on this gateway: logs
// come from the container's log file (tail, follow), exec goes through the runtime.
import type { ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { ExecResult, LocalPodRuntime, LogOptions } from '../api/resources/index.ts';
import { Status } from '../api/resources/index.ts';
import type { KObject } from '../model/index.ts';
import type { ContainerLogs, ContainerRuntime } from './ports.ts';
import type { PodReconciler } from './reconciler.ts';

/** An exec that runs longer than this is killed (the API call is a request, not a session). */
const EXEC_TIMEOUT_MS = 5 * 60_000;

export function createPodRuntime(o: { runtime: ContainerRuntime; logs: ContainerLogs; reconciler: PodReconciler }): LocalPodRuntime {
  return {
    async logs(pod: KObject, container: string, options: LogOptions, out: ServerResponse, signal: AbortSignal): Promise<void> {
      const owner = { namespace: pod.metadata.namespace ?? '', podName: pod.metadata.name ?? '', podUid: pod.metadata.uid ?? '', containerName: container };
      const path = o.logs.path(owner);
      if (!existsSync(path) && !options.follow) {
        throw Status.badRequest(`container "${container}" in pod "${owner.podName}" has no log yet: it is waiting to start (see the pod's status and events)`);
      }
      // One file per container, appended across restarts: it holds the earlier runs' output too.
      out.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      await o.logs.read(path, { ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}), follow: options.follow, signal }, (chunk) => {
        if (out.destroyed) return;
        if (!out.write(chunk)) return new Promise<void>((resolve) => out.once('drain', resolve).once('close', resolve));
        return undefined;
      });
      out.end();
    },
    async exec(pod: KObject, container: string, command: string[], signal: AbortSignal): Promise<ExecResult> {
      if (command.length === 0) throw Status.badRequest('exec needs a command, e.g. ["sh", "-c", "ls /"]');
      const running = await o.reconciler.runningContainer(pod.metadata.uid ?? '', container);
      if (!running) throw Status.badRequest(`container ${container} in pod ${pod.metadata.name} is not running; see the pod's status`);
      return o.runtime.exec(running.id, command, { timeoutMs: EXEC_TIMEOUT_MS, signal });
    },
  };
}
