// `describe pod` and the parts a pod template shares with it (containers, volumes), after
// kubectl's describePod / describeContainers / describeVolumes.

import type { KObject } from '../../model/index.ts';
import { arr, at, num, obj, str, strs, type JsonObject } from '../printers/fields.ts';
import { age, rfc1123z } from '../printers/time.ts';
import { DescribeWriter, writeEvents, writeHeader } from './writer.ts';

function portsOf(container: JsonObject): string {
  return arr(container['ports'])
    .map((p) => `${num(p['containerPort'])}/${str(p['protocol']) || 'TCP'}`)
    .join(', ');
}

function writeState(w: DescribeWriter, title: string, state: JsonObject, level: number): void {
  const [kind, detail] = Object.entries(state)[0] ?? [];
  if (kind === undefined) {
    w.line(level, `${title}:`, 'Waiting');
    return;
  }
  const d = obj(detail);
  const name = kind.charAt(0).toUpperCase() + kind.slice(1);
  w.line(level, `${title}:`, name);
  if (str(d['reason'])) w.line(level + 1, 'Reason:', str(d['reason']));
  if (str(d['message'])) w.line(level + 1, 'Message:', str(d['message']));
  if (kind === 'terminated') {
    w.line(level + 1, 'Exit Code:', String(num(d['exitCode'])));
    if (num(d['signal']) !== 0) w.line(level + 1, 'Signal:', String(num(d['signal'])));
  }
  if (str(d['startedAt'])) w.line(level + 1, 'Started:', rfc1123z(d['startedAt']));
  if (str(d['finishedAt'])) w.line(level + 1, 'Finished:', rfc1123z(d['finishedAt']));
}

function envValue(env: JsonObject): string {
  if (env['value'] !== undefined) return str(env['value']);
  const from = obj(env['valueFrom']);
  const cm = obj(from['configMapKeyRef']);
  if (Object.keys(cm).length > 0) return `<set to the key '${str(cm['key'])}' of config map '${str(cm['name'])}'>\tOptional: ${cm['optional'] === true}`;
  const secret = obj(from['secretKeyRef']);
  if (Object.keys(secret).length > 0) return `<set to the key '${str(secret['key'])}' in secret '${str(secret['name'])}'>\tOptional: ${secret['optional'] === true}`;
  const field = obj(from['fieldRef']);
  if (Object.keys(field).length > 0) return ` (${str(field['apiVersion']) || 'v1'}:${str(field['fieldPath'])})`;
  return '';
}

function writeResources(w: DescribeWriter, title: string, resources: unknown, level: number): void {
  const map = obj(resources);
  if (Object.keys(map).length === 0) return;
  w.line(level, `${title}:`);
  for (const key of Object.keys(map).sort()) w.line(level + 1, `${key}:`, str(map[key]));
}

/**
 * Containers (or init containers), with their live state when `statuses` are given (a pod) and
 * without (a pod template). `space` is kubectl's extra indentation inside a template.
 */
export function writeContainers(w: DescribeWriter, label: string, containers: JsonObject[], statuses: JsonObject[] | undefined, space: string): void {
  w.line(0, `${space}${label}:`);
  for (const container of containers) {
    const name = str(container['name']);
    const status = statuses?.find((s) => s['name'] === name);
    w.line(1, `${space === '' ? '' : ' '}${name}:`);
    if (status !== undefined && str(status['containerID'])) w.line(2, 'Container ID:', str(status['containerID']));
    w.line(2, 'Image:', str(container['image']));
    if (status !== undefined) w.line(2, 'Image ID:', str(status['imageID']));
    const ports = portsOf(container);
    if (ports.includes(',')) w.line(2, 'Ports:', ports);
    else w.line(2, 'Port:', ports || '<none>');
    for (const [title, field] of [['Command', 'command'], ['Args', 'args']] as const) {
      const items = strs(container[field]);
      if (items.length === 0) continue;
      w.line(2, `${title}:`);
      for (const item of items) w.line(3, item);
    }
    if (status !== undefined) {
      writeState(w, 'State', obj(status['state']), 2);
      const last = obj(status['lastState']);
      if (Object.keys(last).length > 0) writeState(w, 'Last State', last, 2);
      w.line(2, 'Ready:', status['ready'] === true ? 'True' : 'False');
      w.line(2, 'Restart Count:', String(num(status['restartCount'])));
    }
    writeResources(w, 'Limits', at(container, 'resources', 'limits'), 2);
    writeResources(w, 'Requests', at(container, 'resources', 'requests'), 2);
    const env = arr(container['env']);
    if (env.length === 0) {
      w.line(2, 'Environment:', '<none>');
    } else {
      w.line(2, 'Environment:');
      for (const e of env) w.line(3, `${str(e['name'])}:`, envValue(e));
    }
    const mounts = arr(container['volumeMounts']);
    if (mounts.length === 0) {
      w.line(2, 'Mounts:', '<none>');
    } else {
      w.line(2, 'Mounts:');
      for (const m of mounts) {
        const flags = m['readOnly'] === true ? 'ro' : 'rw';
        const sub = str(m['subPath']) ? `,path="${str(m['subPath'])}"` : '';
        w.line(3, `${str(m['mountPath'])} from ${str(m['name'])} (${flags}${sub})`);
      }
    }
  }
}

