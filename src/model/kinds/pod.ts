// Pod (core/v1) and the pod template that Deployments, ReplicaSets and DaemonSets embed.
// Every PodSpec and Container field of Kubernetes appears here: supported ones with their type,
// the rest as notImplemented so they are refused with a reason instead of being unknown.
import { checkDns1123Label, checkDns1123Subdomain, checkIanaSvcName, checkLabelValue, checkQualifiedName } from '../names.ts';
import { checkIP } from '../addresses.ts';
import {
  any,
  arr,
  bool,
  enumOf,
  inert,
  int,
  intOrString,
  map,
  notImplemented,
  obj,
  quantity,
  required,
  str,
  stringList,
  type ObjectSchema,
  type Schema,
} from '../schema.ts';
import { condition, labelMap, labelSelector, localObjectReference, objectMeta, timestamp, topLevel } from './meta.ts';

export const PORT = { min: 1, max: 65535 } as const;

/** A port given as a number (1–65535) or as the name of a container port (IANA_SVC_NAME). */
export function checkPortNumberOrName(value: number | string): string | null {
  if (typeof value === 'number') return value >= 1 && value <= 65535 ? null : 'must be between 1 and 65535, inclusive';
  return checkIanaSvcName(value);
}

export const PROTOCOLS = ['TCP', 'UDP'] as const;
export const protocol = (): Schema => enumOf(PROTOCOLS, { notImplemented: { SCTP: 'bramble does not support SCTP; supported values: "TCP", "UDP"' } });

/** File modes in volumes: 0–0777, written in JSON as decimal (0644 is 420). */
const fileMode = (): Schema => int({ min: 0, max: 0o777 });

// Resource names bramble accounts for; extended resources and hugepages are refused in the rules
// (they are map keys, not fields).
export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
const resourceList = (): Schema => map(quantity());

const execAction = obj({ command: stringList() });
const httpGetAction = obj({
  path: str(),
  port: required(intOrString({ check: checkPortNumberOrName })),
  host: str(),
  scheme: enumOf(['HTTP', 'HTTPS']),
  httpHeaders: arr(obj({ name: required(str()), value: str() })),
});
const tcpSocketAction = obj({ port: required(intOrString({ check: checkPortNumberOrName })), host: str() });

const probe = obj({
  exec: execAction,
  httpGet: httpGetAction,
  tcpSocket: tcpSocketAction,
  grpc: notImplemented('use exec, httpGet or tcpSocket probes'),
  initialDelaySeconds: int({ min: 0 }),
  timeoutSeconds: int({ min: 0 }),
  periodSeconds: int({ min: 0 }),
  successThreshold: int({ min: 0 }),
  failureThreshold: int({ min: 0 }),
  terminationGracePeriodSeconds: notImplemented('probe-level grace periods are not implemented; use the pod\'s terminationGracePeriodSeconds'),
});

const capabilities = obj({ add: stringList(), drop: stringList() });

const containerSecurityContext = obj({
  privileged: bool(),
  runAsUser: int({ int64: true, min: 0 }),
  runAsGroup: int({ int64: true, min: 0 }),
  runAsNonRoot: bool(),
  readOnlyRootFilesystem: bool(),
  capabilities,
  allowPrivilegeEscalation: bool(),
  seLinuxOptions: notImplemented('SELinux labels are not implemented'),
  windowsOptions: notImplemented('bramble runs Linux containers only'),
  procMount: notImplemented(undefined, { harmless: ['Default'] }),
  seccompProfile: notImplemented('seccomp profiles are not implemented; containerd\'s default profile applies'),
  appArmorProfile: notImplemented('AppArmor profiles are not implemented'),
});

const keySelector = obj({ name: str(), key: required(str()), optional: bool() });

const envVar = obj({
  name: required(str()),
  value: str(),
  valueFrom: obj({
    configMapKeyRef: keySelector,
    secretKeyRef: keySelector,
    fieldRef: obj({ apiVersion: str(), fieldPath: required(str()) }),
    resourceFieldRef: obj({ containerName: str(), resource: required(str()), divisor: quantity({ nonNegative: true }) }),
    fileKeyRef: notImplemented('use configMapKeyRef or secretKeyRef'),
  }),
});

