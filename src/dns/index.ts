// The cluster DNS server (issue 7): Kubernetes DNS records for this gateway's replica, other names
// forwarded, cached and served stale. See server.ts for the sockets and handler.ts for the chain.
export type { DnsData } from './data.ts';
export { StaticDnsData } from './data.ts';
export type { DnsServer, DnsServerOptions, ListenAddress } from './server.ts';
export { startDnsServer } from './server.ts';
export { InformerDnsData } from './informer-data.ts';
export {
  CLUSTER_DNS_ADDRESS,
  CLUSTER_POD_NETWORK,
  DEFAULT_CLUSTER_DOMAIN,
  defaultAllowFrom,
  DNS_FLAGS,
  parseClusterDomain,
  parseDnsAddr,
  parseDnsUpstreams,
  parseUpstream,
} from './options.ts';
