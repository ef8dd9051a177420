// The workload controllers (kube-controller-manager's part of bramble): ReplicaSets,
// Deployments, DaemonSets and Endpoints, each a level-triggered loop over the shared informers.
// They run only on the Raft leader: on becoming leader the informers are listed again through
// the leader first (a new leader may not have applied everything committed before its
// election), then every object is queued; a periodic resync queues everything again so a missed
// event costs at most one resync period. Garbage collection by ownerReferences is the Deleter's
// cascade plus housekeeping's sweep (housekeeping.ts).
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { EventRecorder } from '../agent/events.ts';
import type { Clock } from '../agent/ports.ts';
import { systemClock } from '../agent/ports.ts';
import type { Logger } from '../log/index.ts';
import type { Reconciler } from './controller-runner.ts';
import { ControllerRunner } from './controller-runner.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController } from './deployment-controller.ts';
import { EndpointsController } from './endpoints-controller.ts';
import type { Informer } from './informer.ts';
import { ReplicaSetController } from './replicaset-controller.ts';

export { Informer, objectKeyOf } from './informer.ts';
export type { InformerEvent, InformerOptions } from './informer.ts';

export interface ControllerInformers {
  pods: Informer;
  nodes: Informer;
  replicasets: Informer;
  deployments: Informer;
  daemonsets: Informer;
  services: Informer;
  endpoints: Informer;
}

export interface ControllersOptions {
  api: ObjectApi;
  deleter: Deleter;
  informers: ControllerInformers;
  isLeader: () => boolean;
  logger: Logger;
  selfNode: string;
  clock?: Clock;
  /** How often leadership is checked (default 1 s). */
  leaderCheckMillis?: number;
  /** How often every object is queued again (default 30 s). */
  resyncMillis?: number;
  /** How long an unmet expectation holds (default 5 min, as Kubernetes). */
  expectationsTimeoutMs?: number;
}

export interface Controllers {
  stop(): void;
  /** Resolves once this member leads and every controller's queue is empty (tests). */
  idle(): Promise<void>;
  /** Whether the controllers are acting (this member leads and has listed again). */
  readonly leading: boolean;
}

export function startControllers(o: ControllersOptions): Controllers {
  const clock = o.clock ?? systemClock;
  const log = o.logger;
  const recorder = (component: string): EventRecorder =>
    new EventRecorder({
      api: { create: (info, ns, obj) => o.api.create(info, ns, obj, { dryRun: false }) },
      clock,
      nodeName: o.selfNode,
      component,
      logger: log,
    });
  const { pods, nodes, replicasets, deployments, daemonsets, services, endpoints } = o.informers;
  const expectationsTimeout = o.expectationsTimeoutMs !== undefined ? { expectationsTimeoutMs: o.expectationsTimeoutMs } : {};
  const reconcilers: Reconciler[] = [
    new ReplicaSetController({ api: o.api, deleter: o.deleter, pods, nodes, replicasets, clock, logger: log.child({ controller: 'replicaset' }), recorder: recorder('replicaset-controller'), ...expectationsTimeout }),
    new DeploymentController({ api: o.api, deleter: o.deleter, pods, replicasets, deployments, clock, logger: log.child({ controller: 'deployment' }), recorder: recorder('deployment-controller') }),
    new DaemonSetController({ api: o.api, deleter: o.deleter, pods, nodes, daemonsets, clock, logger: log.child({ controller: 'daemonset' }), recorder: recorder('daemonset-controller'), ...expectationsTimeout }),
    new EndpointsController({ api: o.api, deleter: o.deleter, pods, services, endpoints, logger: log.child({ controller: 'endpoints' }) }),
  ];
  let leading = false;
  let becoming: Promise<void> | null = null;
  let stopped = false;
  const runners = reconcilers.map((reconciler) => new ControllerRunner({ reconciler, informers: { ...o.informers }, leading: () => leading && !stopped && o.isLeader(), clock, logger: log }));
  const idleWaiters: (() => void)[] = [];

  const becomeLeader = async (): Promise<void> => {
    const all = Object.values(o.informers);
    await Promise.all(all.map((i) => i.whenSynced()));
    await Promise.all(all.map((i) => i.relist({ linearizable: true })));
    if (stopped || !o.isLeader()) return;
    leading = true;
    log.info('controllers leading');
    for (const runner of runners) runner.resync();
  };
  const check = (): void => {
    if (stopped) return;
    const leader = o.isLeader();
    if (leader && !leading && !becoming) {
      becoming = becomeLeader()
        .catch((error: unknown) => log.warn('controllers could not start leading; retrying', { error: String(error) }))
        .finally(() => {
          becoming = null;
          if (leading) for (const w of idleWaiters.splice(0)) w();
        });
    } else if (!leader && leading) {
      leading = false;
      log.info('controllers stopped leading');
      for (const runner of runners) runner.reset();
    }
  };
  const leaderTimer = setInterval(check, o.leaderCheckMillis ?? 1000);
  leaderTimer.unref();
  const resyncTimer = setInterval(() => {
    if (leading && !stopped) for (const runner of runners) runner.resync();
  }, o.resyncMillis ?? 30_000);
  resyncTimer.unref();
  check();

  return {
    get leading() {
      return leading;
    },
    async idle() {
      if (!leading) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      // Loops feed each other (a ReplicaSet's status moves its Deployment): wait for quiet rounds.
      for (let round = 0; round < 3; round++) {
        await Promise.all(runners.map((r) => r.idle()));
        await new Promise((r) => setTimeout(r, 30));
      }
    },
    stop() {
      stopped = true;
      clearInterval(leaderTimer);
      clearInterval(resyncTimer);
      for (const runner of runners) runner.stop();
    },
  };
}