const envFromSource = obj({
  prefix: str(),
  configMapRef: obj({ name: str(), optional: bool() }),
  secretRef: obj({ name: str(), optional: bool() }),
});

const containerPort = obj({
  name: str({ check: checkIanaSvcName }),
  containerPort: required(int(PORT)),
  hostPort: int({ min: 0, max: 65535 }),
  protocol: protocol(),
  hostIP: notImplemented('a hostPort is bound on all of the gateway\'s addresses'),
});

const volumeMount = obj({
  name: required(str()),
  mountPath: required(str()),
  readOnly: bool(),
  subPath: str(),
  recursiveReadOnly: notImplemented(undefined, { harmless: ['Disabled'] }),
  mountPropagation: notImplemented('mounts are private', { harmless: ['None'] }),
  subPathExpr: notImplemented('use subPath'),
});

const CONTAINER_FIELDS: Record<string, Schema> = {
  name: required(str({ check: checkDns1123Label })),
  image: str(),
  command: stringList(),
  args: stringList(),
  workingDir: str(),
  ports: arr(containerPort),
  env: arr(envVar),
  envFrom: arr(envFromSource),
  resources: obj({
    requests: resourceList(),
    limits: resourceList(),
    claims: notImplemented('dynamic resource allocation is not implemented'),
  }),
  volumeMounts: arr(volumeMount),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  imagePullPolicy: enumOf(['Always', 'IfNotPresent', 'Never']),
  stdin: bool(),
  stdinOnce: inert(bool(), 'stored; not interpreted by the object model'),
  tty: bool(),
  securityContext: containerSecurityContext,
  terminationMessagePath: str(),
  terminationMessagePolicy: enumOf(['File', 'FallbackToLogsOnError']),
  lifecycle: notImplemented('postStart and preStop hooks are not implemented'),
  volumeDevices: notImplemented('raw block devices are not implemented'),
  resizePolicy: notImplemented('in-place resize is not implemented'),
  restartPolicy: notImplemented('sidecar containers (container-level restartPolicy) are not implemented'),
};

export const container: ObjectSchema = obj(CONTAINER_FIELDS);

const keyToPath = obj({ key: required(str()), path: required(str()), mode: fileMode() });

// Volume sources bramble provides; every other Kubernetes source is named so it is refused
// with a reason instead of reported as a typo.
const UNSUPPORTED_VOLUME_SOURCES = [
  'persistentVolumeClaim',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
] as const;

export const SUPPORTED_VOLUME_SOURCES = ['emptyDir', 'hostPath', 'configMap', 'secret'] as const;
export const VOLUME_SOURCES: readonly string[] = [...SUPPORTED_VOLUME_SOURCES, ...UNSUPPORTED_VOLUME_SOURCES];

const volume = obj({
  name: required(str({ check: checkDns1123Label })),
  emptyDir: obj({
    medium: enumOf(['Memory'], { notImplemented: { HugePages: 'bramble does not support hugepages' } }),
    sizeLimit: quantity({ nonNegative: true }),
  }),
  hostPath: obj({
    path: required(str()),
    type: enumOf(['DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']),
  }),
  configMap: obj({ name: str(), items: arr(keyToPath), defaultMode: fileMode(), optional: bool() }),
  secret: obj({ secretName: str(), items: arr(keyToPath), defaultMode: fileMode(), optional: bool() }),
  ...Object.fromEntries(
    UNSUPPORTED_VOLUME_SOURCES.map((s) => [s, notImplemented('supported volume types: emptyDir, hostPath, configMap, secret', { strict: true })]),
  ),
});

const toleration = obj({
  key: str({ check: checkQualifiedName }),
  operator: enumOf(['Exists', 'Equal']),
  value: str({ check: checkLabelValue }),
  effect: enumOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  tolerationSeconds: int({ int64: true }),
});

