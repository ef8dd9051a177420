// The pod status the agent reports, computed from what it observed: the phase and conditions by
// kubelet's rules (getPhase, generateAPIPodStatus), container states with their reasons. Pure,
// and deterministic for the same observations: timestamps come from the observations or are
// carried over from the previous status, so an unchanged pod gives an identical status and
// nothing is written.

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

export type ContainerStateView = { waiting: { reason: string; message?: string } } | { running: { startedAt: string } } | { terminated: Terminated };

export interface ContainerView {
  name: string;
  image: string;
  state: ContainerStateView;
  lastState?: Terminated;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
}

export interface PodView {
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  init: ContainerView[];
  containers: ContainerView[];
  podIP: string;
  hostIP: string;
  startTime: string;
  qosClass: string;
  /** A terminal phase already reported: it never changes back. */
  previousPhase?: string;
  /** The pod failed for a reason of its own (DeadlineExceeded). */
  failure?: { reason: string; message: string };
}

type Condition = { type: string; status: 'True' | 'False'; reason?: string; message?: string; lastProbeTime: null; lastTransitionTime: string };

export function isTerminalPhase(phase: unknown): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** kubelet's getPhase. */
export function podPhase(view: PodView): string {
  if (view.previousPhase !== undefined && isTerminalPhase(view.previousPhase)) return view.previousPhase;
  if (view.failure) return 'Failed';
  let pendingInit = false;
  let failedInit = false;
  for (const c of view.init) {
    if ('terminated' in c.state) {
      if (c.state.terminated.exitCode === 0) continue;
      failedInit = true;
      pendingInit = true;
      continue;
    }
    pendingInit = true;
    if ('waiting' in c.state && c.lastState && c.lastState.exitCode !== 0) failedInit = true;
  }
  if (failedInit && view.restartPolicy === 'Never') return 'Failed';
  if (pendingInit) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of view.containers) {
    if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (view.restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (view.restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function conditionTime(previous: readonly Condition[] | undefined, type: string, status: string, now: string): string {
  const old = previous?.find((c) => c.type === type);
  return old && old.status === status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
}

function containerStatus(c: ContainerView): Record<string, unknown> {
  return {
    name: c.name,
    state: c.state,
    lastState: c.lastState ? { terminated: c.lastState } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: '',
    ...(c.containerID ? { containerID: `containerd://${c.containerID}` } : {}),
    started: c.started,
  };
}

/**
 * The status to write. `previous` is the status as last written (or read from the store):
 * conditions keep their lastTransitionTime while their status stays; `now` stamps transitions.
 */
export function buildPodStatus(view: PodView, previous: Record<string, unknown> | undefined, now: string): Record<string, unknown> {
  const phase = podPhase(view);
  const prevConditions = Array.isArray(previous?.['conditions']) ? (previous!['conditions'] as Condition[]) : undefined;
  const initialized = view.init.every((c) => 'terminated' in c.state && c.state.terminated.exitCode === 0);
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const terminal = isTerminalPhase(phase);
  const conditions: Condition[] = [];
  const add = (type: string, ok: boolean, reason?: string, message?: string) => {
    const status = ok ? 'True' : 'False';
    conditions.push({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastProbeTime: null, lastTransitionTime: conditionTime(prevConditions, type, status, now) });
  };
  const notInitialized = view.init.filter((c) => !('terminated' in c.state && c.state.terminated.exitCode === 0)).map((c) => c.name);
  add('Initialized', initialized || terminal, initialized || terminal ? undefined : 'ContainersNotInitialized', initialized || terminal ? undefined : `containers with incomplete status: [${notInitialized.join(' ')}]`);
  if (terminal) {
    add('Ready', false, 'PodCompleted');
    add('ContainersReady', false, 'PodCompleted');
  } else {
    const ready = unready.length === 0 && initialized;
    const why = `containers with unready status: [${unready.join(' ')}]`;
    add('Ready', ready, ready ? undefined : 'ContainersNotReady', ready ? undefined : why);
    add('ContainersReady', ready, ready ? undefined : 'ContainersNotReady', ready ? undefined : why);
  }
  add('PodScheduled', true);
  const status: Record<string, unknown> = {
    phase,
    conditions,
    ...(view.failure && phase === 'Failed' ? { reason: view.failure.reason, message: view.failure.message } : {}),
    hostIP: view.hostIP,
    hostIPs: view.hostIP ? [{ ip: view.hostIP }] : [],
    ...(view.podIP ? { podIP: view.podIP, podIPs: [{ ip: view.podIP }] } : {}),
    startTime: view.startTime,
    ...(view.init.length > 0 ? { initContainerStatuses: view.init.map(containerStatus) } : {}),
    containerStatuses: view.containers.map(containerStatus),
    qosClass: view.qosClass,
  };
  // A terminal pod keeps reporting the address it had.
  if (!view.podIP && terminal && typeof previous?.['podIP'] === 'string') {
    status['podIP'] = previous['podIP'];
    status['podIPs'] = previous['podIPs'];
  }
  return status;
}

/** Kubernetes' QoS class from the containers' requests and limits. */
export function qosClass(containers: readonly { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } }[]): string {
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
