// httpGet and tcpSocket probes over the gateway's own network (the pod's address is reachable
// through the bramble0 bridge). As in Kubernetes, HTTPS probes do not verify certificates, and
// a 200–399 answer is a success.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { NetworkProber, ProbeOutcome } from './ports.ts';

/** Bytes of an answer's body read before it is dropped (probes only need the status). */
const BODY_BYTES_MAX = 10 * 1024;

export const networkProber: NetworkProber = {
  httpGet({ scheme, host, port, path, headers, timeoutMs }) {
    return new Promise<ProbeOutcome>((resolve) => {
      const request = scheme === 'HTTPS' ? httpsRequest : httpRequest;
      const url = `${scheme.toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
      const req = request(url, { method: 'GET', headers: { 'user-agent': 'kube-probe/1.29', accept: '*/*', ...headers }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > BODY_BYTES_MAX) res.destroy();
        });
        res.on('close', () => undefined);
        const code = res.statusCode ?? 0;
        res.resume();
        resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      });
      req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded (timeout ${timeoutMs} ms)`)));
      req.on('error', (error) => resolve({ ok: false, message: error.message.startsWith('Get ') ? error.message : `Get "${url}": ${error.message}` }));
      req.end();
    });
  },
  tcpConnect({ host, port, timeoutMs }) {
    return new Promise<ProbeOutcome>((resolve) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok: true, message: '' });
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, message: `dial tcp ${host}:${port}: ${error.message}` });
      });
    });
  },
};