const podSecurityContext = obj({
  runAsUser: int({ int64: true, min: 0 }),
  runAsGroup: int({ int64: true, min: 0 }),
  runAsNonRoot: bool(),
  fsGroup: int({ int64: true, min: 0 }),
  supplementalGroups: notImplemented('use runAsGroup or fsGroup'),
  supplementalGroupsPolicy: notImplemented(),
  fsGroupChangePolicy: notImplemented(),
  sysctls: notImplemented('sysctls are not implemented'),
  seLinuxOptions: notImplemented('SELinux labels are not implemented'),
  seLinuxChangePolicy: notImplemented(),
  windowsOptions: notImplemented('bramble runs Linux containers only'),
  seccompProfile: notImplemented('seccomp profiles are not implemented; containerd\'s default profile applies'),
  appArmorProfile: notImplemented('AppArmor profiles are not implemented'),
});

// ---- scheduling constraints ----------------------------------------------------------------------
// What bramble's scheduler (src/scheduler/facts.ts) reads, with Kubernetes' shapes. The rules
// that relate fields (values per operator, matchLabelKeys against the selector, one constraint per
// topologyKey and whenUnsatisfiable) are in src/model/rules/pod.ts. Sub-fields the scheduler
// would ignore are refused, so a pod never looks constrained when it is not.

export const NODE_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;
/** The node fields a matchFields requirement may name: the scheduler knows only the name. */
export const NODE_FIELD_SELECTOR_KEYS = ['metadata.name'] as const;

const nodeSelectorRequirement = obj({
  key: required(str({ check: checkQualifiedName })),
  operator: required(enumOf(NODE_SELECTOR_OPERATORS)),
  values: stringList(),
});

const nodeFieldSelectorRequirement = obj({
  key: required(enumOf(NODE_FIELD_SELECTOR_KEYS)),
  operator: required(enumOf(['In', 'NotIn'])),
  values: stringList(),
});

const nodeSelectorTerm = obj({ matchExpressions: arr(nodeSelectorRequirement), matchFields: arr(nodeFieldSelectorRequirement) });

/** Kubernetes' weight of a preferred term: 1–100. */
const WEIGHT = { min: 1, max: 100 } as const;

const nodeAffinity = obj({
  requiredDuringSchedulingIgnoredDuringExecution: obj({ nodeSelectorTerms: required(arr(nodeSelectorTerm)) }),
  preferredDuringSchedulingIgnoredDuringExecution: arr(obj({ weight: required(int(WEIGHT)), preference: required(nodeSelectorTerm) })),
});

const podAffinityTerm = obj({
  labelSelector,
  namespaces: stringList({}, { check: checkDns1123Label }),
  // {} selects every namespace and needs nothing more; terms would need the namespaces' labels.
  namespaceSelector: notImplemented(
    "bramble's scheduler does not read namespace labels; list the namespaces in `namespaces`, or give `namespaceSelector: {}` for every namespace",
  ),
  topologyKey: required(str({ check: checkQualifiedName })),
  matchLabelKeys: stringList({}, { check: checkQualifiedName }),
  mismatchLabelKeys: notImplemented("bramble's scheduler does not apply mismatchLabelKeys; state the labels in `labelSelector`"),
});

const podAffinity = obj({
  requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: arr(obj({ weight: required(int(WEIGHT)), podAffinityTerm: required(podAffinityTerm) })),
});

export const affinity: ObjectSchema = obj({ nodeAffinity, podAffinity, podAntiAffinity: podAffinity });

export const WHEN_UNSATISFIABLE = ['DoNotSchedule', 'ScheduleAnyway'] as const;

const topologySpreadConstraint = obj({
  maxSkew: required(int({ min: 1 })),
  topologyKey: required(str({ check: checkQualifiedName })),
  whenUnsatisfiable: required(enumOf(WHEN_UNSATISFIABLE)),
  labelSelector,
  minDomains: int({ min: 1 }),
  matchLabelKeys: stringList({}, { check: checkQualifiedName }),
  // The scheduler counts the nodes the pod's nodeSelector and node affinity allow, whatever
  // their taints: Kubernetes' defaults, and the only policies it has.
  nodeAffinityPolicy: enumOf(['Honor'], {
    notImplemented: { Ignore: "bramble's scheduler always counts only the nodes that match the pod's nodeSelector and node affinity (Honor)" },
  }),
  nodeTaintsPolicy: enumOf(['Ignore'], {
    notImplemented: { Honor: "bramble's scheduler counts nodes whatever their taints (Ignore)" },
  }),
});

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;

