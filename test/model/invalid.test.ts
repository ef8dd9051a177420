// One bad manifest per rule: each starts from a valid documentation example, breaks one thing,
// and must be refused with exactly one cause (unless noted) naming the exact field, with the
// expected reason and wording.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateObject, type CauseType, type FieldCause } from '../../src/model/index.ts';
import * as F from './fixtures.ts';
import { info, yaml } from './fixtures.ts';

// Manifests are mutated freely in the table, so they are typed loosely here.
type Manifest = Record<string, any>;

interface Case {
  name: string;
  kind: string;
  base: string;
  change: (o: Manifest) => void;
  field: string;
  reason: CauseType;
  message?: RegExp | string;
  /** Other causes are expected too (the rule is about one of several). */
  more?: boolean;
}

const pod = (o: Manifest) => o.spec;
const c0 = (o: Manifest) => o.spec.containers[0];
const tpl = (o: Manifest) => o.spec.template.spec;
const rule0path0 = (o: Manifest) => o.spec.rules[0].http.paths[0];

const CASES: Case[] = [
  // ---- apiVersion, kind, metadata --------------------------------------------------------------
  {
    name: 'a name that is not a DNS subdomain',
    kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.metadata.name = 'Bad_Name'; },
    field: 'metadata.name', reason: 'FieldValueInvalid',
    message: `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
  },
  { name: 'no name and no generateName', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete o.metadata.name; }, field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' },
  { name: 'a bad generateName', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete o.metadata.name; o.metadata.generateName = 'Web-'; }, field: 'metadata.generateName', reason: 'FieldValueInvalid' },
  { name: 'a Namespace name with a dot (DNS label)', kind: 'Namespace', base: F.NAMESPACE, change: (o) => { o.metadata.name = 'my.ns'; }, field: 'metadata.name', reason: 'FieldValueInvalid', message: /RFC 1123 label/ },
  { name: 'a Service name starting with a digit (DNS-1035)', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.metadata.name = '1web'; }, field: 'metadata.name', reason: 'FieldValueInvalid', message: /DNS-1035 label/ },
  { name: 'a label key with a space', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.labels['bad key'] = 'x'; }, field: 'metadata.labels', reason: 'FieldValueInvalid', message: /^Invalid value: "bad key": name part must consist/ },
  { name: 'a label value that is too long', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.labels.app = 'x'.repeat(64); }, field: 'metadata.labels[app]', reason: 'FieldValueInvalid', message: /must be no more than 63 characters/ },
  { name: 'a label value that is not a string', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.labels.version = 2; }, field: 'metadata.labels[version]', reason: 'FieldValueTypeInvalid', message: 'expected a string, got number 2' },
  { name: 'an annotation key with two slashes', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.annotations = { 'a/b/c': 'x' }; }, field: 'metadata.annotations', reason: 'FieldValueInvalid' },
  { name: 'annotations over 256 KiB', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.metadata.annotations = { big: 'x'.repeat(256 * 1024) }; }, field: 'metadata.annotations', reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes' },
  { name: 'a namespace on a cluster-scoped Node', kind: 'Node', base: F.NODE, change: (o) => { o.metadata.namespace = 'default'; }, field: 'metadata.namespace', reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type' },
  { name: 'an invalid namespace', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.namespace = 'Prod'; }, field: 'metadata.namespace', reason: 'FieldValueInvalid' },
  {
    name: 'two controller owner references',
    kind: 'Pod', base: F.NAMED_PORT_POD,
    change: (o) => { o.metadata.ownerReferences = [1, 2].map((i) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs${i}`, uid: `u${i}`, controller: true })); },
    field: 'metadata.ownerReferences[1]', reason: 'FieldValueInvalid', message: /Only one reference can have Controller set to true/,
  },
  { name: 'an owner reference without uid', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs' }]; }, field: 'metadata.ownerReferences[0].uid', reason: 'FieldValueRequired' },
  { name: 'a malformed creationTimestamp', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.creationTimestamp = 'yesterday'; }, field: 'metadata.creationTimestamp', reason: 'FieldValueInvalid', message: /RFC 3339/ },
  { name: 'an unknown metadata field', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.metadata.lables = { a: 'b' }; }, field: 'metadata.lables', reason: 'FieldValueUnknown', message: 'unknown field "lables"' },
  { name: 'the apiVersion of another group', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.apiVersion = 'extensions/v1beta1'; }, field: 'apiVersion', reason: 'FieldValueInvalid', message: 'Invalid value: "extensions/v1beta1": must be "apps/v1" for deployments' },
  { name: 'the kind of another resource', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.kind = 'Deployment'; }, field: 'kind', reason: 'FieldValueInvalid' },
  { name: 'an unknown top-level field', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.spec = {}; }, field: 'spec', reason: 'FieldValueUnknown' },

  // ---- JSON types, unknown and unsupported fields -----------------------------------------------
  { name: 'replicas as a string', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.replicas = '3'; }, field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'expected an integer, got string "3"' },
  { name: 'replicas as a fraction', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.replicas = 1.5; }, field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'expected an integer, got number 1.5' },
  { name: 'replicas beyond int32', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.replicas = 2 ** 31; }, field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: /expected a 32-bit integer/ },
  { name: 'a typo in a container field', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).bogusField = 1; }, field: 'spec.containers[0].bogusField', reason: 'FieldValueUnknown', message: 'unknown field "bogusField"' },
  { name: 'a typo in a template container field', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { tpl(o).containers[0].imagePolicy = 'Always'; }, field: 'spec.template.spec.containers[0].imagePolicy', reason: 'FieldValueUnknown' },
  {
    name: 'a pod affinity namespaceSelector with terms',
    kind: 'Pod', base: F.NAMED_PORT_POD,
    change: (o) => { pod(o).affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, namespaceSelector: { matchLabels: { team: 'a' } }, topologyKey: 'topology.kubernetes.io/zone' }] } }; },
    field: 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector', reason: 'FieldValueNotSupported', message: /^bramble does not support "namespaceSelector": bramble's scheduler does not read namespace labels/,
  },
  { name: 'a persistentVolumeClaim volume', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { o.spec.volumes[0] = { name: 'config', persistentVolumeClaim: { claimName: 'data' } }; }, field: 'spec.volumes[0].persistentVolumeClaim', reason: 'FieldValueNotSupported', message: /^bramble does not support "persistentVolumeClaim": supported volume types: emptyDir, hostPath, configMap, secret$/ },
  { name: 'container lifecycle hooks', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).lifecycle = { preStop: { exec: { command: ['sleep', '5'] } } }; }, field: 'spec.containers[0].lifecycle', reason: 'FieldValueNotSupported' },
  { name: 'pod priority', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).priority = 1000; }, field: 'spec.priority', reason: 'FieldValueNotSupported' },
  { name: 'hostPID', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).hostPID = true; }, field: 'spec.hostPID', reason: 'FieldValueNotSupported' },
  { name: 'a grpc probe', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).livenessProbe = { grpc: { port: 2379 } }; }, field: 'spec.containers[0].livenessProbe.grpc', reason: 'FieldValueNotSupported' },
  { name: 'SCTP', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports[0].protocol = 'SCTP'; }, field: 'spec.containers[0].ports[0].protocol', reason: 'FieldValueNotSupported', message: 'Unsupported value: "SCTP": bramble does not support SCTP; supported values: "TCP", "UDP"' },
  { name: 'an unknown protocol', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports[0].protocol = 'tcp'; }, field: 'spec.containers[0].ports[0].protocol', reason: 'FieldValueNotSupported', message: 'Unsupported value: "tcp": supported values: "TCP", "UDP"' },
  { name: 'a bad restartPolicy', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).restartPolicy = 'Sometimes'; }, field: 'spec.restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' },
  { name: 'hostNetwork as a string', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).hostNetwork = 'yes'; }, field: 'spec.hostNetwork', reason: 'FieldValueTypeInvalid', message: 'expected a boolean, got string "yes"' },
  { name: 'containers as an object', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).containers = { name: 'x' }; }, field: 'spec.containers', reason: 'FieldValueTypeInvalid', message: 'expected an array, got an object' },
  { name: 'spec as a string', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { o.spec = 'none'; }, field: 'spec', reason: 'FieldValueTypeInvalid' },
  { name: 'a null container', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).containers.push(null); }, field: 'spec.containers[1]', reason: 'FieldValueTypeInvalid' },

  // ---- Pod rules ---------------------------------------------------------------------------------
  { name: 'no containers', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).containers = []; }, field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' },
  { name: 'no spec at all', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete o.spec; }, field: 'spec.containers', reason: 'FieldValueRequired' },
  { name: 'a container without image', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete c0(o).image; }, field: 'spec.containers[0].image', reason: 'FieldValueRequired', message: 'Required value' },
  { name: 'a container without name', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete c0(o).name; }, field: 'spec.containers[0].name', reason: 'FieldValueRequired' },
  { name: 'a container name that is not a DNS label', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).name = 'Nginx'; }, field: 'spec.containers[0].name', reason: 'FieldValueInvalid' },
  { name: 'duplicate container names', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { o.spec.containers[1].name = 'app'; }, field: 'spec.containers[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "app"' },
  { name: 'a container named like an init container', kind: 'Pod', base: F.INIT_CONTAINERS_POD, change: (o) => { o.spec.containers[0].name = 'init-mydb'; }, field: 'spec.containers[0].name', reason: 'FieldValueDuplicate' },
  { name: 'containerPort 0', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports[0].containerPort = 0; }, field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive' },
  { name: 'containerPort 70000', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports[0].containerPort = 70000; }, field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueInvalid' },
  { name: 'a port without containerPort', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { delete c0(o).ports[0].containerPort; }, field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueRequired' },
  { name: 'the same containerPort and protocol twice', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports.push({ containerPort: 80 }); }, field: 'spec.containers[0].ports[1].containerPort', reason: 'FieldValueDuplicate', message: 'Duplicate value: "80/TCP"' },
  { name: 'a port name that is not an IANA service name', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { c0(o).ports[0].name = 'HTTP'; }, field: 'spec.containers[0].ports[0].name', reason: 'FieldValueInvalid' },
  { name: 'the same hostPort in two containers', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { o.spec.containers[0].ports = [{ containerPort: 80, hostPort: 8080 }]; o.spec.containers[1].ports = [{ containerPort: 81, hostPort: 8080 }]; }, field: 'spec.containers[1].ports[0].hostPort', reason: 'FieldValueDuplicate' },
  { name: 'hostNetwork with hostPort unlike containerPort', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).hostNetwork = true; c0(o).ports[0].hostPort = 8080; }, field: 'spec.containers[0].ports[0].hostPort', reason: 'FieldValueInvalid' },
  { name: 'a mount of an undeclared volume', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).volumeMounts[0].name = 'cfg'; }, field: 'spec.containers[0].volumeMounts[0].name', reason: 'FieldValueNotFound', message: 'Not found: "cfg"' },
  { name: 'two mounts at one path', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).volumeMounts.push({ name: 'config', mountPath: '/config' }); }, field: 'spec.containers[0].volumeMounts[1].mountPath', reason: 'FieldValueInvalid', message: /must be unique/ },
  { name: 'a relative mountPath', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).volumeMounts[0].mountPath = 'config'; }, field: 'spec.containers[0].volumeMounts[0].mountPath', reason: 'FieldValueInvalid' },
  { name: 'a subPath escaping the volume', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).volumeMounts[0].subPath = '../etc'; }, field: 'spec.containers[0].volumeMounts[0].subPath', reason: 'FieldValueInvalid', message: /must not contain '\.\.'/ },
  { name: 'two volumes with one name', kind: 'DaemonSet', base: F.FLUENTD_DAEMONSET, change: (o) => { tpl(o).volumes[1].name = 'varlog'; }, field: 'spec.template.spec.volumes[1].name', reason: 'FieldValueDuplicate', more: true },
  { name: 'a volume without a source', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { o.spec.volumes[0] = { name: 'config' }; }, field: 'spec.volumes[0]', reason: 'FieldValueRequired', message: 'Required value: must specify a volume type' },
  { name: 'a volume with two sources', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { o.spec.volumes[0].emptyDir = {}; }, field: 'spec.volumes[0].configMap', reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 volume type' },
  { name: 'a relative hostPath', kind: 'Pod', base: F.SECURITY_CONTEXT_POD, change: (o) => { o.spec.volumes[0] = { name: 'sec-ctx-vol', hostPath: { path: 'var/log' } }; }, field: 'spec.volumes[0].hostPath.path', reason: 'FieldValueInvalid' },
  { name: 'a bad hostPath type', kind: 'Pod', base: F.SECURITY_CONTEXT_POD, change: (o) => { o.spec.volumes[0] = { name: 'sec-ctx-vol', hostPath: { path: '/x', type: 'Dir' } }; }, field: 'spec.volumes[0].hostPath.type', reason: 'FieldValueNotSupported' },
  { name: 'a configMap volume without name', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { delete o.spec.volumes[0].configMap.name; }, field: 'spec.volumes[0].configMap.name', reason: 'FieldValueRequired' },
  { name: 'a configMap item with an absolute path', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { o.spec.volumes[0].configMap.items[0].path = '/etc/game'; }, field: 'spec.volumes[0].configMap.items[0].path', reason: 'FieldValueInvalid' },
  { name: 'a file mode over 0777', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { o.spec.volumes[0].configMap.defaultMode = 0o1777; }, field: 'spec.volumes[0].configMap.defaultMode', reason: 'FieldValueInvalid' },
  { name: 'a secret volume without secretName', kind: 'Pod', base: F.ENVFROM_POD, change: (o) => { delete o.spec.volumes[0].secret.secretName; }, field: 'spec.volumes[0].secret.secretName', reason: 'FieldValueRequired' },
  { name: 'an env var name with "="', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).env[0].name = 'A=B'; }, field: 'spec.containers[0].env[0].name', reason: 'FieldValueInvalid', message: `Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='` },
  { name: 'an env var with value and valueFrom', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).env[0].value = '3'; }, field: 'spec.containers[0].env[0].valueFrom', reason: 'FieldValueInvalid', message: /may not be specified when `value` is not empty/ },
  { name: 'an empty valueFrom', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { c0(o).env[0].valueFrom = {}; }, field: 'spec.containers[0].env[0].valueFrom', reason: 'FieldValueInvalid', message: /must specify one of/ },
  { name: 'a configMapKeyRef without key', kind: 'Pod', base: F.CONFIGMAP_DEMO_POD, change: (o) => { delete c0(o).env[0].valueFrom.configMapKeyRef.key; }, field: 'spec.containers[0].env[0].valueFrom.configMapKeyRef.key', reason: 'FieldValueRequired' },
  { name: 'a fieldRef the downward API does not offer', kind: 'Pod', base: F.DOWNWARD_ENV_POD, change: (o) => { c0(o).env[0].valueFrom.fieldRef.fieldPath = 'spec.containers'; }, field: 'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath', reason: 'FieldValueNotSupported' },
  { name: 'an envFrom with both sources', kind: 'Pod', base: F.ENVFROM_POD, change: (o) => { c0(o).envFrom[0].secretRef = { name: 's' }; }, field: 'spec.containers[0].envFrom[0]', reason: 'FieldValueInvalid', message: /may not have more than one field/ },
  { name: 'requests above limits', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { c0(o).resources.requests.cpu = '1'; }, field: 'spec.containers[0].resources.requests[cpu]', reason: 'FieldValueInvalid', message: 'Invalid value: "1": must be less than or equal to cpu limit of 500m' },
  { name: 'an extended resource', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { c0(o).resources.limits['nvidia.com/gpu'] = 1; }, field: 'spec.containers[0].resources.limits[nvidia.com/gpu]', reason: 'FieldValueNotSupported' },
  { name: 'a malformed quantity', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { c0(o).resources.limits.memory = '128MB'; }, field: 'spec.containers[0].resources.limits[memory]', reason: 'FieldValueInvalid', message: /did you mean "M"/ },
  { name: 'a negative quantity', kind: 'Pod', base: F.RESOURCES_POD, change: (o) => { c0(o).resources.requests.memory = '-1'; }, field: 'spec.containers[0].resources.requests[memory]', reason: 'FieldValueInvalid', message: /must be greater than or equal to 0/ },
  { name: 'a probe without a handler', kind: 'Pod', base: F.LIVENESS_EXEC_POD, change: (o) => { delete c0(o).livenessProbe.exec; }, field: 'spec.containers[0].livenessProbe', reason: 'FieldValueRequired', message: 'Required value: must specify a handler type' },
  { name: 'a probe with two handlers', kind: 'Pod', base: F.LIVENESS_EXEC_POD, change: (o) => { c0(o).livenessProbe.tcpSocket = { port: 80 }; }, field: 'spec.containers[0].livenessProbe.tcpSocket', reason: 'FieldValueForbidden' },
  { name: 'a liveness successThreshold other than 1', kind: 'Pod', base: F.LIVENESS_EXEC_POD, change: (o) => { c0(o).livenessProbe.successThreshold = 2; }, field: 'spec.containers[0].livenessProbe.successThreshold', reason: 'FieldValueInvalid', message: 'Invalid value: 2: must be 1' },
  { name: 'an httpGet probe without port', kind: 'Pod', base: F.LIVENESS_HTTP_POD, change: (o) => { delete c0(o).livenessProbe.httpGet.port; }, field: 'spec.containers[0].livenessProbe.httpGet.port', reason: 'FieldValueRequired' },
  { name: 'a probe port name that is not an IANA name', kind: 'Pod', base: F.LIVENESS_HTTP_POD, change: (o) => { c0(o).livenessProbe.httpGet.port = 'Web_Port'; }, field: 'spec.containers[0].livenessProbe.httpGet.port', reason: 'FieldValueInvalid' },
  { name: 'a probe on an init container', kind: 'Pod', base: F.INIT_CONTAINERS_POD, change: (o) => { o.spec.initContainers[0].readinessProbe = { exec: { command: ['true'] } }; }, field: 'spec.initContainers[0].readinessProbe', reason: 'FieldValueForbidden' },
  { name: 'privileged without privilege escalation', kind: 'Pod', base: F.SECURITY_CONTEXT_POD, change: (o) => { c0(o).securityContext.privileged = true; }, field: 'spec.containers[0].securityContext', reason: 'FieldValueInvalid' },
  { name: 'a negative runAsUser', kind: 'Pod', base: F.SECURITY_CONTEXT_POD, change: (o) => { o.spec.securityContext.runAsUser = -1; }, field: 'spec.securityContext.runAsUser', reason: 'FieldValueInvalid' },
  { name: 'dnsPolicy None without nameservers', kind: 'Pod', base: F.DNS_CONFIG_POD, change: (o) => { delete o.spec.dnsConfig; }, field: 'spec.dnsConfig.nameservers', reason: 'FieldValueRequired' },
  { name: 'four nameservers', kind: 'Pod', base: F.DNS_CONFIG_POD, change: (o) => { o.spec.dnsConfig.nameservers = ['1.1.1.1', '8.8.8.8', '9.9.9.9', '1.0.0.1']; }, field: 'spec.dnsConfig.nameservers', reason: 'FieldValueInvalid' },
  { name: 'a nameserver that is not an IP', kind: 'Pod', base: F.DNS_CONFIG_POD, change: (o) => { o.spec.dnsConfig.nameservers = ['dns.example']; }, field: 'spec.dnsConfig.nameservers[0]', reason: 'FieldValueInvalid' },
  { name: 'a host alias with a bad IP', kind: 'Pod', base: F.HOST_ALIASES_POD, change: (o) => { o.spec.hostAliases[0].ip = '127.0.0'; }, field: 'spec.hostAliases[0].ip', reason: 'FieldValueInvalid' },
  { name: 'a nodeSelector value with a space', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).nodeSelector = { disk: 'fast ssd' }; }, field: 'spec.nodeSelector[disk]', reason: 'FieldValueInvalid' },
  { name: 'a negative terminationGracePeriodSeconds', kind: 'Pod', base: F.NAMED_PORT_POD, change: (o) => { pod(o).terminationGracePeriodSeconds = -1; }, field: 'spec.terminationGracePeriodSeconds', reason: 'FieldValueInvalid' },

  // ---- workloads ---------------------------------------------------------------------------------
  { name: 'a Deployment without selector', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { delete o.spec.selector; }, field: 'spec.selector', reason: 'FieldValueRequired' },
  { name: 'an empty selector', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.selector = {}; }, field: 'spec.selector', reason: 'FieldValueInvalid', message: 'Invalid value: {}: empty selector is invalid for deployment' },
  { name: 'a selector that does not match the template', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.template.metadata.labels.app = 'web'; }, field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid', message: 'Invalid value: {"app":"web"}: `selector` does not match template `labels`' },
  { name: 'a selector expression that does not match', kind: 'ReplicaSet', base: F.FRONTEND_REPLICASET, change: (o) => { o.spec.selector.matchExpressions = [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }]; }, field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid' },
  { name: 'In without values', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'In' }]; }, field: 'spec.selector.matchExpressions[0].values', reason: 'FieldValueRequired' },
  { name: 'a bad selector operator', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.selector.matchExpressions = [{ key: 'app', operator: 'Equals', values: ['nginx'] }]; }, field: 'spec.selector.matchExpressions[0].operator', reason: 'FieldValueNotSupported' },
  { name: 'a template restartPolicy of Never', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { tpl(o).restartPolicy = 'Never'; }, field: 'spec.template.spec.restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Never": supported values: "Always"' },
  { name: 'a template activeDeadlineSeconds', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { tpl(o).activeDeadlineSeconds = 60; }, field: 'spec.template.spec.activeDeadlineSeconds', reason: 'FieldValueForbidden' },
  { name: 'a template container without image', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { delete tpl(o).containers[0].image; }, field: 'spec.template.spec.containers[0].image', reason: 'FieldValueRequired' },
  { name: 'negative replicas', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.replicas = -1; }, field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0' },
  { name: 'an unknown strategy', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.strategy = { type: 'BlueGreen' }; }, field: 'spec.strategy.type', reason: 'FieldValueNotSupported' },
  { name: 'Recreate with rollingUpdate', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }; }, field: 'spec.strategy.rollingUpdate', reason: 'FieldValueForbidden' },
  { name: 'maxSurge and maxUnavailable both 0', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }; }, field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid', message: /may not be 0 when `maxSurge` is 0/ },
  { name: 'maxSurge over 100%', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.strategy = { rollingUpdate: { maxSurge: '150%' } }; }, field: 'spec.strategy.rollingUpdate.maxSurge', reason: 'FieldValueInvalid' },
  { name: 'maxUnavailable not a percentage', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.strategy = { rollingUpdate: { maxUnavailable: 'half' } }; }, field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid', message: /percent string/ },
  { name: 'progressDeadlineSeconds not above minReadySeconds', kind: 'Deployment', base: F.NGINX_DEPLOYMENT, change: (o) => { o.spec.minReadySeconds = 600; }, field: 'spec.progressDeadlineSeconds', reason: 'FieldValueInvalid' },
  { name: 'a ReplicaSet without template', kind: 'ReplicaSet', base: F.FRONTEND_REPLICASET, change: (o) => { delete o.spec.template; }, field: 'spec.template', reason: 'FieldValueRequired' },
  { name: 'a DaemonSet OnDelete with rollingUpdate', kind: 'DaemonSet', base: F.FLUENTD_DAEMONSET, change: (o) => { o.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { maxUnavailable: 1 } }; }, field: 'spec.updateStrategy.rollingUpdate', reason: 'FieldValueForbidden' },
  { name: 'a DaemonSet with maxUnavailable 0 and maxSurge 0', kind: 'DaemonSet', base: F.FLUENTD_DAEMONSET, change: (o) => { o.spec.updateStrategy = { rollingUpdate: { maxUnavailable: 0 } }; }, field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid' },
  { name: 'a DaemonSet toleration with a bad effect', kind: 'DaemonSet', base: F.FLUENTD_DAEMONSET, change: (o) => { tpl(o).tolerations[0].effect = 'NoRun'; }, field: 'spec.template.spec.tolerations[0].effect', reason: 'FieldValueNotSupported' },
  { name: 'a DaemonSet template label too long', kind: 'DaemonSet', base: F.FLUENTD_DAEMONSET, change: (o) => { o.spec.template.metadata.labels.extra = 'x'.repeat(64); }, field: 'spec.template.metadata.labels[extra]', reason: 'FieldValueInvalid' },

  // ---- Service and Endpoints ---------------------------------------------------------------------
  { name: 'a LoadBalancer Service', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.type = 'LoadBalancer'; }, field: 'spec.type', reason: 'FieldValueNotSupported', message: /^Unsupported value: "LoadBalancer": bramble does not support LoadBalancer Services/ },
  { name: 'a Service without ports', kind: 'Service', base: F.MY_SERVICE, change: (o) => { delete o.spec.ports; }, field: 'spec.ports', reason: 'FieldValueRequired' },
  { name: 'two unnamed ports', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.ports.push({ port: 443, targetPort: 9377 }); }, field: 'spec.ports[1].name', reason: 'FieldValueRequired', more: true },
  { name: 'two ports with one name', kind: 'Service', base: F.NAMED_PORT_SERVICE, change: (o) => { o.spec.ports.push({ name: 'name-of-service-port', port: 443 }); }, field: 'spec.ports[1].name', reason: 'FieldValueDuplicate' },
  { name: 'the same port and protocol twice', kind: 'Service', base: F.NAMED_PORT_SERVICE, change: (o) => { o.spec.ports.push({ name: 'other', port: 80 }); }, field: 'spec.ports[1]', reason: 'FieldValueDuplicate', message: 'Duplicate value: "80/TCP"' },
  { name: 'port 0', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.ports[0].port = 0; }, field: 'spec.ports[0].port', reason: 'FieldValueInvalid' },
  { name: 'a nodePort outside the range', kind: 'Service', base: F.NODEPORT_SERVICE, change: (o) => { o.spec.ports[0].nodePort = 8080; }, field: 'spec.ports[0].nodePort', reason: 'FieldValueInvalid', message: 'Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767' },
  { name: 'a nodePort on a ClusterIP Service', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.ports[0].nodePort = 30007; }, field: 'spec.ports[0].nodePort', reason: 'FieldValueForbidden', message: "Forbidden: may not be used when `type` is 'ClusterIP'" },
  { name: 'a clusterIP that is not an IPv4 address', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.clusterIP = '10.43.0'; }, field: 'spec.clusterIP', reason: 'FieldValueInvalid' },
  { name: 'a headless NodePort Service', kind: 'Service', base: F.NODEPORT_SERVICE, change: (o) => { o.spec.clusterIP = 'None'; }, field: 'spec.clusterIP', reason: 'FieldValueInvalid' },
  { name: 'a named targetPort that is not an IANA name', kind: 'Service', base: F.NAMED_PORT_SERVICE, change: (o) => { o.spec.ports[0].targetPort = 'Web_Port'; }, field: 'spec.ports[0].targetPort', reason: 'FieldValueInvalid' },
  { name: 'a targetPort out of range', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.ports[0].targetPort = 65536; }, field: 'spec.ports[0].targetPort', reason: 'FieldValueInvalid' },
  { name: 'an ExternalName Service without externalName', kind: 'Service', base: F.EXTERNALNAME_SERVICE, change: (o) => { delete o.spec.externalName; }, field: 'spec.externalName', reason: 'FieldValueRequired' },
  { name: 'an externalName that is not a DNS name', kind: 'Service', base: F.EXTERNALNAME_SERVICE, change: (o) => { o.spec.externalName = 'my_db'; }, field: 'spec.externalName', reason: 'FieldValueInvalid' },
  { name: 'a bad sessionAffinity', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.sessionAffinity = 'Cookie'; }, field: 'spec.sessionAffinity', reason: 'FieldValueNotSupported' },
  { name: 'IPv6', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.ipFamilies = ['IPv6']; }, field: 'spec.ipFamilies[0]', reason: 'FieldValueNotSupported' },
  { name: 'externalIPs', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.externalIPs = ['192.0.2.1']; }, field: 'spec.externalIPs', reason: 'FieldValueNotSupported' },
  { name: 'a selector label key with two slashes', kind: 'Service', base: F.MY_SERVICE, change: (o) => { o.spec.selector = { 'a/b/c': 'x' }; }, field: 'spec.selector', reason: 'FieldValueInvalid' },
  { name: 'an endpoint address that is not IPv4', kind: 'Endpoints', base: F.ENDPOINTS, change: (o) => { o.subsets[0].addresses[0].ip = 'gw1'; }, field: 'subsets[0].addresses[0].ip', reason: 'FieldValueInvalid' },
  { name: 'an endpoint address without ip', kind: 'Endpoints', base: F.ENDPOINTS, change: (o) => { o.subsets[0].addresses[0] = { hostname: 'a' }; }, field: 'subsets[0].addresses[0].ip', reason: 'FieldValueRequired' },
  { name: 'two unnamed endpoint ports', kind: 'Endpoints', base: F.ENDPOINTS, change: (o) => { o.subsets[0].ports.push({ name: 'b', port: 9377 }); }, field: 'subsets[0].ports[0].name', reason: 'FieldValueRequired' },

  // ---- ConfigMap and Secret ----------------------------------------------------------------------
  { name: 'a ConfigMap key with a slash', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.data['conf/app.ini'] = 'x'; }, field: 'data[conf/app.ini]', reason: 'FieldValueInvalid', message: `Invalid value: "conf/app.ini": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` },
  { name: 'a key in both data and binaryData', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.binaryData = { 'game.properties': 'AAEC' }; }, field: 'data[game.properties]', reason: 'FieldValueInvalid', message: /duplicate of key present in binaryData/ },
  { name: 'binaryData that is not base64', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.binaryData = { 'logo.png': 'not base64!' }; }, field: 'binaryData[logo.png]', reason: 'FieldValueInvalid' },
  { name: 'a ConfigMap over 1 MiB', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.data.big = 'x'.repeat(1024 * 1024); }, field: 'data', reason: 'FieldValueTooLong', message: 'Too long: must have at most 1048576 bytes' },
  { name: 'a data value that is a number', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.data.player_initial_lives = 3; }, field: 'data[player_initial_lives]', reason: 'FieldValueTypeInvalid', message: 'expected a string, got number 3' },
  { name: 'immutable as a string', kind: 'ConfigMap', base: F.GAME_DEMO_CONFIGMAP, change: (o) => { o.immutable = 'true'; }, field: 'immutable', reason: 'FieldValueTypeInvalid' },
  {
    name: 'Secret data that is not base64 (the value is not echoed)',
    kind: 'Secret', base: F.DATA_SECRET, change: (o) => { o.data.password = 's3cr3t!!'; },
    field: 'data[password]', reason: 'FieldValueInvalid', message: 'Invalid value: <value omitted>: must be base64-encoded: illegal base64 data at input byte 6',
  },
  { name: 'a Secret key with a space (from stringData)', kind: 'Secret', base: F.STRINGDATA_SECRET, change: (o) => { o.stringData['my key'] = 'x'; }, field: 'data[my key]', reason: 'FieldValueInvalid' },
  { name: 'a TLS Secret without tls.key', kind: 'Secret', base: F.DATA_SECRET, change: (o) => { o.type = 'kubernetes.io/tls'; o.data = { 'tls.crt': 'AAAA' }; }, field: 'data[tls.key]', reason: 'FieldValueRequired' },

  // ---- Ingress -----------------------------------------------------------------------------------
  { name: 'a path without pathType', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { delete rule0path0(o).pathType; }, field: 'spec.rules[0].http.paths[0].pathType', reason: 'FieldValueRequired' },
  { name: 'an unknown pathType', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { rule0path0(o).pathType = 'Regex'; }, field: 'spec.rules[0].http.paths[0].pathType', reason: 'FieldValueNotSupported' },
  { name: 'a Prefix path that is not absolute', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { rule0path0(o).path = 'testpath'; }, field: 'spec.rules[0].http.paths[0].path', reason: 'FieldValueInvalid', message: 'Invalid value: "testpath": must be an absolute path' },
  { name: 'a backend without port', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { delete rule0path0(o).backend.service.port; }, field: 'spec.rules[0].http.paths[0].backend.service.port', reason: 'FieldValueRequired' },
  { name: 'a backend port with name and number', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { rule0path0(o).backend.service.port.name = 'http'; }, field: 'spec.rules[0].http.paths[0].backend.service.port', reason: 'FieldValueInvalid' },
  { name: 'a backend without Service name', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { delete rule0path0(o).backend.service.name; }, field: 'spec.rules[0].http.paths[0].backend.service.name', reason: 'FieldValueRequired' },
  { name: 'a path without backend', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { delete rule0path0(o).backend; }, field: 'spec.rules[0].http.paths[0].backend', reason: 'FieldValueRequired' },
  { name: 'a resource backend', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { rule0path0(o).backend = { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } }; }, field: 'spec.rules[0].http.paths[0].backend.resource', reason: 'FieldValueNotSupported' },
  { name: 'a host that is an IP address', kind: 'Ingress', base: F.TLS_INGRESS, change: (o) => { o.spec.rules[0].host = '192.0.2.1'; }, field: 'spec.rules[0].host', reason: 'FieldValueInvalid', message: /must be a DNS name, not an IP address/ },
  { name: 'a wildcard in the middle of a host', kind: 'Ingress', base: F.TLS_INGRESS, change: (o) => { o.spec.rules[1].host = 'foo.*.com'; }, field: 'spec.rules[1].host', reason: 'FieldValueInvalid' },
  { name: 'an Ingress with nothing to route', kind: 'Ingress', base: F.MINIMAL_INGRESS, change: (o) => { delete o.spec.rules; }, field: 'spec', reason: 'FieldValueInvalid', message: /either `defaultBackend` or `rules` must be specified/ },

  // ---- Node, Namespace, Event --------------------------------------------------------------------
  { name: 'a taint with a bad effect', kind: 'Node', base: F.NODE, change: (o) => { o.spec.taints[0].effect = 'NoRun'; }, field: 'spec.taints[0].effect', reason: 'FieldValueNotSupported' },
  { name: 'the same taint twice', kind: 'Node', base: F.NODE, change: (o) => { o.spec.taints.push({ key: 'dedicated', value: 'other', effect: 'NoSchedule' }); }, field: 'spec.taints[1]', reason: 'FieldValueDuplicate' },
  { name: 'a podCIDR that is not a CIDR', kind: 'Node', base: F.NODE, change: (o) => { o.spec.podCIDR = '10.42.1.0'; o.spec.podCIDRs = ['10.42.1.0']; }, field: 'spec.podCIDR', reason: 'FieldValueInvalid', more: true },
  { name: 'a Node status that is not an object', kind: 'Node', base: F.NODE, change: (o) => { o.status = 'Ready'; }, field: 'status', reason: 'FieldValueTypeInvalid' },
  { name: 'a Namespace finalizer that is not a qualified name', kind: 'Namespace', base: F.NAMESPACE, change: (o) => { o.spec = { finalizers: ['bad finalizer'] }; }, field: 'spec.finalizers[0]', reason: 'FieldValueInvalid' },
  { name: 'an Event type other than Normal or Warning', kind: 'Event', base: F.EVENT, change: (o) => { o.type = 'Info'; }, field: 'type', reason: 'FieldValueNotSupported' },
  { name: 'an Event about an object of another namespace', kind: 'Event', base: F.EVENT, change: (o) => { o.involvedObject.namespace = 'kube-system'; }, field: 'involvedObject.namespace', reason: 'FieldValueInvalid' },
  { name: 'a negative Event count', kind: 'Event', base: F.EVENT, change: (o) => { o.count = -1; }, field: 'count', reason: 'FieldValueInvalid' },
];

