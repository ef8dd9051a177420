// The scheduling fields of a pod spec (issue 6): affinity, topologySpreadConstraints and
// schedulerName are accepted in the shapes the scheduler reads, checked as Kubernetes checks
// them, refused as not supported where the scheduler would ignore a sub-field, and frozen on
// update like the rest of a Pod's spec. The documentation manifests are kept verbatim.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fieldNotes, validateObject, validateUpdate, type CauseType, type FieldCause, type KObject } from '../../src/model/index.ts';
import { startTestApi, type TestApi } from '../api/resource-helpers.ts';
import { clone, info, yaml } from './fixtures.ts';

// Manifests are mutated freely, so they are typed loosely here.
type Manifest = Record<string, any>;

// concepts/scheduling-eviction/assign-pod-node (pods/pod-with-node-affinity.yaml)
const NODE_AFFINITY_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: with-node-affinity
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: topology.kubernetes.io/zone
            operator: In
            values:
            - antarctica-east1
            - antarctica-west1
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 1
        preference:
          matchExpressions:
          - key: another-node-label-key
            operator: In
            values:
            - another-node-label-value
  containers:
  - name: with-node-affinity
    image: registry.k8s.io/pause:3.8
`;

// concepts/scheduling-eviction/assign-pod-node (pods/pod-with-pod-affinity.yaml)
const POD_AFFINITY_POD = `
apiVersion: v1
kind: Pod
metadata:
  name: with-pod-affinity
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchExpressions:
          - key: security
            operator: In
            values:
            - S1
        topologyKey: topology.kubernetes.io/zone
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          labelSelector:
            matchExpressions:
            - key: security
              operator: In
              values:
              - S2
          topologyKey: topology.kubernetes.io/zone
  containers:
  - name: with-pod-affinity
    image: registry.k8s.io/pause:3.8
`;

// concepts/scheduling-eviction/assign-pod-node ("more practical use-cases": the web-store
// Deployment, beside its redis cache and one per host).
const WEB_STORE_DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-server
spec:
  selector:
    matchLabels:
      app: web-store
  replicas: 3
  template:
    metadata:
      labels:
        app: web-store
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchExpressions:
              - key: app
                operator: In
                values:
                - web-store
            topologyKey: "kubernetes.io/hostname"
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchExpressions:
              - key: app
                operator: In
                values:
                - store
            topologyKey: "kubernetes.io/hostname"
      containers:
      - name: web-app
        image: nginx:1.16-alpine
`;

// A Deployment spread over zones and kept one per zone where it can, as the topology spread
// page shows it (matchLabelKeys with pod-template-hash), with preferred zone anti-affinity.
const ZONE_SPREAD_DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mydeployment
spec:
  replicas: 3
  selector:
    matchLabels:
      app: foo
  template:
    metadata:
      labels:
        app: foo
    spec:
      # Configure a topology spread constraint
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels:
              app: foo
          matchLabelKeys:
            - pod-template-hash
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: foo
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector:
                matchLabels:
                  app: foo
              topologyKey: topology.kubernetes.io/zone
      containers:
      - name: pause
        image: registry.k8s.io/pause:3.1
`;

// concepts/scheduling-eviction/topology-spread-constraints (pods/topology-spread-constraints/two-constraints.yaml)
const TWO_CONSTRAINTS_POD = `
kind: Pod
apiVersion: v1
metadata:
  name: mypod
  labels:
    foo: bar
