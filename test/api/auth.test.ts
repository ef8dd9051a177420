// The API's access rule: loopback needs nothing, anyone else the bearer token.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { authorize, isLoopback } from '../../src/api/auth.ts';

function fake(remoteAddress: string, authorization?: string) {
  const sent: { status?: number; body?: string } = {};
  const req = { socket: { remoteAddress }, headers: authorization ? { authorization } : {} } as unknown as IncomingMessage;
  const res = {
    writableEnded: false,
    destroyed: false,
    headersSent: false,
    setHeader() {},
    writeHead(status: number) {
      sent.status = status;
      return this;
    },
    end(body: string) {
      sent.body = body;
    },
  } as unknown as ServerResponse;
  return { req, res, sent };
}

describe('API access', () => {
  it('treats 127.0.0.0/8, ::1 and IPv4-mapped loopback as local', () => {
    for (const a of ['127.0.0.1', '127.0.0.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '192.168.77.2', '::ffff:10.0.0.1', '', undefined]) assert.equal(isLoopback(a), false, String(a));
  });

  it('lets loopback in without a token, and others only with the right one', () => {
    assert.equal(authorize(fake('127.0.0.1').req, fake('127.0.0.1').res, 'tok'), true);
    assert.equal(authorize(fake('10.0.0.9', 'Bearer tok').req, fake('10.0.0.9').res, 'tok'), true);
    for (const header of [undefined, 'Bearer wrong', 'Basic dG9r', 'Bearer']) {
      const f = fake('10.0.0.9', header);
      assert.equal(authorize(f.req, f.res, 'tok'), false, String(header));
      assert.equal(f.sent.status, 401);
      assert.match(f.sent.body ?? '', /Authorization: Bearer/);
    }
  });
});
