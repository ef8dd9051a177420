// The columns `bramble get` prints for each kind, following kubectl's printers
// (k8s.io/kubernetes/pkg/printers/internalversion): same headers, same cell rules, so a user's
// eyes (and scripts that awk a column) carry over.

import type { KObject } from '../../model/index.ts';
import { arr, at, formatMap, formatSelector, num, obj, str, strs, type JsonObject } from './fields.ts';
import { age } from './time.ts';

export interface TableColumns {
  headers: string[];
  /** Extra columns of `-o wide`, appended after the normal ones. */
  wideHeaders: string[];
  /** Index of the NAME column, for the `pod/` prefix when several types share one table; -1: none. */
  nameColumn: number;
  row(object: KObject, now: number, wide: boolean): string[];
}

const name = (o: KObject) => o.metadata?.name ?? '';
const created = (o: KObject, now: number) => age(o.metadata?.creationTimestamp, now);

// ---- pods ----

export interface PodSummary {
  ready: number;
  total: number;
  status: string;
  restarts: number;
  /** When a container last terminated before a restart (kubectl shows "3 (5m ago)"). */
  lastRestart: string | undefined;
}

function later(a: string | undefined, b: unknown): string | undefined {
  if (typeof b !== 'string' || b === '') return a;
  return a === undefined || Date.parse(b) > Date.parse(a) ? b : a;
}

