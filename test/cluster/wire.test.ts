// The peer wire format: exact round trips, and that every kind of bad body — random bytes,
// truncation at any byte, lies about lengths and counts, values out of range — is refused with
// a WireError naming the field, never another exception and never a partial result.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  assembleBatch,
  decodeBatch,
  decodeSnapshotHeader,
  encodeBatch,
  encodedMessageBytes,
  encodeMessage,
  encodeSnapshotHeader,
  PEER_MESSAGE_TYPES,
  WireError,
} from '../../src/cluster/wire.ts';
import { message, type Entry, type Message } from '../../src/raft/types.ts';

const HEADER = { clusterId: 'cluster-7f3a', from: 'n1' };

function entries(first: number, count: number, term: number, bytes: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    term,
    index: first + i,
    type: i % 7 === 3 ? 'conf' : 'normal',
    data: new Uint8Array(randomBytes(bytes)),
  }));
}

function sample(): Message[] {
  return [
    message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 4, logTerm: 3, index: 10, commit: 9, entries: entries(11, 5, 4, 100) }),
    message({ type: 'MsgAppResp', to: 'n1', from: 'n2', term: 4, index: 15, reject: true, rejectHint: 12, logTerm: 3 }),
    message({ type: 'MsgVote', to: 'n3', from: 'n1', term: 2 ** 53 - 1, logTerm: 7, index: 2 ** 40, context: 'transfer' }),
    message({ type: 'MsgHeartbeat', to: 'n2', from: 'n1', term: 4, commit: 15, context: 'read-ünïcødé-✓' }),
    message({ type: 'MsgReadIndex', to: 'n1', from: 'nöde-3', context: 'r42' }),
    message({
      type: 'MsgSnap',
      to: 'n4',
      from: 'n1',
      term: 4,
      snapshot: { metadata: { index: 100, term: 3, confState: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } }, data: new Uint8Array([1, 2, 3]) },
    }),
    message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 4, logTerm: 4, index: 15, commit: 15 }),
  ];
}

/** Asserts that decoding throws a WireError (and nothing else) whose message matches. */
function refuses(body: Uint8Array, pattern?: RegExp): WireError {
  let thrown: unknown;
  try {
    decodeBatch(body);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof WireError, `expected a WireError, got ${String(thrown)}`);
  assert.equal(thrown.code, 'E_PEER_WIRE');
  if (pattern !== undefined) assert.match(thrown.message, pattern);
  return thrown;
}

/** A valid one-message batch with the message's bytes patched by `edit` at the given offset. */
function patched(m: Message, edit: (buf: Buffer, messageStart: number) => void): Buffer {
  const body = encodeBatch(HEADER, [m]);
  const messageStart = body.length - encodedMessageBytes(m);
  edit(body, messageStart);
  return body;
}

describe('wire: round trip', () => {
  test('every field of every kind of message survives encode and decode', () => {
    const messages = sample();
    const decoded = decodeBatch(encodeBatch(HEADER, messages));
    assert.equal(decoded.clusterId, HEADER.clusterId);
    assert.equal(decoded.from, HEADER.from);
    assert.deepEqual(decoded.messages, messages);
  });

  test('encodedMessageBytes is exact, and assembleBatch of encodeMessage equals encodeBatch', () => {
    const messages = sample();
    for (const m of messages) assert.equal(encodeMessage(m).length, encodedMessageBytes(m));
    assert.deepEqual(assembleBatch(HEADER, messages.map(encodeMessage)), encodeBatch(HEADER, messages));
  });

  test('an empty batch is valid', () => {
    assert.deepEqual(decodeBatch(encodeBatch(HEADER, [])), { ...HEADER, messages: [] });
  });

  test('decoded entry data is a copy: changing the body afterwards changes no entry', () => {
    const m = message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 1, index: 0, entries: entries(1, 3, 1, 8) });
    const body = encodeBatch(HEADER, [m]);
    const decoded = decodeBatch(body);
    body.fill(0);
    assert.deepEqual(decoded.messages[0]!.entries, m.entries);
  });

  test('every peer message type has a code, and only those', () => {
    for (const type of PEER_MESSAGE_TYPES) {
      const m = type === 'MsgSnap' ? sample()[5]! : message({ type, to: 'n2', from: 'n1' });
      assert.equal(decodeBatch(encodeBatch(HEADER, [m])).messages[0]!.type, type);
    }
    for (const local of ['MsgHup', 'MsgBeat', 'MsgCheckQuorum', 'MsgUnreachable', 'MsgSnapStatus'] as const) {
      assert.throws(() => encodeBatch(HEADER, [message({ type: local, to: 'n2', from: 'n1' })]), /not sent between peers/);
    }
  });

  test('the encoder refuses what it could not represent', () => {
    const base = { type: 'MsgHeartbeat' as const, to: 'n2', from: 'n1' };
    assert.throws(() => encodeBatch(HEADER, [message({ ...base, term: -1 })]), /term is -1/);
    assert.throws(() => encodeBatch(HEADER, [message({ ...base, term: 2 ** 53 })]), /not a non-negative safe integer/);
    assert.throws(() => encodeBatch(HEADER, [message({ ...base, commit: 1.5 })]), /commit/);
    assert.throws(() => encodeBatch(HEADER, [message({ ...base, to: '' })]), /message.to is empty/);
    assert.throws(() => encodeBatch(HEADER, [message({ ...base, from: 'x'.repeat(257) })]), /257 bytes/);
    assert.throws(() => encodeBatch({ clusterId: '', from: 'n1' }, []), /clusterId is empty/);
  });

  test('the snapshot header carries the message without its data, and only a MsgSnap', () => {
    const snap = sample()[5]!;
    const decoded = decodeSnapshotHeader(encodeSnapshotHeader(HEADER, snap));
    assert.equal(decoded.clusterId, HEADER.clusterId);
    assert.deepEqual(decoded.message, { ...snap, snapshot: { ...snap.snapshot!, data: new Uint8Array(0) } });
    assert.throws(() => decodeSnapshotHeader(undefined), /missing/);
    assert.throws(() => decodeSnapshotHeader('not base64!'), /not base64/);
    assert.throws(() => decodeSnapshotHeader(encodeBatch(HEADER, [sample()[1]!]).toString('base64')), /expected a MsgSnap/);
    assert.throws(() => decodeSnapshotHeader(encodeBatch(HEADER, [snap]).toString('base64')), /data belongs in the body/);
    assert.throws(() => decodeSnapshotHeader(encodeBatch(HEADER, []).toString('base64')), /exactly 1/);
  });
});

