// The composition root of `bramble server`: build each part from explicit options, start them
// in order, wait for SIGINT/SIGTERM (or this member's removal), stop them in reverse.
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createClusterRoutes } from './api/cluster-routes.ts';
import { Router } from './api/http/index.ts';
import { createKvRoutes } from './api/kv/index.ts';
import { createResourceApi } from './api/resources/index.ts';
import { answerStatusError } from './api/resources/status.ts';
import { startAllocationRepair } from './api/resources/services/index.ts';
import { timestamp } from './model/index.ts';
import { createApiHandler } from './api/server.ts';
import { createTokenRoutes } from './api/token-routes.ts';
import { adminTokenFor, TokenRegistry, writeAdminToken } from './api/tokens.ts';
import { startHousekeeping } from './controllers/housekeeping.ts';
import { startControllers } from './controllers/index.ts';
import { startNodeLifecycle } from './controllers/node-lifecycle.ts';
import { createSharedInformers } from './controllers/shared-informers.ts';
import { startScheduler } from './scheduler/index.ts';
import type { LeaderTarget } from './cluster/heartbeat-sender.ts';
import { createHeartbeatRoutes, HeartbeatTable, HeartbeatView, startHeartbeats } from './cluster/index.ts';
import type { NodeServices } from './agent/start-node.ts';
import { MemberForwarder } from './api/forward.ts';
import { createImageRoutes } from './api/image-routes.ts';
import { carryOverAllocated, validateObject, validateUpdate } from './model/index.ts';
import type { Membership } from './cluster/index.ts';
import { Membership as MembershipImpl, PeerClient, PeerTransport, createMembershipRoutes, createPeerHandler, establishIdentity } from './cluster/index.ts';
import type { ServerEnv, ServerOptions } from './config/server-options.ts';
import { openDataDir } from './host/index.ts';
import { UsageSampler } from './host/usage.ts';
import { advertisedUrl, closeServer, listen } from './host/listen.ts';
import type { Message } from './raft/index.ts';
import { snapshotPath } from './store/replica.ts';
import type { Store } from './store/store.ts';
import { startCompactor } from './store/compactor.ts';
import { createStore, openReplica } from './store/store.ts';
import { VERSION } from './version.ts';

/** Key-value history kept for past reads and watches; older revisions are compacted away. */
const HISTORY_RETAIN_REVISIONS = 10_000;

function waitForShutdown(removed: Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void removed.then(() => resolve('removed from the cluster'));
  });
}