function describeCauses(causes: readonly FieldCause[]): string {
  return causes.map((c) => `  ${c.reason} ${c.field}: ${c.message}`).join('\n');
}

describe('bad manifests are refused with the exact field', () => {
  for (const c of CASES) {
    test(`${c.kind}: ${c.name} → ${c.field}`, () => {
      const manifest = yaml(c.base) as Manifest;
      c.change(manifest);
      const result = validateObject(info(c.kind), manifest);
      assert.equal(result.ok, false, `expected a refusal for ${c.name}`);
      if (result.ok) return;
      const found = result.causes.filter((x) => x.field === c.field);
      assert.ok(found.length > 0, `no cause for ${c.field}; got:\n${describeCauses(result.causes)}`);
      assert.ok(found.some((x) => x.reason === c.reason), `expected ${c.reason} for ${c.field}; got:\n${describeCauses(result.causes)}`);
      if (c.message !== undefined) {
        const ok = found.some((x) => (typeof c.message === 'string' ? x.message === c.message : c.message!.test(x.message)));
        assert.ok(ok, `message of ${c.field} does not match ${String(c.message)}; got:\n${describeCauses(found)}`);
      }
      if (!c.more) assert.equal(result.causes.length, 1, `expected exactly one cause; got:\n${describeCauses(result.causes)}`);
    });
  }

  test(`the table has at least 40 cases (has ${CASES.length})`, () => assert.ok(CASES.length >= 40));
});

