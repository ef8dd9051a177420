// The peer wire format: a batch of Raft messages as one HTTP body. Binary and length-prefixed
// rather than JSON because the hot path is thousands of small entries per second, and base64
// plus JSON parsing of every entry would cost more than the rest of the request.
//
// Layout (version 1), integers big-endian:
//
//   batch    := "BRMB" | version u8 (=1) | clusterId str | from str | count u32 | message*count
//   message  := type u8 | to str | from str | term u53 | logTerm u53 | index u53 | commit u53
//               | rejectHint u53 | flags u8 (bit 0 reject, bit 1 snapshot follows) | context str
//               | entryCount u32 | entry*entryCount | snapshot?
//   entry    := term u53 | index u53 | type u8 (0 normal, 1 conf) | dataBytes u32 | data
//   snapshot := index u53 | term u53 | voterCount u16 | str*voterCount
//               | learnerCount u16 | str*learnerCount | dataBytes u32 | data
//   str      := byteLength u16 | UTF-8 bytes
//   u53      := u64 whose top 11 bits are zero (a JavaScript safe integer)
//
// Everything a peer sends is untrusted: decodeBatch checks every length against the bytes that
// are really there and every value against its type before building anything, and the body must
// end exactly where the last message ends. A bad body throws one WireError naming the field;
// nothing half-decoded ever reaches Raft.
import { isUtf8 } from 'node:buffer';
import { BrambleError } from '../errors.ts';
import type { Entry, EntryType, Message, MessageType, NodeId, Snapshot } from '../raft/types.ts';

/** The Raft message types that travel between peers. Local ones (MsgHup, MsgBeat, ...) never do. */
export const PEER_MESSAGE_TYPES = [
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
  'MsgTransferLeader',
] as const satisfies readonly MessageType[];

export type PeerMessageType = (typeof PEER_MESSAGE_TYPES)[number];

// The wire code of a type is its position in PEER_MESSAGE_TYPES: append new types at the end.
const TYPE_CODES: ReadonlyMap<string, number> = new Map(PEER_MESSAGE_TYPES.map((type, code) => [type, code]));
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf'];

export function isPeerMessageType(type: string): type is PeerMessageType {
  return TYPE_CODES.has(type);
}

/** Where batches and snapshots go on a peer's address. */
export const MESSAGES_PATH = '/raft/messages';
export const SNAPSHOT_PATH = '/raft/snapshot';
/** Base64 of a one-message batch: the MsgSnap whose data is the body of SNAPSHOT_PATH. */
export const MESSAGE_HEADER = 'x-bramble-message';
/** A long-lived stream of batches: an HTTP/1.1 Upgrade on this path turns the connection into a
 *  one-way sequence of frames, each `length u32 | batch`, so a batch costs one write instead of
 *  an HTTP request and its answer (etcd keeps such streams between its peers too). */
export const STREAM_PATH = '/raft/stream';
export const STREAM_PROTOCOL = 'bramble-raft/1';
export const FRAME_HEADER_BYTES = 4;
/** The id of the member opening a stream (so the receiver knows that member is up). */
export const STREAM_FROM_HEADER = 'x-bramble-from';

export const WIRE_MAGIC = 'BRMB';
export const WIRE_VERSION = 1;
/** Default bound on one batch body, both when sending and when receiving. */
export const BATCH_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** Node ids and the cluster id: short, stable names. */
export const ID_BYTES_MAX = 256;
/** A read-index request id or 'transfer'. */
export const CONTEXT_BYTES_MAX = 1024;

const HEADER_FIXED_BYTES = 4 + 1 + 2 + 2 + 4;
// type, to, from, five u53, flags, context, entryCount
const MESSAGE_FIXED_BYTES = 1 + 2 + 2 + 5 * 8 + 1 + 2 + 4;
const ENTRY_FIXED_BYTES = 8 + 8 + 1 + 4;
const SNAPSHOT_FIXED_BYTES = 8 + 8 + 2 + 2 + 4;
const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const TWO_POW_32 = 2 ** 32;
// Top half of a u64 that still makes a safe integer: 2^53 - 1 = 0x1FFFFF_FFFFFFFF.
const U53_HIGH_MAX = 0x1fffff;

