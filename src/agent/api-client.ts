// The agent's view of the resource API (ports.ts AgentApi) over the in-process ObjectApi and
// Deleter. Reads are serializable (the local replica): a gateway cut off from the leader still
// knows its pods.
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { Status, StatusError } from '../api/resources/index.ts';
import type { KObject, ResourceInfo } from '../model/index.ts';
import { findResource } from '../model/index.ts';
import type { AgentApi } from './ports.ts';
import { isTerminalPhase } from './status.ts';

const podsInfo = findResource('', 'v1', 'pods')!;

export function resourceApiClient(api: ObjectApi, deleter: Deleter): AgentApi {
  const replaceStatus = (info: ResourceInfo, namespace: string | undefined, name: string, uid: string, status: Record<string, unknown>) =>
    api.update(
      info,
      namespace,
      name,
      (current) => {
        // A pod deleted and created again under the same name is another pod: leave it alone.
        if (current.metadata.uid !== uid) throw Status.conflict(info, name, `the object's UID is now ${String(current.metadata.uid)}, not ${uid}`);
        // A pod the leader marked Failed (NodeLost) while this gateway was cut off stays Failed: a
        // status computed from the stale replica must not bring it back; the watch brings the
        // Failed pod and the reconciler stops its containers.
        const was = (current['status'] as { phase?: string } | undefined)?.phase;
        if (info.resource === 'pods' && isTerminalPhase(was) && !isTerminalPhase(status['phase'])) throw Status.conflict(info, name, `the pod is ${String(was)}; a terminal phase is final`);
        return { ...current, status };
      },
      { dryRun: false },
    );
  return {
    async get(info, namespace, name) {
      try {
        return await api.get(info, namespace, name, true);
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return undefined;
        throw error;
      }
    },
    async list(info, namespace) {
      const list = await api.list(info, namespace, { serializable: true });
      const revision = Number((list['metadata'] as { resourceVersion?: string }).resourceVersion ?? 0);
      return { items: (list['items'] as KObject[]) ?? [], revision };
    },
    create: (info, namespace, object) => api.create(info, namespace, object, { dryRun: false }),
    replaceStatus,
    async deletePod(namespace, name, uid) {
      try {
        await deleter.delete(podsInfo, namespace, name, { dryRun: false, gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (error) {
        // Already gone, or replaced by a new pod of the same name: nothing left to delete.
        if (error instanceof StatusError && (error.code === 404 || (error.code === 409 && /UID/.test(error.message)))) return;
        throw error;
      }
    },
  };
}
