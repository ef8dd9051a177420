// The agent's runtime, image and log ports over src/runtime (containerd through ctr). Thin on
// purpose; the one piece of logic here is the exit code of a task that stopped while nobody
// watched containerd's events (a daemon restart): ctr 1.6 reports it only when the task is
// deleted, so the adapter deletes the task, keeps the code, and keeps reporting the container
// as exited with it until the agent removes or restarts it.
import { rm } from 'node:fs/promises';
import type { Runtime } from '../runtime/index.ts';
import { containerId, containerLogPath, mountTmpfs, normalizeImageName, pinPodNamespaces, podLogDir, readLog, releasePodNamespaces, sandboxId, unmountUnder } from '../runtime/index.ts';
import * as runtimeIds from '../runtime/index.ts';
import type { ContainerLogs, ContainerRuntime, ContainerState, ImageStore, PodNamespaces, RuntimeContainer, VolumeMounts } from './ports.ts';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, LABEL_SANDBOX } from './ports.ts';
import { timestamp } from '../model/index.ts';

// The agent and the runtime must agree on the labels that tie containers to pods.
const SAME_LABELS =
  runtimeIds.LABEL_POD_NAMESPACE === LABEL_POD_NAMESPACE &&
  runtimeIds.LABEL_POD_NAME === LABEL_POD_NAME &&
  runtimeIds.LABEL_POD_UID === LABEL_POD_UID &&
  runtimeIds.LABEL_CONTAINER_NAME === LABEL_CONTAINER_NAME &&
  runtimeIds.LABEL_SANDBOX === LABEL_SANDBOX;
if (!SAME_LABELS) throw new Error('src/agent/ports.ts and src/runtime/ids.ts disagree on the pod labels; make them equal');

export interface RuntimePorts {
  runtime: ContainerRuntime;
  images: ImageStore;
  logs: ContainerLogs;
  namespaces: PodNamespaces;
  mounts: VolumeMounts;
}

export function runtimePorts(rt: Runtime): RuntimePorts {
  /** Exit codes harvested by deleting a stopped task whose exit event was missed. */
  const harvested = new Map<string, { exitCode: number | null; finishedAt: string }>();
  const runtime: ContainerRuntime = {
    async list() {
      const [infos, tasks] = await Promise.all([rt.containers.listContainers(), rt.containers.listTasks()]);
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const out: RuntimeContainer[] = [];
      for (const info of infos) {
        const task = byId.get(info.id);
        let state: ContainerState = 'unknown';
        let exitCode: number | null = null;
        let finishedAt: string | undefined;
        let pid = 0;
        if (task?.state === 'running') {
          state = 'running';
          pid = task.pid;
        } else if (task?.state === 'created') state = 'created';
        else if (task?.state === 'stopped') {
          state = 'exited';
          const exit = rt.events.lastExit(info.id);
          if (exit && (exit.pid === task.pid || task.pid === 0)) {
            exitCode = exit.exitCode;
            finishedAt = timestamp(new Date(exit.exitedAt));
          } else {
            const { exitCode: code } = await rt.containers.deleteTask(info.id);
            const entry = { exitCode: code, finishedAt: timestamp(new Date()) };
            harvested.set(info.id, entry);
            exitCode = entry.exitCode;
            finishedAt = entry.finishedAt;
          }
        } else if (harvested.has(info.id)) {
          const entry = harvested.get(info.id)!;
          state = 'exited';
          exitCode = entry.exitCode;
          finishedAt = entry.finishedAt;
        }
        out.push({ id: info.id, labels: info.labels, image: info.image, state, pid, exitCode, ...(finishedAt ? { finishedAt } : {}) });
      }
      return out;
    },
    async runSandbox(request) {
      const { pid } = await rt.containers.runSandbox({ id: request.id, netnsPath: request.netnsPath, pinned: request.pinned, hostname: request.hostname, labels: request.labels });
      return { pid };
    },
    async runContainer(r) {
      harvested.delete(r.id);
      const { pid } = await rt.containers.runContainer({
        id: r.id,
        image: r.image,
        command: r.argv,
        env: r.env,
        ...(r.workingDir ? { workingDir: r.workingDir } : {}),
        mounts: r.mounts,
        namespaces: r.namespaces,
        ...(r.memoryLimitBytes !== undefined ? { memoryLimitBytes: r.memoryLimitBytes } : {}),
        ...(r.cpuLimitCores !== undefined ? { cpuLimitCores: r.cpuLimitCores } : {}),
        logPath: r.logPath,
        labels: r.labels,
      });
      return { pid };
    },
    async stop(id, graceSeconds) {
      await rt.containers.stopTask(id, graceSeconds);
    },
    async remove(id) {
      harvested.delete(id);
      await rt.containers.removeContainer(id);
    },
    exec: (id, argv, options) => rt.containers.exec(id, argv, { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) }),
    wasOomKilled: (id) => rt.containers.wasOomKilled(id),
    onExit(listener) {
      return rt.events.subscribe((event) => {
        if (event.type === 'exit' || event.type === 'oom') listener(event.containerId);
      });
    },
    containerId,
    sandboxId,
  };
  const images: ImageStore = {
    normalize(ref) {
      try {
        return normalizeImageName(ref);
      } catch {
        return ref; // `has` then says no, and the pod's status quotes the name as written
      }
    },
    async has(ref) {
      try {
        return await rt.hasImage(normalizeImageName(ref));
      } catch {
        return false;
      }
    },
    async entrypoint(ref) {
      return (await rt.imageRunConfig(ref))?.entrypoint;
    },
  };
  const logs: ContainerLogs = {
    path: (owner) => containerLogPath(rt.logsDir, owner),
    read: (path, options, write) => readLog(path, { ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}), follow: options.follow, signal: options.signal }, write),
    async removePod(owner) {
      await rm(podLogDir(rt.logsDir, owner), { recursive: true, force: true });
    },
  };
  const namespaces: PodNamespaces = {
    async pin(dir, options) {
      const { paths, created } = await pinPodNamespaces(dir, options);
      return { ...paths, created };
    },
    release: (dir) => releasePodNamespaces(dir),
  };
  const mounts: VolumeMounts = { tmpfs: mountTmpfs, unmountUnder };
  return { runtime, images, logs, namespaces, mounts };
}