export interface BatchHeader {
  clusterId: string;
  from: NodeId;
}

export interface Batch extends BatchHeader {
  messages: Message[];
}

export interface DecodeOptions {
  /** Bodies longer than this are refused before any parsing. Default 64 MiB. */
  batchBytesMax?: number;
}

/** A peer sent a body that is not a valid batch. The message names the field and the offset. */
export class WireError extends BrambleError {
  constructor(message: string) {
    super('E_PEER_WIRE', message);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding. The encoder checks its input too: a message our own Raft core produced that cannot
// be encoded is a bug here or there, and failing loudly beats sending bytes the peer refuses.

/** Exact encoded size of one message, in bytes; throws on a message that cannot be encoded. */
export function encodedMessageBytes(m: Message): number {
  // The fixed part already counts the length prefixes of to, from and context.
  let bytes = MESSAGE_FIXED_BYTES + utf8Bytes(m.to) + utf8Bytes(m.from) + utf8Bytes(m.context);
  for (const e of m.entries) bytes += ENTRY_FIXED_BYTES + e.data.byteLength;
  if (m.snapshot !== null) {
    const s = m.snapshot;
    bytes += SNAPSHOT_FIXED_BYTES + s.data.byteLength;
    for (const id of s.metadata.confState.voters) bytes += stringBytes(id);
    for (const id of s.metadata.confState.learners) bytes += stringBytes(id);
  }
  return bytes;
}

/** Encoded size of a batch holding messages whose sizes sum to `messageBytes`. */
export function encodedBatchBytes(header: BatchHeader, messageBytes: number): number {
  return HEADER_FIXED_BYTES + utf8Bytes(header.clusterId) + utf8Bytes(header.from) + messageBytes;
}

export function encodeBatch(header: BatchHeader, messages: readonly Message[]): Buffer {
  checkId(header.clusterId, 'clusterId');
  checkId(header.from, 'from');
  let messageBytes = 0;
  for (const m of messages) messageBytes += encodedMessageBytes(m);
  const buf = Buffer.allocUnsafe(encodedBatchBytes(header, messageBytes));
  const w = new Writer(buf);
  w.raw(WIRE_MAGIC);
  w.u8(WIRE_VERSION);
  w.str(header.clusterId);
  w.str(header.from);
  w.u32(messages.length);
  for (const m of messages) writeMessage(w, m);
  if (w.pos !== buf.length) throw new Error(`wire: encoded ${w.pos} bytes but sized the batch at ${buf.length}: encoder bug`);
  return buf;
}

/** One message on its own, for a sender that queues encoded messages and joins them later
 *  with assembleBatch (so a bad message is refused alone, at send time, with its exact size). */
export function encodeMessage(m: Message): Buffer {
  const buf = Buffer.allocUnsafe(encodedMessageBytes(m));
  const w = new Writer(buf);
  writeMessage(w, m);
  if (w.pos !== buf.length) throw new Error(`wire: encoded ${w.pos} bytes but sized the message at ${buf.length}: encoder bug`);
  return buf;
}

/** A batch from messages already encoded by encodeMessage; the same bytes as encodeBatch. */
export function assembleBatch(header: BatchHeader, encoded: readonly Uint8Array[]): Buffer {
  return assemble(header, encoded, 0);
}

/** One frame of a stream: the batch's length (u32), then the batch. */
export function assembleFrame(header: BatchHeader, encoded: readonly Uint8Array[]): Buffer {
  return assemble(header, encoded, FRAME_HEADER_BYTES);
}

function assemble(header: BatchHeader, encoded: readonly Uint8Array[], prefix: number): Buffer {
  checkId(header.clusterId, 'clusterId');
  checkId(header.from, 'from');
  let messageBytes = 0;
  for (const part of encoded) messageBytes += part.byteLength;
  const batchBytes = encodedBatchBytes(header, messageBytes);
  const buf = Buffer.allocUnsafe(prefix + batchBytes);
  if (prefix > 0) buf.writeUInt32BE(batchBytes, 0);
  const w = new Writer(buf);
  w.pos = prefix;
  w.raw(WIRE_MAGIC);
  w.u8(WIRE_VERSION);
  w.str(header.clusterId);
  w.str(header.from);
  w.u32(encoded.length);
  for (const part of encoded) {
    buf.set(part, w.pos);
    w.pos += part.byteLength;
  }
  return buf;
}

function writeMessage(w: Writer, m: Message): void {
  const code = TYPE_CODES.get(m.type);
  if (code === undefined) throw new Error(`wire: message type ${String(m.type)} is not sent between peers`);
  checkId(m.to, 'message.to');
  checkId(m.from, 'message.from');
  checkString(m.context, CONTEXT_BYTES_MAX, 'message.context');
  w.u8(code);
  w.str(m.to);
  w.str(m.from);
  w.u53(m.term, 'message.term');
  w.u53(m.logTerm, 'message.logTerm');
  w.u53(m.index, 'message.index');
  w.u53(m.commit, 'message.commit');
  w.u53(m.rejectHint, 'message.rejectHint');
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== null ? FLAG_SNAPSHOT : 0));
  w.str(m.context);
  w.u32(m.entries.length);
  for (const e of m.entries) {
    w.u53(e.term, 'entry.term');
    w.u53(e.index, 'entry.index');
    const entryCode = ENTRY_TYPES.indexOf(e.type);
    if (entryCode < 0) throw new Error(`wire: entry type ${String(e.type)} is not 'normal' or 'conf'`);
    w.u8(entryCode);
    w.bytes(e.data);
  }
  if (m.snapshot !== null) writeSnapshot(w, m.snapshot);
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  w.u53(s.metadata.index, 'snapshot.index');
  w.u53(s.metadata.term, 'snapshot.term');
  writeIds(w, s.metadata.confState.voters, 'snapshot.voters');
  writeIds(w, s.metadata.confState.learners, 'snapshot.learners');
  w.bytes(s.data);
}

