// `describe service` after kubectl's describeService: one Port/TargetPort/NodePort/Endpoints
// group per port, endpoints filtered to the port's name.

import type { KObject } from '../../model/index.ts';
import { formatEndpoints, loadBalancerAddresses } from '../printers/columns.ts';
import { arr, at, formatMap, num, obj, str, strs } from '../printers/fields.ts';
import { DescribeWriter, writeEvents, writeHeader } from './writer.ts';

export function describeService(svc: KObject, endpoints: KObject | undefined, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  const spec = obj(svc['spec']);
  writeHeader(w, svc, true);
  w.line(0, 'Selector:', formatMap(spec['selector']));
  const type = str(spec['type']) || 'ClusterIP';
  w.line(0, 'Type:', type);
  w.line(0, 'IP:', str(spec['clusterIP']) || '<none>');
  const clusterIps = strs(spec['clusterIPs']);
  if (clusterIps.length > 0) w.line(0, 'IPs:', clusterIps.join(','));
  const externalIps = strs(spec['externalIPs']);
  if (externalIps.length > 0) w.line(0, 'External IPs:', externalIps.join(','));
  const lb = loadBalancerAddresses(at(svc, 'status', 'loadBalancer'), true);
  if (lb !== '') w.line(0, 'LoadBalancer Ingress:', lb);
  if (type === 'ExternalName') w.line(0, 'External Name:', str(spec['externalName']));
  for (const port of arr(spec['ports'])) {
    const name = str(port['name']) || '<unset>';
    const protocol = str(port['protocol']) || 'TCP';
    w.line(0, 'Port:', name, `${num(port['port'])}/${protocol}`);
    // targetPort defaults to port; it may also be a container port's name.
    const target = port['targetPort'] === undefined ? String(num(port['port'])) : str(port['targetPort']);
    w.line(0, 'TargetPort:', `${target}/${protocol}`);
    if (num(port['nodePort']) !== 0) w.line(0, 'NodePort:', name, `${num(port['nodePort'])}/${protocol}`);
    if (type !== 'ExternalName') w.line(0, 'Endpoints:', endpoints === undefined ? '<none>' : formatEndpoints(endpoints, new Set([str(port['name'])])));
  }
  w.line(0, 'Session Affinity:', str(spec['sessionAffinity']) || 'None');
  // The balancer acts on both (src/proxy): `Local` keeps to the gateway's own endpoints.
  if (str(spec['externalTrafficPolicy']) !== '') w.line(0, 'External Traffic Policy:', str(spec['externalTrafficPolicy']));
  if (str(spec['internalTrafficPolicy']) !== '') w.line(0, 'Internal Traffic Policy:', str(spec['internalTrafficPolicy']));
  writeEvents(w, events, now);
  return w.toString();
}
