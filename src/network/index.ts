// Pod networking through the distribution's CNI plugins: named netns per pod, the bramble0
// bridge with host-local IPAM, portmap for hostPort, loopback; ADD results cached on disk.
export { ResultCache } from './cache.ts';
export type { CacheEntry, PodRef } from './cache.ts';
export { KeyedMutex, Semaphore } from './concurrency.ts';
export { CNI_VERSION, DEFAULT_BRIDGE, DEFAULT_NETWORK_NAME, DEFAULT_POD_CIDR, parseIpv4Cidr, podNetworkConfigList } from './config.ts';
export type { Ipv4Cidr, PodNetworkConfigOptions } from './config.ts';
export { addNetworkList, buildPluginConfig, checkNetworkList, delNetworkList } from './conflist.ts';
export type { InvokeOptions, RuntimeConf } from './conflist.ts';
export { CniError, cniCodeName, NetnsError, NetworkConfigError, NotAttachedError } from './errors.ts';
export type { CniCommand, CniErrorDetails } from './errors.ts';
export { ipMasqChainName } from './ipmasq.ts';
export { createPodNetns, isNetnsMounted, NETNS_RUN_DIR, netnsIdentity, netnsPath, pinPodNetns, podNetnsName, removePodNetns } from './netns.ts';
export { DEFAULT_CNI_PATH, DEFAULT_PLUGIN_TIMEOUT_MS, execPlugin, findPlugin, parseResult, pluginVersions } from './plugin.ts';
export type { PluginCall, PluginOutput } from './plugin.ts';
export { POD_IFNAME, PodNetwork, podAddress } from './pod-network.ts';
export type { PodAttachment, PodNetworkEntry, PodNetworkOptions, PodNetworkRequest } from './pod-network.ts';
export type { CapabilityArgs, CniInterface, CniIpConfig, CniResult, CniRoute, NetworkConfigList, PluginConfig, PortMapping } from './types.ts';
