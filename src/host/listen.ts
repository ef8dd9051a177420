// Opening the daemon's listening sockets, with errors that say which address and what to do.
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { BrambleError } from '../errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

export function listen(server: Server, addr: HostPort, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const hint =
        err.code === 'EADDRINUSE'
          ? 'another process uses it; stop it or pick another port'
          : err.code === 'EADDRNOTAVAIL'
            ? 'no interface of this machine has that address'
            : err.code === 'EACCES'
              ? 'ports below 1024 need root'
              : 'check the address';
      reject(new BrambleError('E_LISTEN', `cannot listen for the ${what} on ${addr.host}:${addr.port} (${err.code ?? err.message}): ${hint}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The URL others reach a listener at. A wildcard address is replaced by this machine's first
 *  non-loopback IPv4 address (or loopback when it has none). */
export function advertisedUrl(addr: HostPort): string {
  let host = addr.host;
  if (host === '0.0.0.0' || host === '::' || host === '') {
    host = '127.0.0.1';
    for (const list of Object.values(networkInterfaces())) {
      const found = list?.find((i) => i.family === 'IPv4' && !i.internal);
      if (found) {
        host = found.address;
        break;
      }
    }
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
}
