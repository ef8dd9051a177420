// The peer link between gateways: Raft messages in batches and snapshots as streamed files,
// over HTTP, authenticated with the cluster token and checked against the cluster id.
export { bearer, checkPeerRequest, CLUSTER_HEADER, LogLimiter, tokensEqual } from './auth.ts';
export type { PeerAuthOptions, PeerRefusal, PeerRefusalCode } from './auth.ts';
export { cleanIncomingDir, createPeerHandler } from './peer-server.ts';
export type { PeerHandler, PeerHandlerOptions, PeerRoute, PeerRouteHandler } from './peer-server.ts';
export { PeerTransport } from './transport.ts';
export type { BackoffOptions, PeerLinkStats, PeerTransportOptions, TransportStats } from './transport.ts';
export {
  assembleBatch,
  BATCH_BYTES_MAX_DEFAULT,
  CONTEXT_BYTES_MAX,
  decodeBatch,
  decodeSnapshotHeader,
  encodeBatch,
  encodedMessageBytes,
  encodeMessage,
  encodeSnapshotHeader,
  ID_BYTES_MAX,
  isPeerMessageType,
  MESSAGE_HEADER,
  MESSAGES_PATH,
  PEER_MESSAGE_TYPES,
  SNAPSHOT_PATH,
  WireError,
} from './wire.ts';
export type { Batch, BatchHeader, DecodeOptions, PeerMessageType } from './wire.ts';
export { establishIdentity, JoinError, newId, newToken, readToken, TOKEN_FILE } from './identity.ts';
export type { Identity, IdentityOptions } from './identity.ts';
export { Membership, NOT_LEADER_STATUS } from './membership.ts';
export type { ClusterStatus, MembershipOptions, PeerAnswer } from './membership.ts';
export { PeerCallError, PeerClient } from './peer-client.ts';
export { createMembershipRoutes } from './peer-routes.ts';
export { HEARTBEAT_PATH, HEARTBEATS_PATH, HeartbeatError, HeartbeatTable, heartbeatOf, parseHeartbeat } from './heartbeat.ts';
export type { Heartbeat, HeartbeatRecord, HeartbeatTableOptions } from './heartbeat.ts';
export { createHeartbeatRoutes } from './heartbeat-routes.ts';
export type { HeartbeatListItem, HeartbeatRoutesOptions } from './heartbeat-routes.ts';
export { startHeartbeats } from './heartbeat-sender.ts';
export type { HeartbeatSender, HeartbeatSenderOptions, LeaderTarget } from './heartbeat-sender.ts';
export { HeartbeatView, withHeartbeatTime } from './heartbeat-view.ts';
export type { HeartbeatViewOptions } from './heartbeat-view.ts';
