// Ingress rules: something to route (rules or a default backend), host names that are DNS names
// (with an optional leading wildcard), absolute paths for Exact and Prefix matches, and Service
// backends that name exactly one port.
import { isIP } from 'node:net';
import { Cause, child, index } from '../causes.ts';
import { arrayAt, isUnset, objectAt, stringAt, type JsonObject } from '../json.ts';
import { checkDns1035Label, checkDns1123Subdomain } from '../names.ts';
import type { FieldCause } from '../types.ts';

/** `foo.example.com` or `*.example.com`; never an IP address (routing is by Host header). */
function checkHost(host: string): string | null {
  if (isIP(host) !== 0) return 'must be a DNS name, not an IP address';
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.includes('*')) return "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain";
  return checkDns1123Subdomain(name);
}

function validateBackend(backend: JsonObject, path: string, causes: FieldCause[]): void {
  const service = objectAt(backend.service);
  if (backend.service === undefined && backend.resource === undefined) {
    causes.push(Cause.required(child(path, 'service'), 'a backend must name a Service'));
  }
  if (!service) return;
  const name = stringAt(service.name);
  if (name) {
    const bad = checkDns1035Label(name);
    if (bad) causes.push(Cause.invalid(child(path, 'service.name'), name, bad));
  }
  const port = objectAt(service.port);
  const portPath = child(path, 'service.port');
  if (service.port === undefined || (port && isUnset(port.name) && port.number === undefined)) {
    causes.push(Cause.required(portPath, 'port name or number is required'));
  } else if (port && !isUnset(port.name) && port.number !== undefined) {
    causes.push(Cause.invalid(portPath, port, 'cannot set both port name & port number'));
  }
}

export function validateIngress(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec) ?? {};
  const rules = arrayAt(spec.rules) ?? [];
  const defaultBackend = objectAt(spec.defaultBackend);
  if (!defaultBackend && rules.length === 0 && (spec.rules === undefined || Array.isArray(spec.rules))) {
    causes.push(Cause.invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (defaultBackend) validateBackend(defaultBackend, 'spec.defaultBackend', causes);
  const className = stringAt(spec.ingressClassName);
  if (className) {
    const bad = checkDns1123Subdomain(className);
    if (bad) causes.push(Cause.invalid('spec.ingressClassName', className, bad));
  }

  for (const [i, item] of rules.entries()) {
    const rule = objectAt(item);
    if (!rule) continue;
    const rPath = index('spec.rules', i);
    const host = stringAt(rule.host);
    if (host) {
      const bad = checkHost(host);
      if (bad) causes.push(Cause.invalid(child(rPath, 'host'), host, bad));
    }
    for (const [j, p] of (arrayAt(objectAt(rule.http)?.paths) ?? []).entries()) {
      const httpPath = objectAt(p);
      if (!httpPath) continue;
      const pPath = index(child(rPath, 'http.paths'), j);
      const pathType = httpPath.pathType;
      const value = stringAt(httpPath.path) ?? '';
      if ((pathType === 'Exact' || pathType === 'Prefix') && !value.startsWith('/')) {
        causes.push(Cause.invalid(child(pPath, 'path'), value, 'must be an absolute path'));
      }
      const backend = objectAt(httpPath.backend);
      if (backend) validateBackend(backend, child(pPath, 'backend'), causes);
    }
  }

  for (const [i, item] of (arrayAt(spec.tls) ?? []).entries()) {
    const tls = objectAt(item);
    if (!tls) continue;
    for (const [j, h] of (arrayAt(tls.hosts) ?? []).entries()) {
      if (typeof h !== 'string') continue;
      const bad = checkHost(h);
      if (bad) causes.push(Cause.invalid(index(child(index('spec.tls', i), 'hosts'), j), h, bad));
    }
    const secretName = stringAt(tls.secretName);
    if (secretName) {
      const bad = checkDns1123Subdomain(secretName);
      if (bad) causes.push(Cause.invalid(child(index('spec.tls', i), 'secretName'), secretName, bad));
    }
  }
}
