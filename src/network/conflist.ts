// Network configuration list semantics, as libcni implements them:
//   ADD   plugins in order; each gets the list's name and cniVersion, and the previous plugin's
//         result as prevResult; the last result is the list's result.
//   DEL   plugins in reverse order, each with prevResult = the cached ADD result (if any).
//   CHECK plugins in order, each with prevResult = the cached ADD result.
// Capabilities: a plugin that declares `capabilities: {X: true}` receives runtimeConfig.X when
// the runtime supplies X (portMappings for portmap); other plugins never see it.
import { CniError, type CniCommand } from './errors.ts';
import { execPlugin, parseResult, type PluginCall } from './plugin.ts';
import type { CapabilityArgs, CniResult, NetworkConfigList, PluginConfig } from './types.ts';

export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  args?: Readonly<Record<string, string>>;
  capabilityArgs?: CapabilityArgs;
}

export interface InvokeOptions {
  cniPath?: string;
  timeoutMs?: number;
  hostNetns?: string;
}

/** The exact JSON one plugin of the list gets on stdin. Exported for tests. */
export function buildPluginConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  prevResult: CniResult | undefined,
  capabilityArgs: CapabilityArgs | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  delete config['prevResult'];
  delete config['runtimeConfig'];
  if (prevResult !== undefined) config['prevResult'] = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(plugin.capabilities ?? {})) {
    if (enabled && capabilityArgs !== undefined && capabilityArgs[capability] !== undefined) {
      runtimeConfig[capability] = capabilityArgs[capability];
    }
  }
  if (Object.keys(runtimeConfig).length > 0) config['runtimeConfig'] = runtimeConfig;
  return config;
}

function call(command: CniCommand, list: NetworkConfigList, config: Record<string, unknown>, rt: RuntimeConf, options: InvokeOptions): PluginCall {
  return {
    command,
    config,
    containerId: rt.containerId,
    netns: rt.netns,
    ifName: rt.ifName,
    network: list.name,
    ...(rt.args === undefined ? {} : { args: rt.args }),
    ...(options.cniPath === undefined ? {} : { cniPath: options.cniPath }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.hostNetns === undefined ? {} : { hostNetns: options.hostNetns }),
  };
}

function validateList(list: NetworkConfigList, command: CniCommand): void {
  if (list.plugins.length === 0) {
    throw new CniError(`network "${list.name}" has no plugins: a configuration list needs at least one`, { plugin: '', command, network: list.name });
  }
}

export async function addNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: InvokeOptions = {}): Promise<CniResult> {
  validateList(list, 'ADD');
  let prevResult: CniResult | undefined;
  for (const plugin of list.plugins) {
    const config = buildPluginConfig(list, plugin, prevResult, rt.capabilityArgs);
    const { stdout } = await execPlugin(call('ADD', list, config, rt, options));
    prevResult = parseResult(stdout, plugin.type, 'ADD');
  }
  return prevResult as CniResult;
}

export async function delNetworkList(list: NetworkConfigList, rt: RuntimeConf, cachedResult: CniResult | undefined, options: InvokeOptions = {}): Promise<void> {
  validateList(list, 'DEL');
  for (const plugin of [...list.plugins].reverse()) {
    const config = buildPluginConfig(list, plugin, cachedResult, rt.capabilityArgs);
    await execPlugin(call('DEL', list, config, rt, options));
  }
}

export async function checkNetworkList(list: NetworkConfigList, rt: RuntimeConf, cachedResult: CniResult, options: InvokeOptions = {}): Promise<void> {
  validateList(list, 'CHECK');
  if (list.disableCheck === true) return;
  const major = Number.parseInt(list.cniVersion, 10);
  const minor = Number.parseInt(list.cniVersion.split('.')[1] ?? '0', 10);
  if (major === 0 && minor < 4) {
    throw new CniError(`network "${list.name}" uses cniVersion ${list.cniVersion}; CHECK needs 0.4.0 or later`, { plugin: '', command: 'CHECK', network: list.name });
  }
  for (const plugin of list.plugins) {
    const config = buildPluginConfig(list, plugin, cachedResult, rt.capabilityArgs);
    await execPlugin(call('CHECK', list, config, rt, options));
  }
}