describe('wire: refusals', () => {
  test('random bytes never decode and never throw anything but WireError', () => {
    for (let i = 0; i < 2000; i++) refuses(randomBytes(i % 300));
  });

  test('random bytes after a valid prefix are refused', () => {
    const prefix = encodeBatch(HEADER, []).subarray(0, 5);
    for (let i = 0; i < 2000; i++) refuses(Buffer.concat([prefix, randomBytes(1 + (i % 400))]));
  });

  test('a batch truncated at any byte is refused', () => {
    const body = encodeBatch(HEADER, sample());
    for (let length = 0; length < body.length; length++) refuses(body.subarray(0, length));
  });

  test('single flipped bytes give a valid batch or a WireError, never a crash', () => {
    const body = encodeBatch(HEADER, sample());
    for (let i = 0; i < body.length; i++) {
      for (const value of [0x00, 0xff, body[i]! ^ 0x01]) {
        const copy = Buffer.from(body);
        copy[i] = value;
        try {
          decodeBatch(copy);
        } catch (error) {
          assert.ok(error instanceof WireError, `byte ${i} = ${value}: ${String(error)}`);
        }
      }
    }
  });

  test('trailing bytes, a wrong magic and a newer version are refused', () => {
    const body = encodeBatch(HEADER, sample());
    refuses(Buffer.concat([body, Buffer.from([0])]), /1 bytes after the last message/);
    refuses(Buffer.concat([Buffer.from('JSON'), body.subarray(4)]), /not a bramble peer batch/);
    const newer = Buffer.from(body);
    newer[4] = 2;
    refuses(newer, /version is 2; this node speaks version 1/);
  });

  test('a count larger than the body could hold is refused before any allocation', () => {
    const body = encodeBatch(HEADER, []);
    body.writeUInt32BE(0xffffffff, body.length - 4);
    refuses(body, /says 4294967295 messages/);
  });

  test('an unknown message type code is refused', () => {
    const m = message({ type: 'MsgHeartbeat', to: 'n2', from: 'n1' });
    refuses(patched(m, (buf, at) => (buf[at] = PEER_MESSAGE_TYPES.length)), /messages\[0\]\.type code 13 is not a peer message type/);
  });

  test('an integer above 2^53-1 is refused', () => {
    const m = message({ type: 'MsgHeartbeat', to: 'n2', from: 'n1', term: 1 });
    // type(1) to(2+2) from(2+2) then term's high word.
    refuses(patched(m, (buf, at) => buf.writeUInt32BE(0x00200000, at + 9)), /messages\[0\]\.term is larger than 2\^53-1/);
  });

  test('an unknown entry type and unknown flag bits are refused', () => {
    const m = message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 1, index: 0, entries: entries(1, 1, 1, 4) });
    const entryTypeAt = (at: number) => at + encodedMessageBytes(m) - 4 - 4 - 1;
    refuses(patched(m, (buf, at) => (buf[entryTypeAt(at)] = 2)), /entries\[0\]\.type code 2 is not an entry type/);
    const flagsAt = 1 + 4 + 4 + 40;
    refuses(patched(m, (buf, at) => (buf[at + flagsAt] = 0x80)), /flags has unknown bits/);
  });

  test('empty ids, over-long strings and invalid UTF-8 are refused', () => {
    refuses(Buffer.concat([Buffer.from('BRMB'), Buffer.from([1, 0, 0])]), /batch\.clusterId is empty/);
    const long = Buffer.alloc(2 + 300, 0x61);
    long.writeUInt16BE(300, 0);
    refuses(Buffer.concat([Buffer.from('BRMB'), Buffer.from([1]), long]), /clusterId is 300 bytes, more than 256/);
    const bad = Buffer.from([0, 2, 0xc3, 0x28]);
    refuses(Buffer.concat([Buffer.from('BRMB'), Buffer.from([1]), bad]), /not valid UTF-8/);
  });

  test('entries only on MsgApp, contiguous after message.index, with sane terms', () => {
    const hb = message({ type: 'MsgHeartbeat', to: 'n2', from: 'n1', term: 3 });
    const withEntries = Buffer.concat([encodeBatch(HEADER, [hb]).subarray(0, -4), Buffer.from([0, 0, 0, 1]), entryBytes(3, 1, 0)]);
    refuses(withEntries, /only MsgApp carries entries/);

    const app = (fields: Partial<Message>) => encodeBatch(HEADER, [message({ type: 'MsgApp', to: 'n2', from: 'n1', ...fields })]);
    refuses(app({ term: 3, index: 10, entries: [entry(3, 12)] }), /entries\[0\]\.index is 12, expected 11/);
    refuses(app({ term: 3, index: 10, entries: [entry(3, 11), entry(3, 11)] }), /entries\[1\]\.index is 11, expected 12/);
    refuses(app({ term: 3, index: 10, logTerm: 3, entries: [entry(2, 11)] }), /entries\[0\]\.term is 2, lower than the term 3/);
    refuses(app({ term: 3, index: 10, entries: [entry(4, 11)] }), /higher than the message term 3/);
  });

  test('a snapshot only on MsgSnap, and a MsgSnap only with one', () => {
    const snap = sample()[5]!;
    refuses(patched(snap, (buf, at) => (buf[at] = PEER_MESSAGE_TYPES.indexOf('MsgApp'))), /only MsgSnap carries one/);
    const asHeartbeat = patched(message({ type: 'MsgHeartbeat', to: 'n2', from: 'n1' }), (buf, at) => (buf[at] = PEER_MESSAGE_TYPES.indexOf('MsgSnap')));
    refuses(asHeartbeat, /a MsgSnap must carry one/);
  });

  test('a body over the limit is refused before parsing', () => {
    const body = encodeBatch(HEADER, sample());
    assert.throws(() => decodeBatch(body, { batchBytesMax: body.length - 1 }), (e: unknown) => e instanceof WireError && /more than the limit/.test(e.message));
    assert.equal(decodeBatch(body, { batchBytesMax: body.length }).messages.length, sample().length);
  });
});

