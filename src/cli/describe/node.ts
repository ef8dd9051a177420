// `describe node` after kubectl's describeNode: conditions, addresses, capacity, allocatable,
// system info.

import type { KObject } from '../../model/index.ts';
import { nodeRoles } from '../printers/columns.ts';
import { arr, obj, str } from '../printers/fields.ts';
import { rfc1123z } from '../printers/time.ts';
import { DescribeWriter, writeEvents } from './writer.ts';

const SYSTEM_INFO: readonly [string, string][] = [
  ['Machine ID', 'machineID'],
  ['System UUID', 'systemUUID'],
  ['Boot ID', 'bootID'],
  ['Kernel Version', 'kernelVersion'],
  ['OS Image', 'osImage'],
  ['Operating System', 'operatingSystem'],
  ['Architecture', 'architecture'],
  ['Container Runtime Version', 'containerRuntimeVersion'],
  ['Kubelet Version', 'kubeletVersion'],
];

function writeResourceList(w: DescribeWriter, title: string, list: unknown): void {
  const map = obj(list);
  if (Object.keys(map).length === 0) return;
  w.line(0, `${title}:`);
  for (const key of Object.keys(map).sort()) w.line(1, `${key}:`, str(map[key]));
}

export function describeNode(node: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(node['spec']);
  const status = obj(node['status']);
  w.line(0, 'Name:', node.metadata.name ?? '');
  w.line(0, 'Roles:', nodeRoles(node));
  w.labels('', 'Labels', node.metadata.labels);
  w.annotations('', 'Annotations', node.metadata.annotations);
  w.line(0, 'CreationTimestamp:', rfc1123z(node.metadata.creationTimestamp));
  const taints = arr(spec['taints']).map((t) => `${str(t['key'])}${str(t['value']) ? `=${str(t['value'])}` : ''}:${str(t['effect'])}`);
  w.multiline('', 'Taints', taints);
  w.line(0, 'Unschedulable:', String(spec['unschedulable'] === true));
  const conditions = arr(status['conditions']);
  if (conditions.length > 0) {
    w.line(0, 'Conditions:');
    w.line(1, 'Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message');
    w.line(1, '----', '------', '-----------------', '------------------', '------', '-------');
    for (const c of conditions) {
      w.line(1, str(c['type']), str(c['status']), rfc1123z(c['lastHeartbeatTime']), rfc1123z(c['lastTransitionTime']), str(c['reason']), str(c['message']));
    }
  }
  const addresses = arr(status['addresses']);
  if (addresses.length > 0) {
    w.line(0, 'Addresses:');
    for (const a of addresses) w.line(1, `${str(a['type'])}:`, str(a['address']));
  }
  writeResourceList(w, 'Capacity', status['capacity']);
  writeResourceList(w, 'Allocatable', status['allocatable']);
  const info = obj(status['nodeInfo']);
  w.line(0, 'System Info:');
  for (const [title, field] of SYSTEM_INFO) w.line(1, `${title}:`, str(info[field]));
  if (str(spec['podCIDR'])) w.line(0, 'PodCIDR:', str(spec['podCIDR']));
  writeEvents(w, events, now);
  return w.toString();
}
