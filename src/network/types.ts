// CNI result and configuration shapes (spec 1.0.0; 0.4.0 results have the same fields we read).

export interface CniInterface {
  name: string;
  mac?: string;
  /** Set for interfaces inside the container: the netns path. */
  sandbox?: string;
  mtu?: number;
}

export interface CniIpConfig {
  /** CIDR notation: "10.42.0.2/24". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: Record<string, unknown>;
}

/** One plugin's entry in a configuration list: at least `type`, anything else plugin-specific. */
export type PluginConfig = { type: string; capabilities?: Record<string, boolean> } & Record<string, unknown>;

/** A network configuration list (what a `.conflist` file holds). */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConfig[];
}

/** `runtimeConfig` values the runtime hands to plugins that declare the capability. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

export type CapabilityArgs = Readonly<Record<string, unknown>>;
