// Encodes a cluster-zone answer once, to be copied for every later query of the same name and
// type (wire.ts answerFrom). Owner names equal to the question are compression pointers to it,
// so the copy answers in the question's case once the question's bytes are patched in.
import type { ZoneAnswer, ZoneRecord } from './zone.ts';
import { CLASS_IN, FLAG_AA, FLAG_QR, FLAG_RA, HEADER_BYTES, TYPE_A, TYPE_CNAME, TYPE_NS, TYPE_PTR, TYPE_SOA, TYPE_SRV, TYPE_TXT } from './wire.ts';

const MESSAGE_BYTES_MAX = 65535;
const POINTER_OFFSET_MAX = 0x3fff;

// Encoding is synchronous and the server single-threaded: one scratch buffer serves every answer.
const scratch = Buffer.alloc(MESSAGE_BYTES_MAX);

class Writer {
  readonly buf = scratch;
  at = 0;
  /** Lowercase dotted name → offset of a place it is written in full (labels, maybe a pointer). */
  readonly #names = new Map<string, number>();

  ensure(bytes: number): void {
    if (this.at + bytes > MESSAGE_BYTES_MAX) throw new RangeError('DNS message longer than 65535 bytes');
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.at);
    this.at += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.at);
    this.at += 4;
  }

  /** Records that `name` and its suffixes sit at `offset` (the wire name written there). */
  remember(name: string, offset: number): void {
    let at = offset;
    let rest = name;
    while (rest !== '' && at <= POINTER_OFFSET_MAX && !this.#names.has(rest)) {
      this.#names.set(rest, at);
      const dot = rest.indexOf('.');
      const labelBytes = Buffer.byteLength(dot === -1 ? rest : rest.slice(0, dot));
      at += 1 + labelBytes;
      rest = dot === -1 ? '' : rest.slice(dot + 1);
    }
  }

  /** Writes a name; compressed against the names written before unless `compress` is false. */
  name(name: string, compress: boolean): void {
    const start = this.at;
    let rest = name;
    while (rest !== '') {
      const known = compress ? this.#names.get(rest) : undefined;
      if (known !== undefined) {
        this.u16(0xc000 | known);
        this.remember(name, start);
        return;
      }
      const dot = rest.indexOf('.');
      const label = Buffer.from(dot === -1 ? rest : rest.slice(0, dot), 'utf8');
      if (label.length === 0 || label.length > 63) throw new RangeError(`bad label in DNS name ${JSON.stringify(name)}`);
      this.ensure(1 + label.length);
      this.buf[this.at++] = label.length;
      label.copy(this.buf, this.at);
      this.at += label.length;
      rest = dot === -1 ? '' : rest.slice(dot + 1);
    }
    this.ensure(1);
    this.buf[this.at++] = 0;
    if (this.at - start > 255) throw new RangeError(`DNS name longer than 255 bytes: ${JSON.stringify(name)}`);
    this.remember(name, start);
  }

  record(record: ZoneRecord): void {
    this.name(record.name, true);
    this.u16(record.data.type);
    this.u16(CLASS_IN);
    this.u32(record.ttl);
    const lengthAt = this.at;
    this.u16(0);
    const d = record.data;
    switch (d.type) {
      case TYPE_A: {
        const octets = d.address.split('.').map(Number);
        this.ensure(4);
        for (const o of octets) this.buf[this.at++] = o;
        break;
      }
      case TYPE_CNAME:
      case TYPE_PTR:
      case TYPE_NS:
        this.name(d.target, true);
        break;
      case TYPE_SRV:
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        // RFC 2782: the target is not compressed.
        this.name(d.target, false);
        break;
      case TYPE_TXT: {
        const text = Buffer.from(d.text, 'utf8').subarray(0, 255);
        this.ensure(1 + text.length);
        this.buf[this.at++] = text.length;
        text.copy(this.buf, this.at);
        this.at += text.length;
        break;
      }
      case TYPE_SOA:
        this.name(d.mname, true);
        this.name(d.rname, true);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        break;
    }
    this.buf.writeUInt16BE(this.at - lengthAt - 2, lengthAt);
  }
}

/**
 * The whole answer for the question `name`/`qtype` (lowercase wire name `wireName`), ID 0, no OPT
 * record. Throws RangeError when a record cannot be encoded (a name too long): the caller answers
 * SERVFAIL for that name.
 */
export function encodeZoneAnswer(wireName: Buffer, name: string, qtype: number, answer: ZoneAnswer): Buffer {
  const w = new Writer();
  const flags = FLAG_QR | FLAG_AA | FLAG_RA | answer.rcode;
  w.u16(0);
  w.u16(flags);
  w.u16(1);
  w.u16(answer.answers.length);
  w.u16(answer.authority.length);
  w.u16(answer.additionals.length);
  w.ensure(wireName.length + 4);
  wireName.copy(w.buf, HEADER_BYTES);
  w.at = HEADER_BYTES + wireName.length;
  if (name !== '') w.remember(name, HEADER_BYTES);
  w.u16(qtype);
  w.u16(CLASS_IN);
  for (const record of answer.answers) w.record(record);
  for (const record of answer.authority) w.record(record);
  for (const record of answer.additionals) w.record(record);
  return Buffer.from(w.buf.subarray(0, w.at));
}
