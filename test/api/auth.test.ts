// The API's access rule: loopback needs nothing; anyone else a bearer token: the join or admin
// token for everything, a stored token for what it allows.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { authenticate, isLoopback } from '../../src/api/auth.ts';
import { adminTokenFor } from '../../src/api/tokens.ts';
import type { TokenRegistry } from '../../src/api/tokens.ts';

function fake(remoteAddress: string, authorization?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: authorization ? { authorization } : {} } as unknown as IncomingMessage;
}

const registry = {
  lookup: async (token: string) => (token === 'brr_reader' ? { readOnly: true, created: '' } : token === 'bra_writer' ? { readOnly: false, created: '' } : null),
} as unknown as TokenRegistry;

describe('API access', () => {
  it('treats 127.0.0.0/8, ::1 and IPv4-mapped loopback as local', () => {
    for (const a of ['127.0.0.1', '127.0.0.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '192.168.77.2', '::ffff:10.0.0.1', '', undefined]) assert.equal(isLoopback(a), false, String(a));
  });

  it('lets loopback in without a token, and others only with a known token', async () => {
    const rule = { adminTokens: ['tok', adminTokenFor('tok')], registry };
    assert.equal(await authenticate(fake('127.0.0.1'), rule), 'admin');
    assert.equal(await authenticate(fake('10.0.0.9', 'Bearer tok'), rule), 'admin');
    assert.equal(await authenticate(fake('10.0.0.9', `Bearer ${adminTokenFor('tok')}`), rule), 'admin');
    assert.equal(await authenticate(fake('10.0.0.9', 'Bearer brr_reader'), rule), 'read');
    assert.equal(await authenticate(fake('10.0.0.9', 'Bearer bra_writer'), rule), 'admin');
    for (const header of [undefined, 'Bearer wrong', 'Basic dG9r', 'Bearer']) {
      assert.equal(await authenticate(fake('10.0.0.9', header), rule), null, String(header));
    }
  });

  it('derives the admin token from the join token, stably', () => {
    assert.equal(adminTokenFor('a'), adminTokenFor('a'));
    assert.notEqual(adminTokenFor('a'), adminTokenFor('b'));
    assert.match(adminTokenFor('a'), /^bra_[A-Za-z0-9_-]{40}$/);
  });
});