function writeIds(w: Writer, ids: readonly NodeId[], field: string): void {
  if (ids.length > 0xffff) throw new Error(`wire: ${field} has ${ids.length} members, more than 65535`);
  w.u16(ids.length);
  for (const id of ids) {
    checkId(id, field);
    w.str(id);
  }
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function stringBytes(s: string): number {
  return 2 + utf8Bytes(s);
}

function checkId(value: string, field: string): void {
  checkString(value, ID_BYTES_MAX, field);
  if (value.length === 0) throw new Error(`wire: ${field} is empty; every peer id must be a non-empty string`);
}

function checkString(value: string, bytesMax: number, field: string): void {
  if (typeof value !== 'string') throw new Error(`wire: ${field} is a ${typeof value}, not a string`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > bytesMax) throw new Error(`wire: ${field} is ${bytes} bytes, more than ${bytesMax}`);
}

class Writer {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  raw(ascii: string): void {
    this.pos += this.buf.write(ascii, this.pos, 'latin1');
  }
  u8(n: number): void {
    this.pos = this.buf.writeUInt8(n, this.pos);
  }
  u16(n: number): void {
    this.pos = this.buf.writeUInt16BE(n, this.pos);
  }
  u32(n: number): void {
    this.pos = this.buf.writeUInt32BE(n, this.pos);
  }
  u53(n: number, field: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`wire: ${field} is ${n}, not a non-negative safe integer`);
    this.buf.writeUInt32BE(Math.floor(n / TWO_POW_32), this.pos);
    this.pos = this.buf.writeUInt32BE(n % TWO_POW_32, this.pos + 4);
  }
  str(s: string): void {
    // The length is written after the text because only then is the UTF-8 byte count known
    // without encoding twice.
    const written = this.buf.write(s, this.pos + 2, 'utf8');
    this.buf.writeUInt16BE(written, this.pos);
    this.pos += 2 + written;
  }
  bytes(data: Uint8Array): void {
    this.u32(data.byteLength);
    this.buf.set(data, this.pos);
    this.pos += data.byteLength;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding.

export function decodeBatch(body: Uint8Array, options: DecodeOptions = {}): Batch {
  const bytesMax = options.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT;
  if (body.byteLength > bytesMax) {
    throw new WireError(`peer batch: body is ${body.byteLength} bytes, more than the limit of ${bytesMax}`);
  }
  const r = new Reader(body);
  if (r.take(4, 'magic').toString('latin1') !== WIRE_MAGIC) {
    throw r.fail('magic', `does not start with "${WIRE_MAGIC}": not a bramble peer batch`);
  }
  const version = r.u8('version');
  if (version !== WIRE_VERSION) {
    throw r.fail('version', `is ${version}; this node speaks version ${WIRE_VERSION} (upgrade the older node)`);
  }
  const clusterId = r.id('clusterId');
  const from = r.id('from');
  const count = r.u32('count');
  // Every message takes at least MESSAGE_FIXED_BYTES, so a count that cannot fit is a lie
  // caught before looping over it.
  if (count * MESSAGE_FIXED_BYTES > r.remaining()) {
    throw r.fail('count', `says ${count} messages but only ${r.remaining()} bytes follow`);
  }
  const messages: Message[] = new Array<Message>(count);
  for (let i = 0; i < count; i++) {
    r.message = i;
    messages[i] = readMessage(r);
  }
  r.message = -1;
  if (r.remaining() !== 0) throw r.fail('body', `has ${r.remaining()} bytes after the last message`);
  return { clusterId, from, messages };
}

function readMessage(r: Reader): Message {
  const code = r.u8('type');
  const type = PEER_MESSAGE_TYPES[code];
  if (type === undefined) throw r.fail('type', `code ${code} is not a peer message type`);
  const to = r.id('to');
  const from = r.id('from');
  const term = r.u53('term');
  const logTerm = r.u53('logTerm');
  const index = r.u53('index');
  const commit = r.u53('commit');
  const rejectHint = r.u53('rejectHint');
  const flags = r.u8('flags');
  if ((flags & ~(FLAG_REJECT | FLAG_SNAPSHOT)) !== 0) throw r.fail('flags', `has unknown bits set (0x${flags.toString(16)})`);
  const context = r.str(CONTEXT_BYTES_MAX, 'context');
  const entryCount = r.u32('entryCount');
  if (entryCount * ENTRY_FIXED_BYTES > r.remaining()) {
    throw r.fail('entryCount', `says ${entryCount} entries but only ${r.remaining()} bytes follow`);
  }
  if (entryCount > 0 && type !== 'MsgApp') throw r.fail('entryCount', `is ${entryCount}, but only MsgApp carries entries`);
  const entries: Entry[] = new Array<Entry>(entryCount);
  let previousTerm = logTerm;
  for (let j = 0; j < entryCount; j++) {
    r.entry = j;
    const entry = readEntry(r);
    // Raft's core treats a malformed append as a broken invariant and crashes; a peer must not
    // be able to do that, so the log shape an honest leader always sends is checked here.
    if (entry.index !== index + 1 + j) throw r.fail('index', `is ${entry.index}, expected ${index + 1 + j} (entries must follow message.index without gaps)`);
    if (entry.term < previousTerm) throw r.fail('term', `is ${entry.term}, lower than the term ${previousTerm} before it`);
    if (entry.term > term) throw r.fail('term', `is ${entry.term}, higher than the message term ${term}`);
    previousTerm = entry.term;
    entries[j] = entry;
  }
  r.entry = -1;
  copyEntryData(entries);
  let snapshot: Snapshot | null = null;
  if ((flags & FLAG_SNAPSHOT) !== 0) {
    if (type !== 'MsgSnap') throw r.fail('flags', `say a snapshot follows, but only MsgSnap carries one (type ${type})`);
    snapshot = readSnapshot(r);
  } else if (type === 'MsgSnap') {
    throw r.fail('flags', 'say no snapshot follows, but a MsgSnap must carry one');
  }
  return { type, to, from, term, logTerm, index, entries, commit, snapshot, reject: (flags & FLAG_REJECT) !== 0, rejectHint, context };
}

function readEntry(r: Reader): Entry {
  const term = r.u53('term');
  const index = r.u53('index');
  const typeCode = r.u8('type');
  const type = ENTRY_TYPES[typeCode];
  if (type === undefined) throw r.fail('type', `code ${typeCode} is not an entry type (0 normal, 1 conf)`);
  // A view into the body for now; copyEntryData replaces it once the message is complete.
  return { term, index, type, data: r.view('data') };
}

// Entries outlive the request (Raft keeps them until they are persisted, a cache may keep them
// longer), and a view would pin the whole body, up to 64 MiB, for as long as any one entry lives.
// One copy per message bounds what an entry pins to its own message (≤ Raft's maxSizePerMsg)
// and costs one allocation instead of one per entry.
function copyEntryData(entries: Entry[]): void {
  let total = 0;
  for (const e of entries) total += e.data.byteLength;
  if (total === 0) return;
  const copy = new Uint8Array(total);
  let offset = 0;
  for (const e of entries) {
    const length = e.data.byteLength;
    copy.set(e.data, offset);
    e.data = copy.subarray(offset, offset + length);
    offset += length;
  }
}

function readSnapshot(r: Reader): Snapshot {
  r.entry = -2;
  const index = r.u53('index');
  const term = r.u53('term');
  const voters = readIds(r, 'voters');
  const learners = readIds(r, 'learners');
  const data = r.data('data');
  r.entry = -1;
  return { metadata: { index, term, confState: { voters, learners } }, data };
}

function readIds(r: Reader, field: string): NodeId[] {
  const count = r.u16(`${field}.count`);
  const ids: NodeId[] = [];
  for (let k = 0; k < count; k++) ids.push(r.id(field));
  return ids;
}

class Reader {
  private pos = 0;
  /** Where we are, for error messages only: message index, entry index (-2 = snapshot). */
  message = -1;
  entry = -1;
  private readonly buf: Buffer;

  constructor(body: Uint8Array) {
    this.buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(field: string, problem: string): WireError {
    let path = 'batch';
    if (this.message >= 0) path = `messages[${this.message}]`;
    if (this.entry >= 0) path += `.entries[${this.entry}]`;
    if (this.entry === -2) path += '.snapshot';
    return new WireError(`peer batch: ${path}.${field} ${problem} (at byte ${this.pos} of ${this.buf.length})`);
  }

  take(n: number, field: string): Buffer {
    if (n > this.remaining()) {
      throw this.fail(field, `needs ${n} bytes but the body ends ${this.remaining()} bytes later (truncated)`);
    }
    const slice = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return slice;
  }
  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const n = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return n;
  }
  u32(field: string): number {
    this.need(4, field);
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return n;
  }
  u53(field: string): number {
    this.need(8, field);
    const high = this.buf.readUInt32BE(this.pos);
    if (high > U53_HIGH_MAX) throw this.fail(field, 'is larger than 2^53-1 (not a safe integer)');
    const n = high * TWO_POW_32 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return n;
  }
  str(bytesMax: number, field: string): string {
    const length = this.u16(`${field}.length`);
    if (length > bytesMax) throw this.fail(field, `is ${length} bytes, more than ${bytesMax}`);
    const bytes = this.take(length, field);
    if (!isUtf8(bytes)) throw this.fail(field, 'is not valid UTF-8');
    return bytes.toString('utf8');
  }
  id(field: string): string {
    const s = this.str(ID_BYTES_MAX, field);
    if (s.length === 0) throw this.fail(field, 'is empty; peer ids are non-empty');
    return s;
  }
  /** A copy: the caller keeps it beyond the life of the body. */
  data(field: string): Uint8Array {
    return new Uint8Array(this.view(field));
  }
  /** A view into the body: valid only while the body is. */
  view(field: string): Uint8Array {
    const length = this.u32(`${field}.length`);
    return this.take(length, field);
  }
  private need(n: number, field: string): void {
    if (n > this.remaining()) {
      throw this.fail(field, `needs ${n} bytes but the body ends ${this.remaining()} bytes later (truncated)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A MsgSnap's data travels as the HTTP body of its own request; the message itself (with empty
// data) rides in a header as base64 of a one-message batch.

/** Header value for POST /raft/snapshot: the message with its snapshot data left out. */
export function encodeSnapshotHeader(header: BatchHeader, m: Message): string {
  if (m.type !== 'MsgSnap' || m.snapshot === null) throw new Error(`wire: snapshot header needs a MsgSnap with a snapshot, got ${m.type}`);
  const bare: Message = { ...m, snapshot: { metadata: m.snapshot.metadata, data: new Uint8Array(0) } };
  return encodeBatch(header, [bare]).toString('base64');
}

/** Headers are small; anything longer than this is not ours. */
export const SNAPSHOT_HEADER_CHARS_MAX = 12 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeSnapshotHeader(value: string | undefined): { clusterId: string; from: NodeId; message: Message } {
  if (value === undefined || value.length === 0) throw new WireError('peer snapshot: the X-Bramble-Message header is missing');
  if (value.length > SNAPSHOT_HEADER_CHARS_MAX) {
    throw new WireError(`peer snapshot: the X-Bramble-Message header is ${value.length} characters, more than ${SNAPSHOT_HEADER_CHARS_MAX}`);
  }
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new WireError('peer snapshot: the X-Bramble-Message header is not base64');
  const batch = decodeBatch(Buffer.from(value, 'base64'));
  const message = batch.messages[0];
  if (batch.messages.length !== 1 || message === undefined) {
    throw new WireError(`peer snapshot: the X-Bramble-Message header holds ${batch.messages.length} messages, expected exactly 1`);
  }
  if (message.type !== 'MsgSnap' || message.snapshot === null) {
    throw new WireError(`peer snapshot: the X-Bramble-Message header holds a ${message.type}, expected a MsgSnap`);
  }
  if (message.snapshot.data.byteLength !== 0) {
    throw new WireError('peer snapshot: the X-Bramble-Message header carries snapshot data; the data belongs in the body');
  }
  return { clusterId: batch.clusterId, from: batch.from, message };
}

/** Splits a stream's bytes back into frames (see STREAM_PATH). A frame longer than
 *  `frameBytesMax` throws a WireError: the stream cannot be trusted any further. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Length of the frame being read, or -1 while its length prefix is still incomplete. */
  private need = -1;

  constructor(private readonly frameBytesMax: number) {}

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.bytes;
  }

  /** Takes a chunk; returns the frames it completed, in order (views or copies of the input). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.bytes += chunk.byteLength;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.bytes < FRAME_HEADER_BYTES) break;
        this.need = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (this.need > this.frameBytesMax) {
          throw new WireError(`peer stream: a frame of ${this.need} bytes is more than the limit of ${this.frameBytesMax}`);
        }
      }
      if (this.bytes < this.need) break;
      frames.push(this.take(this.need));
      this.need = -1;
    }
    return frames;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.bytes -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.byteLength, n - offset);
      c.copy(out, offset, 0, k);
      offset += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.bytes -= n;
    return out;
  }
}
