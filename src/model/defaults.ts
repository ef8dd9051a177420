// Defaulting, as Kubernetes' SetDefaults_* functions do it, so a stored object states every
// choice the cluster made (restartPolicy, imagePullPolicy, probe timings...) and controllers,
// agents and `get -o yaml` all see the same explicit values. Defaulting works on a copy and
// tolerates values of the wrong type (leaves them alone: the schema check reports them).
import { copyWithoutNulls, ensureObject, isUnset, objectAt, arrayAt, setDefault, stringAt, type JsonObject } from './json.ts';
import type { KObject, ResourceInfo } from './types.ts';

/** Kubernetes pointer-less int fields use 0 for "unset" (probe timings). */
function setDefaultCount(parent: JsonObject, key: string, value: number): void {
  if (parent[key] === undefined || parent[key] === 0) parent[key] = value;
}

/** Pointer int fields (replicas, terminationGracePeriodSeconds): only absence is "unset"; 0 is a choice. */
function setDefaultIfAbsent(parent: JsonObject, key: string, value: unknown): void {
  if (parent[key] === undefined) parent[key] = value;
}

function eachObject(list: unknown, fn: (item: JsonObject) => void): void {
  for (const item of arrayAt(list) ?? []) {
    const o = objectAt(item);
    if (o) fn(o);
  }
}

/**
 * `Always` for an image without a tag or tagged `latest`, else `IfNotPresent` (Kubernetes'
 * rule). A digest pins the image, so it is never re-pulled.
 */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  const tag = colon < 0 ? '' : lastPart.slice(colon + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: JsonObject): void {
  setDefaultCount(probe, 'timeoutSeconds', 1);
  setDefaultCount(probe, 'periodSeconds', 10);
  setDefaultCount(probe, 'successThreshold', 1);
  setDefaultCount(probe, 'failureThreshold', 3);
  const httpGet = objectAt(probe.httpGet);
  if (httpGet) {
    setDefault(httpGet, 'path', '/');
    setDefault(httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(c: JsonObject): void {
  const image = stringAt(c.image);
  if (image !== undefined && image !== '') setDefault(c, 'imagePullPolicy', defaultPullPolicy(image));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  eachObject(c.ports, (p) => setDefault(p, 'protocol', 'TCP'));
  for (const name of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = objectAt(c[name]);
    if (probe) defaultProbe(probe);
  }
  eachObject(c.env, (e) => {
    const fieldRef = objectAt(objectAt(e.valueFrom)?.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
  });
}

/** Defaults of a PodSpec, also applied to the pod templates of workloads. */
export function defaultPodSpec(spec: JsonObject): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefaultIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  eachObject(spec.containers, defaultContainer);
  eachObject(spec.initContainers, defaultContainer);
  eachObject(spec.volumes, (v) => {
    // 0644, as Kubernetes defaults it: files from ConfigMaps and Secrets are readable, not executable.
    const configMap = objectAt(v.configMap);
    if (configMap) setDefaultIfAbsent(configMap, 'defaultMode', 0o644);
    const secret = objectAt(v.secret);
    if (secret) setDefaultIfAbsent(secret, 'defaultMode', 0o644);
  });
}

function defaultTemplate(spec: JsonObject): void {
  const podSpec = objectAt(objectAt(spec.template)?.spec);
  if (podSpec) defaultPodSpec(podSpec);
}

function defaultDeployment(o: JsonObject): void {
  const spec = objectAt(o.spec);
  if (!spec) return;
  setDefaultIfAbsent(spec, 'replicas', 1);
  const strategy = ensureObject(spec, 'strategy');
  if (strategy) {
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = ensureObject(strategy, 'rollingUpdate');
      if (rolling) {
        setDefault(rolling, 'maxUnavailable', '25%');
        setDefault(rolling, 'maxSurge', '25%');
      }
    }
  }
  setDefaultIfAbsent(spec, 'revisionHistoryLimit', 10);
  setDefaultIfAbsent(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function defaultReplicaSet(o: JsonObject): void {
  const spec = objectAt(o.spec);
  if (!spec) return;
  setDefaultIfAbsent(spec, 'replicas', 1);
  defaultTemplate(spec);
}

function defaultDaemonSet(o: JsonObject): void {
  const spec = objectAt(o.spec);
  if (!spec) return;
  const strategy = ensureObject(spec, 'updateStrategy');
  if (strategy) {
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = ensureObject(strategy, 'rollingUpdate');
      if (rolling) {
        setDefault(rolling, 'maxUnavailable', 1);
        setDefault(rolling, 'maxSurge', 0);
      }
    }
  }
  setDefaultIfAbsent(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

function defaultService(o: JsonObject): void {
  const spec = objectAt(o.spec);
  if (!spec) return;
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  eachObject(spec.ports, (p) => {
    setDefault(p, 'protocol', 'TCP');
    if (isUnset(p.targetPort) || p.targetPort === 0) {
      if (p.port !== undefined) p.targetPort = p.port;
    }
  });
}

function defaultEndpoints(o: JsonObject): void {
  eachObject(o.subsets, (s) => eachObject(s.ports, (p) => setDefault(p, 'protocol', 'TCP')));
}

/** Secret: type Opaque; `stringData` is a write-only convenience merged into `data` (base64), as in Kubernetes. */
function defaultSecret(o: JsonObject): void {
  setDefault(o, 'type', 'Opaque');
  const stringData = objectAt(o.stringData);
  if (stringData === undefined) return;
  const data = ensureObject(o, 'data');
  if (data === undefined) return; // data of the wrong type: reported by the schema check
  for (const [k, v] of Object.entries(stringData)) {
    if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  }
  delete o.stringData;
}

function defaultNamespace(o: JsonObject): void {
  const status = ensureObject(o, 'status');
  if (status) setDefault(status, 'phase', 'Active');
}

function defaultPod(o: JsonObject): void {
  const spec = objectAt(o.spec);
  if (spec) defaultPodSpec(spec);
}

const DEFAULTERS: Readonly<Record<string, (o: JsonObject) => void>> = {
  Pod: defaultPod,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  DaemonSet: defaultDaemonSet,
  Service: defaultService,
  Endpoints: defaultEndpoints,
  Secret: defaultSecret,
  Namespace: defaultNamespace,
};

/** Applies the kind's defaults in place (to a copy the caller owns). */
export function applyDefaults(kind: string, o: JsonObject): void {
  DEFAULTERS[kind]?.(o);
}

/** A defaulted deep copy of `object` (nulls dropped as Kubernetes does); the input is not changed. */
export function defaultObject(info: Pick<ResourceInfo, 'kind'>, object: KObject): KObject {
  const copy = copyWithoutNulls(object);
  applyDefaults(info.kind, copy);
  return copy;
}
