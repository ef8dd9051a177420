// The container runtime: containerd (our own child or an external one), driven only through
// the ctr CLI; images without a registry; pod sandboxes, containers, tasks; logs.
export { startRuntime, Runtime } from './runtime.ts';
export type { StartRuntimeOptions } from './runtime.ts';
export { ContainerdSupervisor, ExternalContainerd, containerdConfig, probeContainerd, purgeNamespace, removeAllContainers } from './supervisor.ts';
export type { Containerd, StopOptions, SupervisorOptions } from './supervisor.ts';
export { Ctr, cleanStderr, DEFAULT_NAMESPACE } from './ctr.ts';
export type { CtrCallOptions, CtrOptions, CtrResult } from './ctr.ts';
export { Limiter } from './limiter.ts';
export { CtrError, RuntimeError } from './errors.ts';
export type { CtrErrorDetails } from './errors.ts';
export { normalizeImageName } from './image-names.ts';
export { ensureBusyboxImage, hasImage, imageRunConfig, importImage, listImages, parseImageList, removeImage } from './images.ts';
export type { EnsureBusyboxOptions, ImageInfo, ImageRunConfig, ImportOptions } from './images.ts';
export { BUSYBOX_BINARY, BUSYBOX_IMAGE, buildBusyboxImageArchive } from './busybox-image.ts';
export { buildTar } from './tar.ts';
export type { TarEntry } from './tar.ts';
export {
  containerId,
  isValidContainerId,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_SANDBOX,
  podLabels,
  sandboxId,
} from './ids.ts';
export type { PodRef } from './ids.ts';
export { Containers, namespacesOfPid, parseTaskList, SANDBOX_COMMAND } from './containers.ts';
export type { ContainerInfo, ContainerSpec, ExecResult, JoinedNamespaces, Mount, SandboxSpec, TaskListEntry, TaskState, TaskStatus } from './containers.ts';
export { isNamespaceMounted, pinPodNamespaces, podNamespacePaths, releasePodNamespaces } from './pod-namespaces.ts';
export type { PinnedKind, PinOptions, PodNamespacePaths } from './pod-namespaces.ts';
export { isMountPoint, mountsUnder, mountTmpfs, unmountUnder } from './mounts.ts';
export type { TmpfsOptions } from './mounts.ts';
export { parseEventLine, TaskEvents } from './events.ts';
export type { TaskEvent, TaskExit } from './events.ts';
export { CGROUP_ROOT, cgroupVersion, oomCounterFile, readOomKills } from './cgroups.ts';
export type { CgroupVersion } from './cgroups.ts';
export { containerLogPath, CURRENT_LOG, listLogFiles, LogRotator, podLogDir, readLog, rotateLog } from './logs.ts';
export type { LogLimits, LogOwner, ReadLogOptions } from './logs.ts';
