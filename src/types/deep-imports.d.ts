// Deep imports of packages whose index loads far more than we use (undici, systeminformation):
// typed here through the packages' public types.
declare module 'undici/lib/dispatcher/pool.js' {
  const Pool: unknown;
  export default Pool;
}
declare module 'undici/lib/core/errors.js' {
  const errors: unknown;
  export default errors;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const Dispatcher: { prototype: object };
  export default Dispatcher;
}
declare module 'undici/lib/api/index.js' {
  const api: object;
  export default api;
}
// systeminformation's own modules (see src/host/detect.ts), typed through the package's types.
declare module 'systeminformation/lib/system.js' {
  const system: { system: typeof import('systeminformation').system };
  export default system;
}
declare module 'systeminformation/lib/cpu.js' {
  const cpu: { cpu: typeof import('systeminformation').cpu };
  export default cpu;
}
