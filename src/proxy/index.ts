// The L4 balancer for Service IPs and NodePorts (kube-proxy's userspace mode), run on every
// gateway from its own replica.
export { AddressError, inServiceRange, IpAddressManager, LOOPBACK_LABEL, SERVICE_CIDR } from './addresses.ts';
export type { AddressManager, IpAddressManagerOptions } from './addresses.ts';
export { Balancer } from './balancer.ts';
export { informerProxyData } from './informer-data.ts';
export type { InformerProxyData } from './informer-data.ts';
export { startProxy } from './proxy.ts';
export type { ListenerState, Proxy, ProxyData, ProxyOptions } from './proxy.ts';
export { backendsFor, balancedClusterIP, planListeners } from './service-table.ts';
export type { Backend, ListenerSpec, ListenerPlan, Protocol, RouteSpec } from './service-table.ts';
