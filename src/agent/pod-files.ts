// The files every pod container sees at /etc/hosts, /etc/resolv.conf and /etc/hostname, rendered
// the way kubelet renders them. Pure text functions; the agent writes them under the pod's
// directory and bind-mounts them.

import { CLUSTER_DNS_IP } from '../network/config.ts';

export const CLUSTER_DNS_DEFAULT = CLUSTER_DNS_IP;
export const CLUSTER_DOMAIN_DEFAULT = 'cluster.local';

export interface HostsInput {
  podIP: string;
  hostname: string;
  /** spec.subdomain: adds the pod's fully qualified name. */
  subdomain?: string;
  namespace: string;
  clusterDomain?: string;
  hostAliases?: { ip: string; hostnames?: string[] }[];
}

export function renderHosts(input: HostsInput): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (input.podIP !== '') {
    if (input.subdomain) {
      lines.push(`${input.podIP}\t${input.hostname}.${input.subdomain}.${input.namespace}.svc.${input.clusterDomain ?? CLUSTER_DOMAIN_DEFAULT}\t${input.hostname}`);
    } else {
      lines.push(`${input.podIP}\t${input.hostname}`);
    }
  }
  const aliases = (input.hostAliases ?? []).filter((a) => (a.hostnames ?? []).length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames!.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

/** Parses the nameserver, search/domain and options lines of a resolv.conf. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (word === 'search' || word === 'domain') out.searches = rest;
    else if (word === 'options') {
      for (const o of rest) {
        const [name, value] = o.split(':');
        out.options.push({ name: name!, ...(value !== undefined ? { value } : {}) });
      }
    }
  }
  return out;
}

export interface ResolvInput {
  dnsPolicy?: string;
  hostNetwork?: boolean;
  namespace: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  /** The gateway's own resolv.conf text (for dnsPolicy Default and host-network pods). */
  hostResolvConf: string;
  clusterDns?: string;
  clusterDomain?: string;
}

export function resolvFor(input: ResolvInput): ResolvConf {
  const policy = input.dnsPolicy ?? 'ClusterFirst';
  const domain = input.clusterDomain ?? CLUSTER_DOMAIN_DEFAULT;
  let base: ResolvConf;
  // A host-network pod with ClusterFirst gets the host's DNS, as in Kubernetes (it would need
  // ClusterFirstWithHostNet to use the cluster's).
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !input.hostNetwork);
  if (policy === 'None') base = { nameservers: [], searches: [], options: [] };
  else if (cluster) {
    base = {
      nameservers: [input.clusterDns ?? CLUSTER_DNS_DEFAULT],
      searches: [`${input.namespace}.svc.${domain}`, `svc.${domain}`, domain],
      options: [{ name: 'ndots', value: '5' }],
    };
  } else base = parseResolvConf(input.hostResolvConf);
  const extra = input.dnsConfig ?? {};
  const nameservers = [...base.nameservers, ...(extra.nameservers ?? [])].filter((v, i, a) => a.indexOf(v) === i).slice(0, 3);
  const searches = [...base.searches, ...(extra.searches ?? [])].filter((v, i, a) => a.indexOf(v) === i).slice(0, 32);
  const options = [...base.options];
  for (const o of extra.options ?? []) {
    const at = options.findIndex((x) => x.name === o.name);
    if (at >= 0) options[at] = o;
    else options.push(o);
  }
  return { nameservers, searches, options };
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  if (conf.searches.length > 0) lines.push(`search ${conf.searches.join(' ')}`);
  for (const ns of conf.nameservers) lines.push(`nameserver ${ns}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.map((o) => (o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name)).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The pod's hostname: spec.hostname or its name, cut to a DNS label's 63 characters. */
export function podHostname(name: string, specHostname: string | undefined): string {
  return (specHostname || name).slice(0, 63).replace(/[-.]+$/, '');
}