describe('wire: speed', () => {
  test('encode and decode 10,000 entries of 256 bytes', (t) => {
    const all = entries(101, 10_000, 5, 256);
    // As Raft would send them: MsgApps of ~256 KiB each (its maxSizePerMsg is 1 MiB).
    const messages: Message[] = [];
    for (let k = 0; k < 10; k++) {
      const part = all.slice(k * 1000, (k + 1) * 1000);
      messages.push(message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 5, logTerm: 5, index: 100 + k * 1000, commit: 99, entries: part }));
    }
    const encodeMs: number[] = [];
    const decodeMs: number[] = [];
    let bytes = 0;
    for (let run = 0; run < 20; run++) {
      const t0 = performance.now();
      const body = encodeBatch(HEADER, messages);
      const t1 = performance.now();
      const decoded = decodeBatch(body);
      const t2 = performance.now();
      assert.equal(decoded.messages.length, 10);
      bytes = body.length;
      encodeMs.push(t1 - t0);
      decodeMs.push(t2 - t1);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    t.diagnostic(`10,000 × 256 B entries, ${bytes} B body: encode ${median(encodeMs).toFixed(2)} ms, decode ${median(decodeMs).toFixed(2)} ms (median of 20)`);
    // Generous: the point is "milliseconds, not a second"; the real figure is in the diagnostic.
    assert.ok(median(encodeMs) + median(decodeMs) < 250);
  });
});

function entry(term: number, index: number): Entry {
  return { term, index, type: 'normal', data: new Uint8Array([1]) };
}

function entryBytes(term: number, index: number, type: number): Buffer {
  const buf = Buffer.alloc(21);
  buf.writeUInt32BE(term, 4);
  buf.writeUInt32BE(index, 12);
  buf[16] = type;
  return buf;
}