describe('collecting causes', () => {
  test('every problem of a manifest is reported in one answer', () => {
    const d = yaml(F.NGINX_DEPLOYMENT) as Manifest;
    d.metadata.name = 'Bad_Name';
    d.spec.replicas = '3';
    d.spec.template.spec.hostPID = true;
    d.spec.template.spec.containers[0].bogusField = true;
    delete d.spec.template.spec.containers[0].image;
    d.spec.template.spec.containers[0].ports[0].protocol = 'SCTP';
    d.spec.template.metadata.labels.app = 'other';
    const result = validateObject(info('Deployment'), d);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.causes.map((c) => `${c.reason} ${c.field}`).sort(),
      [
        'FieldValueInvalid metadata.name',
        'FieldValueInvalid spec.template.metadata.labels',
        'FieldValueNotSupported spec.template.spec.containers[0].ports[0].protocol',
        'FieldValueNotSupported spec.template.spec.hostPID',
        'FieldValueRequired spec.template.spec.containers[0].image',
        'FieldValueTypeInvalid spec.replicas',
        'FieldValueUnknown spec.template.spec.containers[0].bogusField',
      ],
    );
  });

  test('a body that is not an object is one TypeInvalid cause', () => {
    for (const body of [null, [], 'pod', 3]) {
      const result = validateObject(info('Pod'), body);
      assert.equal(result.ok, false);
      if (!result.ok) assert.deepEqual(result.causes.map((c) => c.reason), ['FieldValueTypeInvalid']);
    }
  });

  test('fields of unsupported features are accepted with values that mean "off"', () => {
    const p = yaml(F.NAMED_PORT_POD) as Manifest;
    Object.assign(p.spec, { hostPID: false, hostIPC: false, priority: 0, schedulerName: 'default-scheduler', affinity: {}, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority' });
    Object.assign(p.spec.containers[0], { lifecycle: {}, volumeDevices: [] });
    assert.equal(validateObject(info('Pod'), p).ok, true);
  });

  test('generateName instead of name is accepted', () => {
    const p = yaml(F.NAMED_PORT_POD) as Manifest;
    delete p.metadata.name;
    p.metadata.generateName = 'nginx-';
    assert.equal(validateObject(info('Pod'), p).ok, true);
  });

  test('a headless Service needs no ports; an ExternalName Service neither', () => {
    const headless = yaml(F.MY_SERVICE) as Manifest;
    headless.spec.clusterIP = 'None';
    delete headless.spec.ports;
    assert.equal(validateObject(info('Service'), headless).ok, true);
    assert.equal(validateObject(info('Service'), yaml(F.EXTERNALNAME_SERVICE)).ok, true);
  });
});