export const podSpec: ObjectSchema = obj({
  containers: required(arr(container)),
  initContainers: arr(container),
  volumes: arr(volume),
  restartPolicy: enumOf(RESTART_POLICIES),
  terminationGracePeriodSeconds: int({ int64: true, min: 0 }),
  activeDeadlineSeconds: int({ int64: true, min: 1 }),
  dnsPolicy: enumOf(DNS_POLICIES),
  dnsConfig: obj({
    nameservers: stringList({}, { check: checkIP }),
    searches: stringList(),
    options: arr(obj({ name: required(str()), value: str() })),
  }),
  nodeSelector: labelMap(),
  nodeName: str({ check: checkDns1123Subdomain }),
  hostNetwork: bool(),
  hostname: str({ check: checkDns1123Label }),
  subdomain: str({ check: checkDns1123Label }),
  shareProcessNamespace: bool(),
  securityContext: podSecurityContext,
  hostAliases: arr(obj({ ip: required(str({ check: checkIP })), hostnames: stringList() })),
  serviceAccountName: inert(str(), 'bramble has no service accounts or in-cluster API credentials'),
  serviceAccount: inert(str(), 'deprecated alias of serviceAccountName; bramble has no service accounts'),
  automountServiceAccountToken: inert(bool(), 'bramble has no service accounts'),
  tolerations: inert(arr(toleration), 'stored; not interpreted by the object model'),
  imagePullSecrets: inert(arr(localObjectReference), 'stored; not interpreted by the object model'),
  enableServiceLinks: inert(bool(), 'stored; not interpreted by the object model'),
  // Pods naming another scheduler are left to it, as in Kubernetes (src/scheduler/runner.ts).
  schedulerName: str({ check: checkDns1123Subdomain }),
  hostPID: notImplemented('containers cannot share the gateway\'s PID namespace'),
  hostIPC: notImplemented('containers cannot share the gateway\'s IPC namespace'),
  hostUsers: notImplemented('user namespaces are not implemented', { harmless: [true] }),
  affinity,
  priorityClassName: notImplemented('pod priority and preemption are not implemented'),
  priority: notImplemented('pod priority and preemption are not implemented', { harmless: [0] }),
  preemptionPolicy: notImplemented('pod priority and preemption are not implemented', { harmless: ['PreemptLowerPriority'] }),
  readinessGates: notImplemented('pod readiness gates are not implemented'),
  runtimeClassName: notImplemented('bramble has one container runtime'),
  overhead: notImplemented(),
  topologySpreadConstraints: arr(topologySpreadConstraint),
  setHostnameAsFQDN: notImplemented(),
  os: notImplemented('bramble runs Linux containers only'),
  schedulingGates: notImplemented(),
  resourceClaims: notImplemented('dynamic resource allocation is not implemented'),
  resources: notImplemented('pod-level resources are not implemented; set them per container'),
  ephemeralContainers: notImplemented('ephemeral debug containers are not implemented'),
  hostnameOverride: notImplemented('use hostname'),
});

export const podTemplateSpec: ObjectSchema = obj({ metadata: objectMeta, spec: podSpec });

const podStatus = obj(
  {
    phase: enumOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
    conditions: arr(condition),
    message: str(),
    reason: str(),
    hostIP: str(),
    hostIPs: any(),
    podIP: str(),
    podIPs: any(),
    startTime: timestamp(),
    containerStatuses: any(),
    initContainerStatuses: any(),
    qosClass: str(),
  },
  { open: true },
);

export const podSchema: ObjectSchema = topLevel({ spec: podSpec, status: podStatus });
