// The agent's network port over src/network: a named network namespace per pod (named after the
// node and the pod UID, so two gateways simulated on one machine never collide) plugged in by
// the CNI chain; teardown runs CNI DEL, then removes the namespace.
import type { PodNetwork as CniPodNetwork } from '../network/index.ts';
import { createPodNetns, pinPodNetns, podNetnsName, removePodNetns } from '../network/index.ts';
import type { PodNetwork } from './ports.ts';

export function networkPort(network: CniPodNetwork, nodeName: string): PodNetwork {
  return {
    async setUp(pod, portMappings, sandboxPid) {
      const name = podNetnsName(nodeName, pod.uid);
      let netnsPath: string | undefined;
      // A running sandbox holds the pod's real netns: if the path does not show it (a restarted
      // daemon in another mount namespace, see pinPodNetns), pin that one rather than make a new one.
      if (sandboxPid !== undefined && sandboxPid > 0) netnsPath = await pinPodNetns(name, `/proc/${sandboxPid}/ns/net`).catch(() => undefined);
      netnsPath ??= await createPodNetns(name);
      const attachment = await network.setUp({ podUid: pod.uid, namespace: pod.namespace, name: pod.name, netnsPath, portMappings });
      return { netnsPath, ip: attachment.ip };
    },
    netns: (pod) => createPodNetns(podNetnsName(nodeName, pod.uid)),
    async tearDown(pod) {
      await network.tearDown(pod.uid);
      await removePodNetns(podNetnsName(nodeName, pod.uid));
    },
    async list() {
      return (await network.list()).map((e) => ({ uid: e.podUid, namespace: e.namespace, name: e.name }));
    },
  };
}
