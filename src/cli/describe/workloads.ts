// `describe deployment|replicaset|daemonset`, after kubectl's describers of the apps group.

import type { KObject } from '../../model/index.ts';
import { arr, at, formatSelector, num, obj, str } from '../printers/fields.ts';
import { writePodTemplate } from './pod.ts';
import { DescribeWriter, writeEvents, writeHeader } from './writer.ts';

function writeConditions(w: DescribeWriter, conditions: unknown): void {
  const list = arr(conditions);
  if (list.length === 0) return;
  w.line(0, 'Conditions:');
  w.line(1, 'Type', 'Status', 'Reason');
  w.line(1, '----', '------', '------');
  for (const c of list) w.line(1, str(c['type']), str(c['status']), str(c['reason']));
}

export function describeDeployment(d: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(d['spec']);
  const status = obj(d['status']);
  writeHeader(w, d, true);
  w.line(0, 'Selector:', formatSelector(spec['selector']));
  const desired = num(spec['replicas'], 1);
  w.line(
    0,
    'Replicas:',
    `${desired} desired | ${num(status['updatedReplicas'])} updated | ${num(status['replicas'])} total | ${num(status['availableReplicas'])} available | ${num(status['unavailableReplicas'])} unavailable`,
  );
  const strategy = obj(spec['strategy']);
  const type = str(strategy['type']) || 'RollingUpdate';
  w.line(0, 'StrategyType:', type);
  w.line(0, 'MinReadySeconds:', String(num(spec['minReadySeconds'])));
  if (type === 'RollingUpdate') {
    const rolling = obj(strategy['rollingUpdate']);
    w.line(0, 'RollingUpdateStrategy:', `${str(rolling['maxUnavailable']) || '25%'} max unavailable, ${str(rolling['maxSurge']) || '25%'} max surge`);
  }
  writePodTemplate(w, spec['template']);
  writeConditions(w, status['conditions']);
  writeEvents(w, events, now);
  return w.toString();
}

export function describeReplicaSet(rs: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(rs['spec']);
  const status = obj(rs['status']);
  writeHeader(w, rs, true);
  w.line(0, 'Selector:', formatSelector(spec['selector']));
  const controller = (rs.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  if (controller !== undefined) w.line(0, 'Controlled By:', `${controller.kind}/${controller.name}`);
  w.line(0, 'Replicas:', `${num(status['replicas'])} current / ${num(spec['replicas'], 1)} desired`);
  w.line(0, 'Pods Status:', `${num(status['readyReplicas'])} Ready / ${num(status['availableReplicas'])} Available`);
  writePodTemplate(w, spec['template']);
  writeConditions(w, status['conditions']);
  writeEvents(w, events, now);
  return w.toString();
}

export function describeDaemonSet(ds: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(ds['spec']);
  const status = obj(ds['status']);
  writeHeader(w, ds, true);
  w.line(0, 'Selector:', formatSelector(spec['selector']));
  const nodeSelector = obj(at(spec, 'template', 'spec', 'nodeSelector'));
  w.line(0, 'Node-Selector:', Object.keys(nodeSelector).length === 0 ? '<none>' : Object.entries(nodeSelector).map(([k, v]) => `${k}=${str(v)}`).join(','));
  w.line(0, 'Desired Number of Nodes Scheduled:', String(num(status['desiredNumberScheduled'])));
  w.line(0, 'Current Number of Nodes Scheduled:', String(num(status['currentNumberScheduled'])));
  w.line(0, 'Number of Nodes Scheduled with Up-to-date Pods:', String(num(status['updatedNumberScheduled'])));
  w.line(0, 'Number of Nodes Scheduled with Available Pods:', String(num(status['numberAvailable'])));
  w.line(0, 'Number of Nodes Misscheduled:', String(num(status['numberMisscheduled'])));
  w.line(0, 'Pods Status:', `${num(status['numberReady'])} Running / ${num(status['numberUnavailable'])} Unavailable`);
  writePodTemplate(w, spec['template']);
  writeEvents(w, events, now);
  return w.toString();
}
