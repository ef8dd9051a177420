// The sending end of the heartbeats, on every member: every --heartbeat-interval this gateway's
// usage goes to the Raft leader over the peer link (or straight into the table when this member
// leads). Beats never overlap: the next waits for the previous answer or its timeout. A leader
// that cannot be reached is logged once when beats start failing and once when they get through.
import type { Usage } from '../host/usage.ts';
import type { Logger } from '../log/index.ts';
import { HEARTBEAT_PATH, heartbeatOf, type Heartbeat } from './heartbeat.ts';
import type { PeerClient } from './peer-client.ts';

export type LeaderTarget = { self: true } | { self: false; peerURL: string } | undefined;

export interface HeartbeatSenderOptions {
  nodeName: string;
  intervalMillis: number;
  usage: () => Usage;
  /** Where the leader is now: this member, another member's peer URL, or unknown. */
  leader: () => LeaderTarget;
  client: Pick<PeerClient, 'post'>;
  clusterId: string;
  /** Delivers a beat when this member leads (the HeartbeatTable's record). */
  local: (hb: Heartbeat) => void;
  logger: Logger;
}

export interface HeartbeatSender {
  /** Sends one beat now; true when the leader took it. */
  beat(): Promise<boolean>;
  stop(): void;
  readonly failures: number;
}

export function startHeartbeats(options: HeartbeatSenderOptions): HeartbeatSender {
  const log = options.logger;
  // Long enough for a slow link, short enough that a dead leader does not hold beats back long.
  const timeoutMillis = Math.min(5000, Math.max(1000, options.intervalMillis * 2));
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const failed = (why: string, fields: Record<string, unknown> = {}): false => {
    if (failures === 0) log.warn('heartbeats are not reaching the leader; retrying every interval', { why, ...fields });
    failures++;
    return false;
  };

  const beat = async (): Promise<boolean> => {
    const hb = heartbeatOf(options.nodeName, options.usage());
    const leader = options.leader();
    if (leader === undefined) return failed('no leader known');
    try {
      if (leader.self) options.local(hb);
      else await options.client.post(leader.peerURL, HEARTBEAT_PATH, JSON.stringify(hb), { clusterId: options.clusterId, timeoutMillis });
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error), leader.self ? {} : { leader: leader.peerURL });
    }
    if (failures > 0) log.info('heartbeats reach the leader again', { missed: failures });
    failures = 0;
    return true;
  };

  const loop = (): void => {
    if (stopped) return;
    void beat().finally(() => {
      if (stopped) return;
      timer = setTimeout(loop, options.intervalMillis);
      timer.unref();
    });
  };
  loop();

  return {
    beat,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    get failures() {
      return failures;
    },
  };
}