export async function runServer(options: ServerOptions, env: ServerEnv): Promise<number> {
  const { logger, profile } = env;
  const log = logger.child({ component: 'server' });
  const dataDir = openDataDir(options.dataDir);
  log.info('bramble server starting', { version: VERSION, name: options.name, dataDir: dataDir.path, board: profile.name, pid: process.pid });

  // 1. the replica (refuses a damaged database before anything listens)
  const replica = openReplica({
    dataDir: dataDir.path,
    cacheBytes: profile.sqlite.cacheBytes,
    walAutocheckpointPages: profile.sqlite.walAutocheckpointPages,
    snapshotEntries: profile.raft.snapshotEntries,
    logger: logger.child({ component: 'store' }),
  });
  const self = { name: options.name, peerURL: advertisedUrl(options.peerAddr), apiURL: advertisedUrl(options.apiAddr), labels: options.labels };

  // 2. the peer listener first: a joining member must be reachable as soon as it is admitted
  let store: Store | undefined;
  let membership: Membership | undefined;
  let clusterId: string | undefined = replica.identity()?.clusterId;
  let token = '';
  const peerHandler = (() => {
    let handler: ReturnType<typeof createPeerHandler> | undefined;
    return {
      set: (h: ReturnType<typeof createPeerHandler>) => (handler = h),
      serve: (req: Parameters<ReturnType<typeof createPeerHandler>>[0], res: Parameters<ReturnType<typeof createPeerHandler>>[1]) => {
        if (handler) handler(req, res);
        else {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'starting', message: 'this member is still starting; retry shortly' }));
        }
      },
      upgrade: (req: Parameters<ReturnType<typeof createPeerHandler>['upgrade']>[0], socket: Duplex, head: Buffer) => {
        if (handler) handler.upgrade(req, socket, head);
        else socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      },
      closeStreams: () => handler?.closeStreams(),
    };
  })();
  const peerServer = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, peerHandler.serve);
  peerServer.on('upgrade', peerHandler.upgrade);
  await listen(peerServer, options.peerAddr, 'peer link');

  // 3. who we are: restart, bootstrap, or join
  const identity = await establishIdentity({
    replica,
    dataDir: dataDir.path,
    self,
    ...(options.join ? { join: options.join } : {}),
    ...(options.token ? { token: options.token } : {}),
    logger: logger.child({ component: 'cluster' }),
  });
  clusterId = identity.clusterId;
  token = identity.token;
  const clusterLog = logger.child({ component: 'cluster' });

  // 4. the peer link, the store, membership
  const peerClient = new PeerClient(token);
  const isLeader = () => store?.driver.leader === identity.memberId;
  // Heartbeats: every gateway reports to the leader, which keeps them in memory only.
  const heartbeatTable = new HeartbeatTable();
  const leaderTarget = (): LeaderTarget => {
    const id = store?.driver.leader ?? '';
    if (id === '') return undefined;
    if (id === identity.memberId) return { self: true };
    const peerURL = replica.peerUrl(id);
    return peerURL ? { self: false, peerURL } : undefined;
  };
  const heartbeatView = new HeartbeatView({ table: heartbeatTable, leader: leaderTarget, client: peerClient, clusterId });
  const transport = new PeerTransport({
    selfId: identity.memberId,
    clusterId,
    token,
    peerUrl: (id) => replica.peerUrl(id),
    logger: logger.child({ component: 'peer' }),
    onUnreachable: (id) => store?.driver.raw.reportUnreachable(id),
    onSnapshotStatus: (id, ok) => {
      store?.driver.raw.reportSnapshot(id, ok);
      store?.driver.schedule();
    },
    snapshotFile: (m: Message) => snapshotPath(m.snapshot!),
    stream: true,
  });
  let seenSelf = replica.members().some((m) => m.id === identity.memberId);
  let resolveRemoved!: () => void;
  const removed = new Promise<void>((r) => (resolveRemoved = r));
  store = createStore({
    replica,
    onFatal: (err) => {
      log.error('the store cannot write to its database; stopping this member', { error: err });
      process.exit(1);
    },
    timing: profile.raft,
    transport,
    forward: (leader, op) => membership!.forwardWrite(leader, op),
    logger: logger.child({ component: 'store' }),
    onLeaderChange: (leader, term) => {
      const name = membership?.nameOf(leader) ?? leader;
      if (leader === '') clusterLog.info('no leader', { term });
      else if (leader === identity.memberId) clusterLog.info('elected leader', { member: identity.name, term });
      else clusterLog.info('following a new leader', { leader: name, term });
    },
    onMembersChanged: (members) => {
      clusterLog.info('membership changed', { members: members.map((m) => `${m.name}:${m.role}`) });
      // A joining member is not in the list until it has caught up to its own admission.
      const present = members.some((m) => m.id === identity.memberId);
      if (present) seenSelf = true;
      else if (seenSelf) resolveRemoved();
    },
  });
  membership = new MembershipImpl({ store, client: peerClient, clusterId, self, logger: clusterLog, onRemoved: () => resolveRemoved() });
  const liveStore = store;
  peerHandler.set(
    createPeerHandler({
      token,
      clusterId: () => clusterId,
      logger: logger.child({ component: 'peer' }),
      onMessages: (_from, messages) => {
        for (const m of messages) if (m.to === identity.memberId) liveStore.driver.step(m);
      },
      onSnapshot: (m, path) => {
        if (m.to !== identity.memberId || !m.snapshot) return;
        liveStore.driver.step({ ...m, snapshot: { ...m.snapshot, data: new TextEncoder().encode(JSON.stringify({ path })) } });
      },
      incomingDir: replica.incomingDir(),
      onStreamOpened: (from) => transport.peerAlive(from),
      extraRoutes: new Map([...createMembershipRoutes(() => membership), ...createHeartbeatRoutes({ table: heartbeatTable, isLeader })]),
    }),
  );

  // 5. the API: the Kubernetes-shaped resources, etcd's KV API, cluster endpoints, tokens
  const apiLog = logger.child({ component: 'api' });
  const adminToken = adminTokenFor(token);
  writeAdminToken(dataDir.path, token);
  const registry = new TokenRegistry(store.service);
  const usage = new UsageSampler(10_000, { diskPath: dataDir.path });
  // The heartbeats sample CPU and memory themselves; disk and temperature are slow to read.
  usage.startSlow();
  let node: NodeServices | undefined;
  let nodeFailed = false;
  const liveMembership = membership;
  const resources = createResourceApi({
    kv: store.service,
    validator: { validate: validateObject, validateUpdate, carryOver: carryOverAllocated },
    logger: apiLog,
    selfNode: options.name,
    apiUrlOf: (node) => liveMembership.status().members.find((m) => m.name === node)?.apiURL,
    members: () => liveMembership.status().members,
    usage: () => usage.current(),
    adminToken,
    runtime: () => node?.agent.podRuntime,
    serverAddress: `${options.apiAddr.host}:${options.apiAddr.port}`,
    platform: { platform: process.platform, arch: process.arch, node: process.versions.node },
  });
  resources.routes.useNodeHeartbeats(heartbeatView);
  const router = new Router({ logger: apiLog, answerError: answerStatusError });
  router.addRoutes(createKvRoutes(store.service, { logger: apiLog }));
  router.addRoutes(
    createClusterRoutes({
      status: () => liveMembership.status(),
      ready: () => liveMembership.ready(),
      removeMember: (name) => liveMembership.removeMember(name),
      // A gateway with containers is ready once it can take pods: its Node is registered, so the
      // scheduler spreads a Deployment applied right after over every ready gateway.
      notReadyReason: () => (options.disableAgent || nodeFailed || node?.registered ? undefined : "this gateway's node is not registered yet (the container runtime is starting)"),
    }),
  );
  router.addRoutes(createTokenRoutes(registry, () => timestamp(new Date())));
  const forwarder = new MemberForwarder(options.name, adminToken, apiLog);
  router.addRoutes(
    createImageRoutes({
      selfNode: options.name,
      runtime: () => node?.runtime,
      forwarder,
      apiUrlOf: (name) => liveMembership.status().members.find((m) => m.name === name)?.apiURL,
      uploadDir: join(dataDir.path, 'uploads'),
      logger: apiLog,
    }),
  );
  const apiServer = createServer(
    { keepAliveTimeout: 65_000 },
    createApiHandler({ rule: { adminTokens: [token, adminToken], registry }, resources: resources.routes, router, logger: apiLog }),
  );
  await listen(apiServer, options.apiAddr, 'API');

  // 6. go
  store.start();
  // Streams to the other members now: they hear this member is up without waiting out a back-off.
  transport.connect(replica.members().map((m) => m.id));
  membership.start();
  resources.start();
  // One informer per resource, shared by the leader's scheduler and controllers and this
  // gateway's DNS server and balancer.
  const shared = createSharedInformers({ store: resources.api.store, cache: resources.cache, logger: logger.child({ component: 'informer' }) });
  shared.start();
  const { informers } = shared;
  const controllersLog = logger.child({ component: 'controllers' });
  const housekeeping = startHousekeeping({ api: resources.api, deleter: resources.deleter, isLeader, logger: controllersLog });
  const allocationRepair = startAllocationRepair({ allocator: resources.services, isLeader, logger: apiLog });
  const scheduler = startScheduler({ api: resources.api, pods: informers.pods, nodes: informers.nodes, isLeader, logger, nodeName: options.name });
  const kickScheduler = [informers.pods.addListener(() => scheduler.kick()), informers.nodes.addListener(() => scheduler.kick())];
  const controllers = startControllers({ api: resources.api, deleter: resources.deleter, informers, isLeader, logger: controllersLog, selfNode: options.name });
  const lifecycle = startNodeLifecycle({
    api: resources.api,
    deleter: resources.deleter,
    nodes: informers.nodes,
    pods: informers.pods,
    heartbeats: heartbeatTable,
    isLeader,
    logger: controllersLog,
    graceMillis: options.nodeGraceMillis,
    evictionMillis: options.evictionTimeoutMillis,
    selfNode: options.name,
  });
  // A member without containers has no Node: its beats would show as a node that does not exist.
  const heartbeats = options.disableAgent
    ? undefined
    : startHeartbeats({
        nodeName: options.name,
        intervalMillis: options.heartbeatIntervalMillis,
        usage: () => usage.sample(),
        leader: leaderTarget,
        client: peerClient,
        clusterId,
        local: (hb) => heartbeatTable.record(hb),
        logger: logger.child({ component: 'heartbeat' }),
      });
  const compactor = startCompactor({ store, retainRevisions: HISTORY_RETAIN_REVISIONS, logger: logger.child({ component: 'store' }) });
  // 7. the node: containerd, pod network, agent — in the background, the API is up already
  const nodeAbort = new AbortController();
  const nodeStarting = options.disableAgent
    ? Promise.resolve()
    : // Loaded only here: a gateway with --disable-agent never evaluates the node's modules.
      import('./agent/start-node.ts').then(({ startNodeServices }) => startNodeServices({
        nodeName: options.name,
        dataDir: dataDir.path,
        profile,
        containerdSocket: options.containerdSocket,
        podCidr: options.podCidr,
        labels: options.labels,
        signal: nodeAbort.signal,
        informers,
        dns: { addr: options.dnsAddr, clusterDomain: options.clusterDomain, upstreams: options.dnsUpstreams },
        api: resources.api,
        deleter: resources.deleter,
        watch: resources.cache,
        logger,
      })).then(
        (started) => void (node = started),
        (error: unknown) => {
          nodeFailed = true;
          log.error('this gateway cannot run containers: the container runtime did not start', { error: (error as Error).message });
        },
      );
  log.info('member started', {
    name: identity.name,
    memberId: identity.memberId,
    clusterId,
    how: identity.how,
    apiAddr: `${options.apiAddr.host}:${options.apiAddr.port}`,
    peerURL: self.peerURL,
    revision: replica.kv.revision(),
    appliedIndex: replica.applied,
  });

  const reason = await waitForShutdown(removed);
  log.info('shutting down', { reason });
  if (reason !== 'removed from the cluster') await membership.handOverLeadership(profile.raft.tickMillis * profile.raft.electionTicks * 2);
  heartbeats?.stop();
  lifecycle.stop();
  controllers.stop();
  for (const unsubscribe of kickScheduler) unsubscribe();
  scheduler.stop();
  housekeeping.stop();
  allocationRepair.stop();
  usage.stop();
  nodeAbort.abort();
  await nodeStarting;
  await node?.stop();
  await forwarder.close();
  shared.stop();
  await resources.stop();
  await closeServer(apiServer);
  compactor.stop();
  membership.stop();
  store.stop();
  peerHandler.closeStreams();
  await closeServer(peerServer);
  await transport.close();
  await peerClient.close();
  replica.close();
  dataDir.release();
  log.info('stopped');
  return 0;
}
