// undici's connection pool without the rest of the package: `import 'undici'` loads fetch,
// WebSocket, caches and more (about 7 MB of resident memory on x86_64, measured), of which a
// gateway daemon uses nothing. Same classes, same types, loaded from their own modules.
import type { Pool as UndiciPool, errors as undiciErrors } from 'undici';
import PoolModule from 'undici/lib/dispatcher/pool.js';
import errorsModule from 'undici/lib/core/errors.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';

// What undici's index does: give every dispatcher request(), stream(), pipeline() ...
Object.assign(Dispatcher.prototype, api);

export const Pool = PoolModule as typeof UndiciPool;
export type Pool = UndiciPool;
export const errors = errorsModule as typeof undiciErrors;