/** kubectl's printPod: READY, STATUS (the reason a user cares about), RESTARTS. */
export function podSummary(pod: KObject): PodSummary {
  const spec = obj(pod['spec']);
  const status = obj(pod['status']);
  const total = arr(spec['containers']).length;
  let reason = str(status['reason']) || str(status['phase']) || 'Pending';
  let restarts = 0;
  let ready = 0;
  let lastRestart: string | undefined;
  let initializing = false;
  const initStatuses = arr(status['initContainerStatuses']);
  for (const [index, c] of initStatuses.entries()) {
    restarts += num(c['restartCount']);
    lastRestart = later(lastRestart, at(c, 'lastState', 'terminated', 'finishedAt'));
    const state = obj(c['state']);
    const terminated = state['terminated'] === undefined ? undefined : obj(state['terminated']);
    const waiting = obj(state['waiting']);
    if (terminated !== undefined && num(terminated['exitCode']) === 0) continue;
    initializing = true;
    if (terminated !== undefined) {
      reason = str(terminated['reason'])
        ? `Init:${str(terminated['reason'])}`
        : num(terminated['signal']) !== 0
          ? `Init:Signal:${num(terminated['signal'])}`
          : `Init:ExitCode:${num(terminated['exitCode'])}`;
    } else if (str(waiting['reason']) !== '' && str(waiting['reason']) !== 'PodInitializing') {
      reason = `Init:${str(waiting['reason'])}`;
    } else {
      reason = `Init:${index}/${arr(spec['initContainers']).length || initStatuses.length}`;
    }
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    // Reversed, as kubectl: the first container's reason wins.
    for (const c of [...arr(status['containerStatuses'])].reverse()) {
      restarts += num(c['restartCount']);
      lastRestart = later(lastRestart, at(c, 'lastState', 'terminated', 'finishedAt'));
      const state = obj(c['state']);
      const waiting = obj(state['waiting']);
      const terminated = state['terminated'] === undefined ? undefined : obj(state['terminated']);
      if (str(waiting['reason']) !== '') {
        reason = str(waiting['reason']);
      } else if (terminated !== undefined && str(terminated['reason']) !== '') {
        reason = str(terminated['reason']);
      } else if (terminated !== undefined) {
        reason = num(terminated['signal']) !== 0 ? `Signal:${num(terminated['signal'])}` : `ExitCode:${num(terminated['exitCode'])}`;
      } else if (c['ready'] === true && state['running'] !== undefined) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = arr(status['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { ready, total, status: reason, restarts, lastRestart };
}

const POD: TableColumns = {
  headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  wideHeaders: ['IP', 'NODE'],
  nameColumn: 0,
  row(pod, now, wide) {
    const s = podSummary(pod);
    const restarts = s.lastRestart === undefined ? String(s.restarts) : `${s.restarts} (${age(s.lastRestart, now)} ago)`;
    const cells = [name(pod), `${s.ready}/${s.total}`, s.status, restarts, created(pod, now)];
    if (wide) cells.push(str(at(pod, 'status', 'podIP')) || '<none>', str(at(pod, 'spec', 'nodeName')) || '<none>');
    return cells;
  },
};

// ---- workloads ----

function templateContainers(o: KObject): JsonObject[] {
  return arr(at(o, 'spec', 'template', 'spec', 'containers'));
}

function workloadWide(o: KObject): string[] {
  const containers = templateContainers(o);
  return [containers.map((c) => str(c['name'])).join(','), containers.map((c) => str(c['image'])).join(','), formatSelector(at(o, 'spec', 'selector'))];
}

const desiredReplicas = (o: KObject) => num(at(o, 'spec', 'replicas'), 1);

const DEPLOYMENT: TableColumns = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  nameColumn: 0,
  row(d, now, wide) {
    const status = obj(d['status']);
    const cells = [
      name(d),
      `${num(status['readyReplicas'])}/${desiredReplicas(d)}`,
      String(num(status['updatedReplicas'])),
      String(num(status['availableReplicas'])),
      created(d, now),
    ];
    return wide ? [...cells, ...workloadWide(d)] : cells;
  },
};

const REPLICA_SET: TableColumns = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  nameColumn: 0,
  row(rs, now, wide) {
    const status = obj(rs['status']);
    const cells = [name(rs), String(desiredReplicas(rs)), String(num(status['replicas'])), String(num(status['readyReplicas'])), created(rs, now)];
    return wide ? [...cells, ...workloadWide(rs)] : cells;
  },
};

const DAEMON_SET: TableColumns = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  nameColumn: 0,
  row(ds, now, wide) {
    const s = obj(ds['status']);
    const cells = [
      name(ds),
      String(num(s['desiredNumberScheduled'])),
      String(num(s['currentNumberScheduled'])),
      String(num(s['numberReady'])),
      String(num(s['updatedNumberScheduled'])),
      String(num(s['numberAvailable'])),
      formatMap(at(ds, 'spec', 'template', 'spec', 'nodeSelector')),
      created(ds, now),
    ];
    return wide ? [...cells, ...workloadWide(ds)] : cells;
  },
};

// ---- networking ----

const LOAD_BALANCER_WIDTH = 16;

/** IPs and hostnames of a load balancer status, cut to 16 characters unless wide (as kubectl). */
export function loadBalancerAddresses(status: unknown, wide: boolean): string {
  const list = arr(at(status, 'ingress'))
    .map((i) => str(i['ip']) || str(i['hostname']))
    .filter((a) => a !== '');
  const text = list.join(',');
  return !wide && text.length > LOAD_BALANCER_WIDTH ? `${text.slice(0, LOAD_BALANCER_WIDTH - 3)}...` : text;
}

export function serviceExternalIp(svc: KObject, wide: boolean): string {
  const spec = obj(svc['spec']);
  const externalIps = strs(spec['externalIPs']);
  switch (str(spec['type']) || 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIps.length > 0 ? externalIps.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(at(svc, 'status', 'loadBalancer'), wide);
      const all = [...(lb === '' ? [] : [lb]), ...externalIps];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec['externalName']);
    default:
      return '<unknown>';
  }
}

