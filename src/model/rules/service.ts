// Service and Endpoints rules: ports the balancer can serve (named when there are several,
// unique), node ports in the NodePort range and only on NodePort Services, a cluster IP that is
// an IPv4 address or 'None', and ExternalName Services that name a DNS name.
import { checkIPv4 } from '../addresses.ts';
import { Cause, child, index } from '../causes.ts';
import { arrayAt, isUnset, numberAt, objectAt, stringAt, type JsonObject } from '../json.ts';
import { NODE_PORT_RANGE } from '../kinds/service.ts';
import { checkDns1123Subdomain } from '../names.ts';
import type { FieldCause } from '../types.ts';

/** Names required when there are several ports (they name the port in Endpoints and SRV records), and unique. */
function validatePortNames(ports: JsonObject[], path: string, causes: FieldCause[]): void {
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const name = stringAt(p.name);
    if (isUnset(p.name)) {
      if (ports.length > 1) causes.push(Cause.required(child(index(path, i), 'name')));
      return;
    }
    if (name === undefined) return;
    if (names.has(name)) causes.push(Cause.duplicate(child(index(path, i), 'name'), name));
    names.add(name);
  });
}

function objectsIn(list: unknown): JsonObject[] {
  return (arrayAt(list) ?? []).map((item) => objectAt(item) ?? {});
}

export function validateService(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec) ?? {};
  const type = stringAt(spec.type) ?? 'ClusterIP';
  const clusterIP = stringAt(spec.clusterIP) ?? '';
  const headless = clusterIP === 'None';
  const ports = objectsIn(spec.ports);

  if (type !== 'ExternalName' && !headless && ports.length === 0 && (spec.ports === undefined || Array.isArray(spec.ports))) {
    causes.push(Cause.required('spec.ports'));
  }
  validatePortNames(ports, 'spec.ports', causes);
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const pPath = index('spec.ports', i);
    const protocol = stringAt(p.protocol) ?? 'TCP';
    const port = numberAt(p.port);
    if (port !== undefined) {
      const id = `${port}/${protocol}`;
      if (seenPorts.has(id)) causes.push(Cause.duplicate(pPath, id));
      seenPorts.add(id);
    }
    const nodePort = numberAt(p.nodePort);
    if (nodePort !== undefined && nodePort !== 0) {
      if (type !== 'NodePort') {
        causes.push(Cause.forbidden(child(pPath, 'nodePort'), `may not be used when \`type\` is '${type}'`));
      } else if (nodePort < NODE_PORT_RANGE.min || nodePort > NODE_PORT_RANGE.max) {
        causes.push(
          Cause.invalid(
            child(pPath, 'nodePort'),
            nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
          ),
        );
      } else {
        const id = `${nodePort}/${protocol}`;
        if (seenNodePorts.has(id)) causes.push(Cause.duplicate(child(pPath, 'nodePort'), id));
        seenNodePorts.add(id);
      }
    }
  });

  if (clusterIP !== '' && !headless && checkIPv4(clusterIP) !== null) {
    causes.push(Cause.invalid('spec.clusterIP', clusterIP, "must be a valid IPv4 address or 'None'"));
  }
  const clusterIPs = arrayAt(spec.clusterIPs) ?? [];
  if (clusterIPs.length > 1) causes.push(Cause.invalid('spec.clusterIPs', clusterIPs, 'may hold one IPv4 address: bramble networks are IPv4 only'));
  const first = clusterIPs[0];
  if (typeof first === 'string' && first !== '') {
    if (first !== 'None' && checkIPv4(first) !== null) causes.push(Cause.invalid('spec.clusterIPs[0]', first, "must be a valid IPv4 address or 'None'"));
    if (clusterIP !== '' && first !== clusterIP) causes.push(Cause.invalid('spec.clusterIPs[0]', first, 'must match `clusterIP` when both are specified'));
  }

  // The timeout belongs to ClientIP affinity; with none it would be silently ignored.
  if (!isUnset(spec.sessionAffinityConfig) && (stringAt(spec.sessionAffinity) ?? 'None') !== 'ClientIP') {
    causes.push(Cause.invalid('spec.sessionAffinityConfig', spec.sessionAffinityConfig, 'must not be set when sessionAffinity is None'));
  }
  if (type === 'ExternalName' && stringAt(spec.sessionAffinity) === 'ClientIP') {
    causes.push(Cause.invalid('spec.sessionAffinity', 'ClientIP', "must be 'None' when `type` is 'ExternalName'"));
  }

  // Only traffic from outside (a NodePort) has an external policy; Kubernetes refuses it elsewhere.
  if (type !== 'NodePort' && !isUnset(spec.externalTrafficPolicy)) {
    causes.push(Cause.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  }
  if (type === 'NodePort' && headless) {
    causes.push(Cause.invalid('spec.clusterIP', clusterIP, "may not be set to 'None' for NodePort services"));
  }
  if (type === 'ExternalName') {
    const externalName = stringAt(spec.externalName);
    if (isUnset(spec.externalName)) {
      causes.push(Cause.required('spec.externalName'));
    } else if (externalName !== undefined) {
      // A trailing dot (fully qualified) is allowed, as Kubernetes allows it.
      const bad = checkDns1123Subdomain(externalName.endsWith('.') ? externalName.slice(0, -1) : externalName);
      if (bad) causes.push(Cause.invalid('spec.externalName', externalName, bad));
    }
    if (clusterIP !== '') causes.push(Cause.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
  }
}

export function validateEndpoints(o: JsonObject, causes: FieldCause[]): void {
  for (const [i, subset] of objectsIn(o.subsets).entries()) {
    const sPath = index('subsets', i);
    for (const list of ['addresses', 'notReadyAddresses']) {
      for (const [j, address] of objectsIn(subset[list]).entries()) {
        const ip = stringAt(address.ip);
        if (ip) {
          const bad = checkIPv4(ip);
          if (bad) causes.push(Cause.invalid(child(index(child(sPath, list), j), 'ip'), ip, bad));
        }
      }
    }
    validatePortNames(objectsIn(subset.ports), child(sPath, 'ports'), causes);
  }
}
