// Services in the resource API: cluster IPs and node ports given out with the Service itself.
export { CLIENT_IP_TIMEOUT_SECONDS_DEFAULT, CLUSTER_IP_PREFIX, NODE_PORT_PREFIX, ServiceAllocator } from './allocation.ts';
export type { AllocationOwner, ServiceAllocatorOptions } from './allocation.ts';
export { creationRevisions } from './creation.ts';
export { startAllocationRepair } from './repair-loop.ts';
export type { AllocationRepair, AllocationRepairOptions } from './repair-loop.ts';
export { Ipv4Range, SERVICE_NETWORK_DEFAULT } from './ranges.ts';
export type { ReservedAddress, ServiceNetworkConfig } from './ranges.ts';
