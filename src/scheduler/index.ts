// The scheduler (kube-scheduler's job, on the Raft leader): binds each pending pod to a node.
// schedule.ts decides (pure), runner.ts watches the informers and binds.
export { startScheduler, SCHEDULER_NAME } from './runner.ts';
export type { Scheduler, SchedulerApi, SchedulerEvents, SchedulerOptions, SchedulerStats } from './runner.ts';
export { NO_NODES_MESSAGE, REASONS, schedule, schedulePod, SCORE_WEIGHTS, unschedulableMessage } from './schedule.ts';
export type { Decision } from './schedule.ts';
export { ClusterSnapshot, HOSTNAME_LABEL, ZONE_LABEL } from './snapshot.ts';
export { nodeFacts, podFacts } from './facts.ts';
