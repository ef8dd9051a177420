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
import { timestamp } from './api/resources/objects.ts';
import { createApiHandler } from './api/server.ts';
import { createTokenRoutes } from './api/token-routes.ts';
import { adminTokenFor, TokenRegistry, writeAdminToken } from './api/tokens.ts';
import { startHousekeeping } from './controllers/housekeeping.ts';
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
      extraRoutes: createMembershipRoutes(() => membership),
    }),
  );

  // 5. the API: the Kubernetes-shaped resources, etcd's KV API, cluster endpoints, tokens
  const apiLog = logger.child({ component: 'api' });
  const adminToken = adminTokenFor(token);
  writeAdminToken(dataDir.path, token);
  const registry = new TokenRegistry(store.service);
  const usage = new UsageSampler();
  usage.start();
  let node: NodeServices | undefined;
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
  const router = new Router({ logger: apiLog, answerError: answerStatusError });
  router.addRoutes(createKvRoutes(store.service, { logger: apiLog }));
  router.addRoutes(createClusterRoutes(membership));
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
  const housekeeping = startHousekeeping({
    api: resources.api,
    deleter: resources.deleter,
    isLeader: () => liveStore.driver.leader === identity.memberId,
    logger: logger.child({ component: 'controllers' }),
  });
  const compactor = startCompactor({ store, retainRevisions: HISTORY_RETAIN_REVISIONS, logger: logger.child({ component: 'store' }) });
  // 7. the node: containerd, pod network, agent — in the background, the API is up already
  const nodeStarting = options.disableAgent
    ? Promise.resolve()
    : // Loaded only here: a gateway with --disable-agent never evaluates the node's modules.
      import('./agent/start-node.ts').then(({ startNodeServices }) => startNodeServices({
        nodeName: options.name,
        dataDir: dataDir.path,
        profile,
        containerdSocket: options.containerdSocket,
        podCidr: options.podCidr,
        api: resources.api,
        deleter: resources.deleter,
        watch: resources.cache,
        logger,
      })).then(
        (started) => void (node = started),
        (error: unknown) => log.error('this gateway cannot run containers: the container runtime did not start', { error: (error as Error).message }),
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
  housekeeping.stop();
  usage.stop();
  await nodeStarting;
  await node?.stop();
  await forwarder.close();
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