export function writeVolumes(w: DescribeWriter, volumes: JsonObject[], space: string): void {
  if (volumes.length === 0) {
    w.line(0, `${space}Volumes:`, '<none>');
    return;
  }
  w.line(0, `${space}Volumes:`);
  for (const volume of volumes) {
    w.line(1, `${space === '' ? '' : ' '}${str(volume['name'])}:`);
    if (volume['emptyDir'] !== undefined) {
      const d = obj(volume['emptyDir']);
      w.line(2, 'Type:', "EmptyDir (a temporary directory that shares a pod's lifetime)");
      w.line(2, 'Medium:', str(d['medium']));
      w.line(2, 'SizeLimit:', str(d['sizeLimit']) || '<unset>');
    } else if (volume['hostPath'] !== undefined) {
      const d = obj(volume['hostPath']);
      w.line(2, 'Type:', 'HostPath (bare host directory volume)');
      w.line(2, 'Path:', str(d['path']));
      w.line(2, 'HostPathType:', str(d['type']));
    } else if (volume['configMap'] !== undefined) {
      const d = obj(volume['configMap']);
      w.line(2, 'Type:', 'ConfigMap (a volume populated by a ConfigMap)');
      w.line(2, 'Name:', str(d['name']));
      w.line(2, 'Optional:', String(d['optional'] === true));
    } else if (volume['secret'] !== undefined) {
      const d = obj(volume['secret']);
      w.line(2, 'Type:', 'Secret (a volume populated by a Secret)');
      w.line(2, 'SecretName:', str(d['secretName']));
      w.line(2, 'Optional:', String(d['optional'] === true));
    } else {
      const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
      w.line(2, 'Type:', kind);
    }
  }
}

function writeSelectorsAndTolerations(w: DescribeWriter, spec: JsonObject, space: string): void {
  const nodeSelector = obj(spec['nodeSelector']);
  w.multiline(space, 'Node-Selectors', Object.keys(nodeSelector).sort().map((k) => `${k}=${str(nodeSelector[k])}`));
  const tolerations = arr(spec['tolerations']).map((t) => {
    const key = str(t['key']);
    const value = str(t['value']);
    const effect = str(t['effect']);
    // kubectl's form: `key=value:Effect`, and `op=Exists` for the tolerate-everything case.
    const exists = str(t['operator']) === 'Exists' && value === '';
    let text = exists ? (key !== '' || effect !== '' ? key : 'op=Exists') : `${key}=${value}`;
    if (effect !== '') text += `:${effect}`;
    if (exists && (key !== '' || effect !== '')) text += ' op=Exists';
    if (t['tolerationSeconds'] !== undefined) text += ` for ${num(t['tolerationSeconds'])}s`;
    return text;
  });
  w.multiline(space, 'Tolerations', tolerations);
}

export function describePod(pod: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(pod['spec']);
  const status = obj(pod['status']);
  writeHeader(w, pod, true);
  if (str(spec['serviceAccountName'])) w.line(0, 'Service Account:', str(spec['serviceAccountName']));
  const node = str(spec['nodeName']);
  w.line(0, 'Node:', node === '' ? '<none>' : str(status['hostIP']) ? `${node}/${str(status['hostIP'])}` : node);
  if (str(status['startTime'])) w.line(0, 'Start Time:', rfc1123z(status['startTime']));
  if (pod.metadata.deletionTimestamp) {
    w.line(0, 'Status:', `Terminating (lasts ${age(pod.metadata.deletionTimestamp, now)})`);
    w.line(0, 'Termination Grace Period:', `${num(pod.metadata.deletionGracePeriodSeconds, 30)}s`);
  } else {
    w.line(0, 'Status:', str(status['phase']) || 'Pending');
  }
  if (str(status['reason'])) w.line(0, 'Reason:', str(status['reason']));
  if (str(status['message'])) w.line(0, 'Message:', str(status['message']));
  w.line(0, 'IP:', str(status['podIP']));
  const ips = arr(status['podIPs']).map((ip) => str(ip['ip'])).filter((ip) => ip !== '');
  if (ips.length > 0) {
    w.line(0, 'IPs:');
    for (const ip of ips) w.line(1, 'IP:', ip);
  } else {
    w.line(0, 'IPs:', '<none>');
  }
  const controller = (pod.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  if (controller !== undefined) w.line(0, 'Controlled By:', `${controller.kind}/${controller.name}`);
  const initContainers = arr(spec['initContainers']);
  if (initContainers.length > 0) writeContainers(w, 'Init Containers', initContainers, arr(status['initContainerStatuses']), '');
  writeContainers(w, 'Containers', arr(spec['containers']), arr(status['containerStatuses']), '');
  const conditions = arr(status['conditions']);
  if (conditions.length > 0) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type', 'Status');
    for (const c of conditions) w.line(1, str(c['type']), str(c['status']));
  }
  writeVolumes(w, arr(spec['volumes']), '');
  writeSelectorsAndTolerations(w, spec, '');
  writeEvents(w, events, now);
  return w.toString();
}

/** A pod template as Deployment, ReplicaSet and DaemonSet show it. */
export function writePodTemplate(w: DescribeWriter, template: unknown): void {
  w.line(0, 'Pod Template:');
  const t = obj(template);
  const metadata = obj(t['metadata']);
  const spec = obj(t['spec']);
  w.labels('  ', 'Labels', metadata['labels']);
  if (Object.keys(obj(metadata['annotations'])).length > 0) w.annotations('  ', 'Annotations', metadata['annotations']);
  if (str(spec['serviceAccountName'])) w.line(1, 'Service Account:', str(spec['serviceAccountName']));
  const initContainers = arr(spec['initContainers']);
  if (initContainers.length > 0) writeContainers(w, 'Init Containers', initContainers, undefined, '  ');
  writeContainers(w, 'Containers', arr(spec['containers']), undefined, '  ');
  writeVolumes(w, arr(spec['volumes']), '  ');
  writeSelectorsAndTolerations(w, spec, '  ');
}