/** `80/TCP,443:30443/TCP`. */
export function servicePorts(svc: KObject): string {
  const ports = arr(at(svc, 'spec', 'ports')).map((p) => {
    const protocol = str(p['protocol']) || 'TCP';
    const nodePort = num(p['nodePort']);
    return nodePort > 0 ? `${num(p['port'])}:${nodePort}/${protocol}` : `${num(p['port'])}/${protocol}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

const SERVICE: TableColumns = {
  headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
  wideHeaders: ['SELECTOR'],
  nameColumn: 0,
  row(svc, now, wide) {
    const spec = obj(svc['spec']);
    const cells = [name(svc), str(spec['type']) || 'ClusterIP', str(spec['clusterIP']) || '<none>', serviceExternalIp(svc, wide), servicePorts(svc), created(svc, now)];
    return wide ? [...cells, formatMap(spec['selector'])] : cells;
  },
};

/**
 * `10.42.0.5:80,10.42.1.7:80 + 2 more...`: at most three addresses (kubectl's formatEndpoints);
 * `portNames` restricts to the ports of those names (describe service, one line per port).
 */
export function formatEndpoints(endpoints: unknown, portNames?: ReadonlySet<string>): string {
  const subsets = arr(at(endpoints, 'subsets'));
  const max = 3;
  const list: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = arr(subset['addresses']).map((a) => str(a['ip']));
    const ports = arr(subset['ports']);
    const pairs: string[] = [];
    if (ports.length === 0) {
      pairs.push(...addresses);
    } else {
      for (const port of ports) {
        if (portNames !== undefined && !portNames.has(str(port['name']))) continue;
        for (const ip of addresses) pairs.push(ip.includes(':') ? `[${ip}]:${num(port['port'])}` : `${ip}:${num(port['port'])}`);
      }
    }
    count += pairs.length;
    for (const pair of pairs) if (list.length < max) list.push(pair);
  }
  if (list.length === 0) return '<none>';
  return count > max ? `${list.join(',')} + ${count - max} more...` : list.join(',');
}

const ENDPOINTS: TableColumns = {
  headers: ['NAME', 'ENDPOINTS', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row: (ep, now) => [name(ep), formatEndpoints(ep), created(ep, now)],
};

function ingressHosts(ing: KObject): string {
  const rules = arr(at(ing, 'spec', 'rules'));
  const max = 3;
  const hosts = rules.map((r) => str(r['host'])).filter((h) => h !== '');
  if (hosts.length === 0) return '*';
  return rules.length > max ? `${hosts.slice(0, max).join(',')} + ${rules.length - max} more...` : hosts.join(',');
}

const INGRESS: TableColumns = {
  headers: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row(ing, now, wide) {
    const ports = arr(at(ing, 'spec', 'tls')).length > 0 ? '80, 443' : '80';
    return [
      name(ing),
      str(at(ing, 'spec', 'ingressClassName')) || '<none>',
      ingressHosts(ing),
      loadBalancerAddresses(at(ing, 'status', 'loadBalancer'), wide),
      ports,
      created(ing, now),
    ];
  },
};

// ---- cluster ----

/** `Ready`, `NotReady`, `Unknown` (no Ready condition), plus `,SchedulingDisabled` when cordoned. */
export function nodeStatus(node: KObject): string {
  const readyCondition = arr(at(node, 'status', 'conditions')).find((c) => c['type'] === 'Ready');
  const parts = [readyCondition === undefined ? 'Unknown' : readyCondition['status'] === 'True' ? 'Ready' : 'NotReady'];
  if (at(node, 'spec', 'unschedulable') === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** From `node-role.kubernetes.io/<role>` labels (and the older `kubernetes.io/role`). */
export function nodeRoles(node: KObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

export function nodeAddress(node: KObject, type: string): string {
  return str(arr(at(node, 'status', 'addresses')).find((a) => a['type'] === type)?.['address']) || '<none>';
}

const NODE: TableColumns = {
  headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wideHeaders: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  nameColumn: 0,
  row(node, now, wide) {
    const info = obj(at(node, 'status', 'nodeInfo'));
    const cells = [name(node), nodeStatus(node), nodeRoles(node), created(node, now), str(info['kubeletVersion'])];
    if (wide) {
      cells.push(
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        str(info['osImage']) || '<unknown>',
        str(info['kernelVersion']) || '<unknown>',
        str(info['containerRuntimeVersion']) || '<unknown>',
      );
    }
    return cells;
  },
};

const NAMESPACE: TableColumns = {
  headers: ['NAME', 'STATUS', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row: (ns, now) => [name(ns), str(at(ns, 'status', 'phase')), created(ns, now)],
};

const CONFIG_MAP: TableColumns = {
  headers: ['NAME', 'DATA', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row: (cm, now) => [name(cm), String(Object.keys(obj(cm['data'])).length + Object.keys(obj(cm['binaryData'])).length), created(cm, now)],
};

const SECRET: TableColumns = {
  headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row(secret, now) {
    // stringData is write-only in Kubernetes, but count it if a server hands it back.
    const keys = new Set([...Object.keys(obj(secret['data'])), ...Object.keys(obj(secret['stringData']))]);
    return [name(secret), str(secret['type']) || 'Opaque', String(keys.size), created(secret, now)];
  },
};

/** `kubelet, gw1` or the reporting controller: where an event came from. */
export function eventSource(event: KObject): string {
  const source = obj(event['source']);
  const component = str(source['component']) || str(event['reportingComponent']) || str(event['reportingController']);
  const host = str(source['host']) || str(event['reportingInstance']);
  return host === '' ? component : component === '' ? host : `${component}, ${host}`;
}

export interface EventTimes {
  first: string;
  last: string;
  count: number;
}

/** First and last seen as ages, and how often (kubectl's printEvent rules). */
export function eventTimes(event: KObject, now: number): EventTimes {
  const firstAt = str(event['firstTimestamp']) || str(event['eventTime']) || event.metadata?.creationTimestamp;
  const series = event['series'] === undefined ? undefined : obj(event['series']);
  const first = age(firstAt, now);
  let last = str(event['lastTimestamp']) ? age(event['lastTimestamp'], now) : first;
  let count = num(event['count']);
  if (series !== undefined) {
    last = age(series['lastObservedTime'], now);
    count = num(series['count']);
  } else if (count === 0) {
    count = 1;
  }
  return { first, last, count };
}

export function eventObject(event: KObject): string {
  const involved = obj(event['involvedObject']);
  const kind = str(involved['kind']).toLowerCase();
  return str(involved['name']) === '' ? kind : `${kind}/${str(involved['name'])}`;
}

const EVENT: TableColumns = {
  headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  wideHeaders: [],
  nameColumn: -1,
  row(event, now, wide) {
    const t = eventTimes(event, now);
    const message = str(event['message']).trim();
    if (!wide) return [t.last, str(event['type']), str(event['reason']), eventObject(event), message];
    // kubectl's wide event table puts its extra columns in the middle and at the end.
    return [
      t.last,
      str(event['type']),
      str(event['reason']),
      eventObject(event),
      str(at(event, 'involvedObject', 'fieldPath')),
      eventSource(event),
      message,
      t.first,
      String(t.count),
      name(event),
    ];
  },
};

const EVENT_WIDE_HEADERS = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME'];

const GENERIC: TableColumns = {
  headers: ['NAME', 'AGE'],
  wideHeaders: [],
  nameColumn: 0,
  row: (o, now) => [name(o), created(o, now)],
};

const BY_KIND: Readonly<Record<string, TableColumns>> = {
  Pod: POD,
  Deployment: DEPLOYMENT,
  ReplicaSet: REPLICA_SET,
  DaemonSet: DAEMON_SET,
  Service: SERVICE,
  Endpoints: ENDPOINTS,
  Ingress: INGRESS,
  Node: NODE,
  Namespace: NAMESPACE,
  ConfigMap: CONFIG_MAP,
  Secret: SECRET,
  Event: EVENT,
};

export function columnsFor(kind: string): TableColumns {
  return BY_KIND[kind] ?? GENERIC;
}

/** The header row for a kind, as printed (wide adds columns; events reorder theirs). */
export function headersFor(kind: string, wide: boolean): string[] {
  if (kind === 'Event' && wide) return EVENT_WIDE_HEADERS;
  const columns = columnsFor(kind);
  return wide ? [...columns.headers, ...columns.wideHeaders] : columns.headers;
}