spec:
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector:
      matchLabels:
        foo: bar
  - maxSkew: 1
    topologyKey: node
    whenUnsatisfiable: DoNotSchedule
    labelSelector:
      matchLabels:
        foo: bar
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.1
`;

/** A plain pod to hang one scheduling field on. */
function plainPod(): Manifest {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

function describeCauses(causes: readonly FieldCause[]): string {
  return causes.map((c) => `  ${c.reason} ${c.field}: ${c.message}`).join('\n');
}

function accepted(kind: string, manifest: unknown): KObject {
  const result = validateObject(info(kind), manifest);
  assert.ok(result.ok, result.ok ? '' : `expected ${kind} to be accepted; got:\n${describeCauses(result.causes)}`);
  return result.object;
}

const REQ_NODE = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution';
const PREF_NODE = 'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution';
const REQ_POD = 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution';
const PREF_ANTI = 'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution';
const TSC = 'spec.topologySpreadConstraints';

const nodeTerms = (...matchExpressions: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } });
const fieldTerms = (...matchFields: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields }] } } });
const podTerm = (extra: Record<string, unknown> = {}) => ({ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone', ...extra });
const requiredPodAffinity = (term: unknown) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } });
const spread = (extra: Record<string, unknown> = {}) => ({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra });

describe('scheduling fields accepted', () => {
  test('the node affinity example of the Kubernetes documentation', () => {
    const stored = accepted('Pod', yaml(NODE_AFFINITY_POD)) as Manifest;
    assert.deepEqual(stored.spec.affinity, (yaml(NODE_AFFINITY_POD) as Manifest).spec.affinity, 'stored as sent');
  });

  test('the pod affinity and anti-affinity example', () => {
    accepted('Pod', yaml(POD_AFFINITY_POD));
  });

  test('the web-store Deployment (one per host, beside the cache)', () => {
    accepted('Deployment', yaml(WEB_STORE_DEPLOYMENT));
  });

  test('a Deployment spread over zones with zone anti-affinity, and the ReplicaSet and DaemonSet forms of its template', () => {
    const d = yaml(ZONE_SPREAD_DEPLOYMENT) as Manifest;
    const stored = accepted('Deployment', d) as Manifest;
    assert.deepEqual(stored.spec.template.spec.topologySpreadConstraints, d.spec.template.spec.topologySpreadConstraints);
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { selector: d.spec.selector, template: d.spec.template } };
    accepted('ReplicaSet', rs);
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector: d.spec.selector, template: d.spec.template } };
    accepted('DaemonSet', ds);
  });

  test('the two-constraints example of the topology spread page', () => {
    accepted('Pod', yaml(TWO_CONSTRAINTS_POD));
  });

  test('minDomains with DoNotSchedule, and the node inclusion policies the scheduler applies', () => {
    const p = plainPod();
    p.spec.topologySpreadConstraints = [spread({ minDomains: 3, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' })];
    accepted('Pod', p);
  });

  test('every node selector operator, Gt/Lt with an integer, and matchFields on metadata.name', () => {
    const p = plainPod();
    p.spec.affinity = nodeTerms(
      { key: 'disktype', operator: 'In', values: ['ssd'] },
      { key: 'disktype', operator: 'NotIn', values: ['hdd'] },
      { key: 'gpu', operator: 'Exists' },
      { key: 'example.com/legacy', operator: 'DoesNotExist', values: [] },
      { key: 'cores', operator: 'Gt', values: ['3'] },
      { key: 'temperature', operator: 'Lt', values: ['-5'] },
    );
    accepted('Pod', p);
    p.spec.affinity = fieldTerms({ key: 'metadata.name', operator: 'In', values: ['gw-1'] }, { key: 'metadata.name', operator: 'NotIn', values: ['gw-2'] });
    accepted('Pod', p);
  });

  test('an empty term, an empty affinity and empty node affinity are accepted (they constrain nothing)', () => {
    for (const affinity of [{}, { nodeAffinity: {} }, { podAffinity: {}, podAntiAffinity: {} }, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } }]) {
      const p = plainPod();
      p.spec.affinity = affinity;
      accepted('Pod', p);
    }
  });

  test('pod affinity terms with namespaces, an empty namespaceSelector (every namespace) and matchLabelKeys', () => {
    const p = plainPod();
    p.spec.affinity = {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [podTerm({ namespaces: ['default', 'cache'] }), podTerm({ namespaceSelector: {} })] },
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: podTerm({ matchLabelKeys: ['pod-template-hash'], mismatchLabelKeys: [] }) }] },
    };
    accepted('Pod', p);
  });

  test('schedulerName: the default one and any other DNS subdomain', () => {
    for (const name of ['default-scheduler', 'my-scheduler', 'batch.example.com']) {
      const p = plainPod();
      p.spec.schedulerName = name;
      const stored = accepted('Pod', p) as Manifest;
      assert.equal(stored.spec.schedulerName, name);
    }
  });

  test('the notes no longer list affinity, spread constraints or schedulerName as refused, but do list the refused sub-fields', () => {
    const refused = fieldNotes('Pod').filter((n) => n.kind === 'notImplemented').map((n) => n.path);
    for (const path of ['spec.affinity', 'spec.topologySpreadConstraints', 'spec.schedulerName']) assert.ok(!refused.includes(path), path);
    for (const which of ['podAffinity', 'podAntiAffinity']) {
      assert.ok(refused.includes(`spec.affinity.${which}.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector`), which);
      assert.ok(refused.includes(`spec.affinity.${which}.preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm.mismatchLabelKeys`), which);
    }
    assert.ok(refused.includes('spec.topologySpreadConstraints[].nodeAffinityPolicy=Ignore'));
    assert.ok(refused.includes('spec.topologySpreadConstraints[].nodeTaintsPolicy=Honor'));
  });
});

interface Case {
  name: string;
  change: (spec: Manifest) => void;
  field: string;
  reason: CauseType;
  message?: RegExp | string;
}

// One broken thing per case, refused with exactly one cause naming the exact field.
const INVALID: Case[] = [
  // ---- node affinity ----------------------------------------------------------------------------
  { name: 'In without values', change: (s) => { s.affinity = nodeTerms({ key: 'zone', operator: 'In' }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueRequired', message: "Required value: must be specified when `operator` is 'In' or 'NotIn'" },
  { name: 'NotIn with an empty list', change: (s) => { s.affinity = nodeTerms({ key: 'zone', operator: 'NotIn', values: [] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueRequired' },
  { name: 'Exists with values', change: (s) => { s.affinity = nodeTerms({ key: 'gpu', operator: 'Exists', values: ['yes'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueForbidden', message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" },
  { name: 'DoesNotExist with values', change: (s) => { s.affinity = nodeTerms({ key: 'gpu', operator: 'DoesNotExist', values: ['no'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueForbidden' },
  { name: 'Gt with two values', change: (s) => { s.affinity = nodeTerms({ key: 'cores', operator: 'Gt', values: ['1', '2'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueRequired', message: /single value when `operator` is 'Lt' or 'Gt'/ },
  { name: 'Lt without a value', change: (s) => { s.affinity = nodeTerms({ key: 'cores', operator: 'Lt' }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`, reason: 'FieldValueRequired' },
  { name: 'Gt with a value that is not an integer', change: (s) => { s.affinity = nodeTerms({ key: 'cores', operator: 'Gt', values: ['2.5'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values[0]`, reason: 'FieldValueInvalid', message: 'Invalid value: "2.5": must be an integer' },
  { name: 'an unknown operator', change: (s) => { s.affinity = nodeTerms({ key: 'zone', operator: 'Equals', values: ['a'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].operator`, reason: 'FieldValueNotSupported', message: 'Unsupported value: "Equals": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"' },
  { name: 'a requirement without a key', change: (s) => { s.affinity = nodeTerms({ operator: 'Exists' }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].key`, reason: 'FieldValueRequired' },
  { name: 'a key that is not a label key', change: (s) => { s.affinity = nodeTerms({ key: 'bad key', operator: 'Exists' }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].key`, reason: 'FieldValueInvalid', message: /name part must consist/ },
  { name: 'required node affinity without terms', change: (s) => { s.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } }; }, field: `${REQ_NODE}.nodeSelectorTerms`, reason: 'FieldValueRequired' },
  { name: 'a matchFields key other than metadata.name', change: (s) => { s.affinity = fieldTerms({ key: 'metadata.uid', operator: 'In', values: ['x'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchFields[0].key`, reason: 'FieldValueNotSupported', message: 'Unsupported value: "metadata.uid": supported values: "metadata.name"' },
  { name: 'a matchFields operator other than In/NotIn', change: (s) => { s.affinity = fieldTerms({ key: 'metadata.name', operator: 'Exists' }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchFields[0].operator`, reason: 'FieldValueNotSupported' },
  { name: 'matchFields In with two names', change: (s) => { s.affinity = fieldTerms({ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchFields[0].values`, reason: 'FieldValueRequired', message: /must be only one value when `operator` is 'In' or 'NotIn' for node field selector/ },
  { name: 'matchFields with a name that is no node name', change: (s) => { s.affinity = fieldTerms({ key: 'metadata.name', operator: 'In', values: ['GW_1'] }); }, field: `${REQ_NODE}.nodeSelectorTerms[0].matchFields[0].values[0]`, reason: 'FieldValueInvalid', message: /RFC 1123 subdomain/ },
  { name: 'a preferred node term with weight 0', change: (s) => { s.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } }] } }; }, field: `${PREF_NODE}[0].weight`, reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 100, inclusive' },
  { name: 'a preferred node term with weight 101', change: (s) => { s.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 101, preference: {} }] } }; }, field: `${PREF_NODE}[0].weight`, reason: 'FieldValueInvalid' },
  { name: 'a preferred node term without a preference', change: (s) => { s.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5 }] } }; }, field: `${PREF_NODE}[0].preference`, reason: 'FieldValueRequired' },
  { name: 'a bad requirement inside a preference', change: (s) => { s.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: 'a', operator: 'Lt', values: ['ten'] }] } }] } }; }, field: `${PREF_NODE}[0].preference.matchExpressions[0].values[0]`, reason: 'FieldValueInvalid' },
  { name: 'a typo in node affinity', change: (s) => { s.affinity = { nodeAffinity: { requiredDuringScheduling: {} } }; }, field: 'spec.affinity.nodeAffinity.requiredDuringScheduling', reason: 'FieldValueUnknown' },

  // ---- pod affinity and anti-affinity ------------------------------------------------------------
  { name: 'a pod affinity term without topologyKey', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ topologyKey: '' })); }, field: `${REQ_POD}[0].topologyKey`, reason: 'FieldValueRequired' },
  { name: 'a topologyKey that is not a label key', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ topologyKey: 'zone/a/b' })); }, field: `${REQ_POD}[0].topologyKey`, reason: 'FieldValueInvalid' },
  { name: 'a namespace that is not a DNS label', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ namespaces: ['Team.A'] })); }, field: `${REQ_POD}[0].namespaces[0]`, reason: 'FieldValueInvalid', message: /RFC 1123 label/ },
  { name: 'a selector In without values', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })); }, field: `${REQ_POD}[0].labelSelector.matchExpressions[0].values`, reason: 'FieldValueRequired' },
  { name: 'a selector with a Gt operator (node selectors only)', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ labelSelector: { matchExpressions: [{ key: 'n', operator: 'Gt', values: ['1'] }] } })); }, field: `${REQ_POD}[0].labelSelector.matchExpressions[0].operator`, reason: 'FieldValueNotSupported' },
  { name: 'matchLabelKeys without a labelSelector', change: (s) => { s.affinity = requiredPodAffinity({ topologyKey: 'zone', matchLabelKeys: ['app'] }); }, field: `${REQ_POD}[0].matchLabelKeys`, reason: 'FieldValueForbidden', message: 'Forbidden: must not be specified when labelSelector is not set' },
  { name: 'a matchLabelKeys key already in the selector', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ matchLabelKeys: ['version', 'app'] })); }, field: `${REQ_POD}[0].matchLabelKeys[1]`, reason: 'FieldValueInvalid', message: 'Invalid value: "app": exists in both matchLabelKeys and labelSelector' },
  { name: 'a matchLabelKeys key that is not a label key', change: (s) => { s.affinity = requiredPodAffinity(podTerm({ matchLabelKeys: ['-bad'] })); }, field: `${REQ_POD}[0].matchLabelKeys[0]`, reason: 'FieldValueInvalid' },
  { name: 'a preferred pod term with weight 0', change: (s) => { s.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: podTerm() }] } }; }, field: `${PREF_ANTI}[0].weight`, reason: 'FieldValueInvalid' },
  { name: 'a preferred pod term without weight', change: (s) => { s.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: podTerm() }] } }; }, field: `${PREF_ANTI}[0].weight`, reason: 'FieldValueRequired' },
  { name: 'a preferred pod term without its term', change: (s) => { s.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10 }] } }; }, field: `${PREF_ANTI}[0].podAffinityTerm`, reason: 'FieldValueRequired' },
  { name: 'a preferred pod term without topologyKey', change: (s) => { s.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: podTerm({ topologyKey: undefined }) }] } }; }, field: `${PREF_ANTI}[0].podAffinityTerm.topologyKey`, reason: 'FieldValueRequired' },
  { name: 'anti-affinity terms as an object', change: (s) => { s.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: podTerm() } }; }, field: 'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution', reason: 'FieldValueTypeInvalid', message: 'expected an array, got an object' },

  // ---- topology spread constraints ---------------------------------------------------------------
  { name: 'maxSkew 0', change: (s) => { s.topologySpreadConstraints = [spread({ maxSkew: 0 })]; }, field: `${TSC}[0].maxSkew`, reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than or equal to 1' },
  { name: 'no maxSkew', change: (s) => { s.topologySpreadConstraints = [spread({ maxSkew: undefined })]; }, field: `${TSC}[0].maxSkew`, reason: 'FieldValueRequired' },
  { name: 'no topologyKey', change: (s) => { s.topologySpreadConstraints = [spread({ topologyKey: '' })]; }, field: `${TSC}[0].topologyKey`, reason: 'FieldValueRequired' },
  { name: 'no whenUnsatisfiable', change: (s) => { s.topologySpreadConstraints = [spread({ whenUnsatisfiable: undefined })]; }, field: `${TSC}[0].whenUnsatisfiable`, reason: 'FieldValueRequired' },
  { name: 'an unknown whenUnsatisfiable', change: (s) => { s.topologySpreadConstraints = [spread({ whenUnsatisfiable: 'TryHarder' })]; }, field: `${TSC}[0].whenUnsatisfiable`, reason: 'FieldValueNotSupported', message: 'Unsupported value: "TryHarder": supported values: "DoNotSchedule", "ScheduleAnyway"' },
  { name: 'minDomains 0', change: (s) => { s.topologySpreadConstraints = [spread({ minDomains: 0 })]; }, field: `${TSC}[0].minDomains`, reason: 'FieldValueInvalid' },
  { name: 'minDomains with ScheduleAnyway', change: (s) => { s.topologySpreadConstraints = [spread({ minDomains: 2, whenUnsatisfiable: 'ScheduleAnyway' })]; }, field: `${TSC}[0].minDomains`, reason: 'FieldValueInvalid', message: 'Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway' },
  {
    name: 'two constraints on one topologyKey and action',
    change: (s) => { s.topologySpreadConstraints = [spread(), spread({ topologyKey: 'kubernetes.io/hostname' }), spread({ maxSkew: 2 })]; },
    field: `${TSC}[0].{topologyKey, whenUnsatisfiable}`, reason: 'FieldValueDuplicate', message: 'Duplicate value: "{topology.kubernetes.io/zone, DoNotSchedule}"',
  },
  { name: 'a spread selector with Exists and values', change: (s) => { s.topologySpreadConstraints = [spread({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } })]; }, field: `${TSC}[0].labelSelector.matchExpressions[0].values`, reason: 'FieldValueForbidden' },
  { name: 'spread matchLabelKeys without a labelSelector', change: (s) => { s.topologySpreadConstraints = [spread({ labelSelector: undefined, matchLabelKeys: ['pod-template-hash'] })]; }, field: `${TSC}[0].matchLabelKeys`, reason: 'FieldValueForbidden' },
  { name: 'a spread matchLabelKeys key already in the selector', change: (s) => { s.topologySpreadConstraints = [spread({ matchLabelKeys: ['app'] })]; }, field: `${TSC}[0].matchLabelKeys[0]`, reason: 'FieldValueInvalid', message: /exists in both matchLabelKeys and labelSelector/ },
  { name: 'an unknown nodeAffinityPolicy', change: (s) => { s.topologySpreadConstraints = [spread({ nodeAffinityPolicy: 'Sometimes' })]; }, field: `${TSC}[0].nodeAffinityPolicy`, reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Honor"' },
  { name: 'a typo in a spread constraint', change: (s) => { s.topologySpreadConstraints = [spread({ maxskew: 1 })]; }, field: `${TSC}[0].maxskew`, reason: 'FieldValueUnknown' },

  // ---- schedulerName -----------------------------------------------------------------------------
  { name: 'a schedulerName that is not a DNS subdomain', change: (s) => { s.schedulerName = 'My_Scheduler'; }, field: 'spec.schedulerName', reason: 'FieldValueInvalid', message: /RFC 1123 subdomain/ },
  { name: 'a schedulerName that is not a string', change: (s) => { s.schedulerName = 1; }, field: 'spec.schedulerName', reason: 'FieldValueTypeInvalid' },
];

// Sub-fields Kubernetes has and bramble's scheduler would ignore: refused, never dropped.
const UNSUPPORTED: Case[] = [
  {
    name: 'a namespaceSelector with terms (the scheduler does not watch namespace labels)',
    change: (s) => { s.affinity = requiredPodAffinity(podTerm({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] } })); },
    field: `${REQ_POD}[0].namespaceSelector`, reason: 'FieldValueNotSupported',
    message: "bramble does not support \"namespaceSelector\": bramble's scheduler does not read namespace labels; list the namespaces in `namespaces`, or give `namespaceSelector: {}` for every namespace",
  },
  {
    name: 'mismatchLabelKeys',
    change: (s) => { s.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: podTerm({ mismatchLabelKeys: ['tenant'] }) }] } }; },
    field: `${PREF_ANTI}[0].podAffinityTerm.mismatchLabelKeys`, reason: 'FieldValueNotSupported',
    message: /^bramble does not support "mismatchLabelKeys": bramble's scheduler does not apply mismatchLabelKeys/,
  },
  {
    name: 'nodeAffinityPolicy Ignore',
    change: (s) => { s.topologySpreadConstraints = [spread({ nodeAffinityPolicy: 'Ignore' })]; },
    field: `${TSC}[0].nodeAffinityPolicy`, reason: 'FieldValueNotSupported',
    message: /^Unsupported value: "Ignore": bramble's scheduler always counts only the nodes that match/,
  },
  {
    name: 'nodeTaintsPolicy Honor',
    change: (s) => { s.topologySpreadConstraints = [spread({ nodeTaintsPolicy: 'Honor' })]; },
    field: `${TSC}[0].nodeTaintsPolicy`, reason: 'FieldValueNotSupported',
    message: /^Unsupported value: "Honor": bramble's scheduler counts nodes whatever their taints/,
  },
];

function assertRefused(c: Case, kind: string, manifest: Manifest): void {
  const result = validateObject(info(kind), manifest);
  assert.equal(result.ok, false, `expected a refusal for ${c.name}`);
  if (result.ok) return;
  const found = result.causes.filter((x) => x.field === c.field);
  assert.ok(found.length > 0, `no cause for ${c.field}; got:\n${describeCauses(result.causes)}`);
  assert.ok(found.some((x) => x.reason === c.reason), `expected ${c.reason} for ${c.field}; got:\n${describeCauses(result.causes)}`);
  if (c.message !== undefined) {
    const ok = found.some((x) => (typeof c.message === 'string' ? x.message === c.message : c.message!.test(x.message)));
    assert.ok(ok, `message of ${c.field} does not match ${String(c.message)}; got:\n${describeCauses(found)}`);
  }
  assert.equal(result.causes.length, 1, `expected exactly one cause; got:\n${describeCauses(result.causes)}`);
}

describe('scheduling fields refused', () => {
  for (const c of INVALID) {
    test(c.name, () => {
      const p = plainPod();
      c.change(p.spec);
      assertRefused(c, 'Pod', p);
    });
  }
});

describe('scheduling sub-fields bramble does not support', () => {
  for (const c of UNSUPPORTED) {
    test(c.name, () => {
      const p = plainPod();
      c.change(p.spec);
      assertRefused(c, 'Pod', p);
    });
  }

  test('in a Deployment template the same causes name the template path', () => {
    for (const c of [INVALID[0]!, UNSUPPORTED[0]!]) {
      const d = yaml(ZONE_SPREAD_DEPLOYMENT) as Manifest;
      delete d.spec.template.spec.affinity;
      c.change(d.spec.template.spec);
      assertRefused({ ...c, field: c.field.replace(/^spec\./, 'spec.template.spec.') }, 'Deployment', d);
    }
  });

  test('several problems in one pod are all reported', () => {
    const p = plainPod();
    p.spec.affinity = { ...nodeTerms({ key: 'zone', operator: 'In' }), ...requiredPodAffinity(podTerm({ namespaceSelector: { matchLabels: { a: 'b' } } })) };
    p.spec.topologySpreadConstraints = [spread({ maxSkew: 0, nodeTaintsPolicy: 'Honor' })];
    const result = validateObject(info('Pod'), p);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(result.causes.map((c) => `${c.reason} ${c.field}`).sort(), [
      `FieldValueInvalid ${TSC}[0].maxSkew`,
      `FieldValueNotSupported ${REQ_POD}[0].namespaceSelector`,
      `FieldValueNotSupported ${TSC}[0].nodeTaintsPolicy`,
      `FieldValueRequired ${REQ_NODE}.nodeSelectorTerms[0].matchExpressions[0].values`,
    ]);
  });
});

describe('scheduling fields on update', () => {
  const podInfo = info('Pod');
  const stored = (): KObject => accepted('Pod', yaml(POD_AFFINITY_POD));

  test('affinity, topologySpreadConstraints and schedulerName may not change', () => {
    const changes: [string, (s: Manifest) => void][] = [
      ['affinity', (s) => { s.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey = 'kubernetes.io/hostname'; }],
      ['affinity removed', (s) => { delete s.affinity; }],
      ['topologySpreadConstraints', (s) => { s.topologySpreadConstraints = [spread()]; }],
      ['schedulerName', (s) => { s.schedulerName = 'my-scheduler'; }],
    ];
    for (const [what, change] of changes) {
      const old = stored();
      const next = clone(old) as Manifest;
      change(next.spec);
      const causes = validateUpdate(podInfo, old, accepted('Pod', next));
      assert.deepEqual(causes.map((c) => `${c.reason} ${c.field}`), ['FieldValueForbidden spec'], `${what}: ${describeCauses(causes)}`);
      assert.match(causes[0]!.message, /pod updates may not change fields/);
    }
  });

  test('an update that keeps them (and changes an image) is accepted', () => {
    const old = stored();
    const next = clone(old) as Manifest;
    next.spec.containers[0].image = 'registry.k8s.io/pause:3.9';
    assert.deepEqual(validateUpdate(podInfo, old, accepted('Pod', next)), []);
  });
});

describe('scheduling fields through the resource API', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });
  const PODS = '/api/v1/namespaces/default/pods';

  test('a pod with affinity and spread constraints is created and read back as sent', async () => {
    const body = yaml(TWO_CONSTRAINTS_POD) as Manifest;
    body.spec.affinity = (yaml(NODE_AFFINITY_POD) as Manifest).spec.affinity;
    body.spec.schedulerName = 'edge-scheduler';
    const created = await t.call('POST', PODS, body);
    assert.equal(created.status, 201, created.text);
    const got = await t.call('GET', `${PODS}/mypod`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.spec.topologySpreadConstraints, body.spec.topologySpreadConstraints);
    assert.deepEqual(got.body.spec.affinity, body.spec.affinity);
    assert.equal(got.body.spec.schedulerName, 'edge-scheduler');

    const changed = clone(got.body);
    changed.spec.topologySpreadConstraints[0].maxSkew = 2;
    const replaced = await t.call('PUT', `${PODS}/mypod`, changed);
    assert.equal(replaced.status, 422, replaced.text);
    assert.match(replaced.body.message, /pod updates may not change fields/);
  });

  test('an unsupported sub-field is a 422 naming the field', async () => {
    const body = plainPod();
    body.metadata.name = 'nsel';
    body.spec.affinity = requiredPodAffinity(podTerm({ namespaceSelector: { matchLabels: { team: 'a' } } }));
    const r = await t.call('POST', PODS, body);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.reason, 'Invalid');
    assert.ok(
      r.body.details.causes.some((c: FieldCause) => c.field === `${REQ_POD}[0].namespaceSelector` && c.reason === 'FieldValueNotSupported'),
      JSON.stringify(r.body.details),
    );
  });
});
