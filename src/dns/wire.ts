// DNS wire format for the hot path: the question of a query parsed by hand (bounds-checked, no
// allocation beyond the cache key), and the few byte-level edits that turn a pre-encoded answer
// into the answer to this query. Everything a peer sends is checked against the buffer's length
// before it is read; a query that is not a plain one-question query is refused or dropped here,
// so nothing further in the server ever reads attacker-controlled offsets.

export const HEADER_BYTES = 12;
export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

// Flag bits, as they sit in the 16-bit flags word.
export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;

/** RFC 1035's limit for a UDP answer to a query without EDNS. */
export const UDP_PLAIN_BYTES = 512;
/** The largest UDP answer we send even when a client offers more (the DNS flag day 2020 value:
 *  no IP fragmentation on any path). */
export const UDP_EDNS_BYTES_MAX = 1232;
const NAME_BYTES_MAX = 255;
const LABEL_BYTES_MAX = 63;
const OPT_RR_BYTES = 11;

export interface Query {
  id: number;
  /** The query's flags word. */
  flags: number;
  /** Offset just past the question name's root label (the question name is bytes 12..nameEnd). */
  nameEnd: number;
  /** Offset just past the question (name, type, class). */
  questionEnd: number;
  qtype: number;
  qclass: number;
  /** The lowercased wire-format name, then the type: the key of every answer cache. */
  key: string;
  /** Whether the query carried an OPT record (EDNS). */
  edns: boolean;
  /** The client's EDNS UDP size (512 without EDNS). */
  udpSize: number;
  ednsVersion: number;
  /** The EDNS DO bit, which an answer must echo (RFC 3225). */
  dnssecOk: boolean;
}

/** Why a packet is not a query we answer from a cache: `drop` for anything that is not a query at
 *  all (answering it could feed a loop or a reflection), or an rcode to answer with. */
export type QueryProblem = { drop: true } | { drop: false; rcode: number };

const DROP: QueryProblem = { drop: true };
const FORMERR: QueryProblem = { drop: false, rcode: RCODE_FORMERR };
const NOTIMP: QueryProblem = { drop: false, rcode: RCODE_NOTIMP };

// One scratch buffer for lowercasing names into cache keys: the server is single-threaded.
const scratch = Buffer.alloc(NAME_BYTES_MAX + 2);

/** Parses a query's header, question and optional OPT record. */
export function parseQuery(buf: Buffer): Query | QueryProblem {
  const length = buf.length;
  if (length < HEADER_BYTES + 5) return DROP;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & FLAG_QR) return DROP;
  const opcode = (flags >> 11) & 0xf;
  const qdcount = (buf[4]! << 8) | buf[5]!;
  const ancount = (buf[6]! << 8) | buf[7]!;
  const nscount = (buf[8]! << 8) | buf[9]!;
  const arcount = (buf[10]! << 8) | buf[11]!;
  if (opcode !== 0) return NOTIMP;
  if (qdcount !== 1 || ancount !== 0 || nscount !== 0) return FORMERR;
  // The question name: labels only (a query's first name has nothing earlier to point to).
  let at = HEADER_BYTES;
  let keyLength = 0;
  for (;;) {
    if (at >= length) return FORMERR;
    const labelLength = buf[at]!;
    if (labelLength === 0) {
      scratch[keyLength++] = 0;
      at += 1;
      break;
    }
    if (labelLength > LABEL_BYTES_MAX) return FORMERR;
    if (keyLength + labelLength + 2 > NAME_BYTES_MAX) return FORMERR;
    if (at + 1 + labelLength > length) return FORMERR;
    scratch[keyLength++] = labelLength;
    for (let i = at + 1, end = at + 1 + labelLength; i < end; i++) {
      const c = buf[i]!;
      scratch[keyLength++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    at += 1 + labelLength;
  }
  const nameEnd = at;
  if (nameEnd + 4 > length) return FORMERR;
  const qtype = (buf[nameEnd]! << 8) | buf[nameEnd + 1]!;
  const qclass = (buf[nameEnd + 2]! << 8) | buf[nameEnd + 3]!;
  const questionEnd = nameEnd + 4;
  scratch[keyLength++] = qtype >> 8;
  scratch[keyLength++] = qtype & 0xff;
  const key = scratch.toString('latin1', 0, keyLength);

  let edns = false;
  let udpSize = UDP_PLAIN_BYTES;
  let ednsVersion = 0;
  let dnssecOk = false;
  // Only the first additional record is looked at: it is where every client puts its OPT.
  if (arcount > 0 && questionEnd + OPT_RR_BYTES <= length && buf[questionEnd] === 0) {
    const type = (buf[questionEnd + 1]! << 8) | buf[questionEnd + 2]!;
    if (type === TYPE_OPT) {
      const rdlength = (buf[questionEnd + 9]! << 8) | buf[questionEnd + 10]!;
      if (questionEnd + OPT_RR_BYTES + rdlength > length) return FORMERR;
      edns = true;
      udpSize = Math.max(UDP_PLAIN_BYTES, (buf[questionEnd + 3]! << 8) | buf[questionEnd + 4]!);
      ednsVersion = buf[questionEnd + 6]!;
      dnssecOk = (buf[questionEnd + 7]! & 0x80) !== 0;
    }
  }
  return { id: (buf[0]! << 8) | buf[1]!, flags, nameEnd, questionEnd, qtype, qclass, key, edns, udpSize, ednsVersion, dnssecOk };
}

export function isQuery(parsed: Query | QueryProblem): parsed is Query {
  return (parsed as Query).key !== undefined;
}

/** The largest answer this query may get over UDP. */
export function udpLimit(query: Query): number {
  return query.edns ? Math.min(query.udpSize, UDP_EDNS_BYTES_MAX) : UDP_PLAIN_BYTES;
}

/** Writes an OPT record (no options) at `at`: our UDP size, the extended rcode's upper bits, the
 *  DO bit echoed. Returns the offset after it. */
export function writeOpt(out: Buffer, at: number, query: Query, extendedRcode = 0): number {
  out[at] = 0;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(UDP_EDNS_BYTES_MAX, at + 3);
  out[at + 5] = extendedRcode;
  out[at + 6] = 0;
  out[at + 7] = query.dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  out.writeUInt16BE(0, at + 9);
  return at + OPT_RR_BYTES;
}

/**
 * The answer to `query` from a pre-encoded answer `stored` (any ID, the question in lowercase, no
 * OPT record): the query's ID, its RD bit and its question bytes (so the answer keeps the
 * question's case; answer owner names point at the question), an OPT record when the query had
 * one; over UDP, an empty answer with TC when it would not fit.
 */
export function answerFrom(stored: Buffer, query: Query, buf: Buffer, limit: number): Buffer {
  const optBytes = query.edns ? OPT_RR_BYTES : 0;
  if (stored.length + optBytes > limit) return truncated(stored, query, buf);
  const out = Buffer.allocUnsafe(stored.length + optBytes);
  stored.copy(out, 0, 0, stored.length);
  out[0] = buf[0]!;
  out[1] = buf[1]!;
  out[2] = (stored[2]! & ~0x01) | (buf[2]! & 0x01);
  buf.copy(out, HEADER_BYTES, HEADER_BYTES, query.nameEnd);
  if (optBytes) {
    writeOpt(out, stored.length, query);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  return out;
}

/** Header and question only, with TC: "ask again over TCP". */
function truncated(stored: Buffer, query: Query, buf: Buffer): Buffer {
  const optBytes = query.edns ? OPT_RR_BYTES : 0;
  const out = Buffer.allocUnsafe(query.questionEnd + optBytes);
  buf.copy(out, 0, 0, query.questionEnd);
  out[2] = (stored[2]! & ~0x01) | (buf[2]! & 0x01) | (FLAG_TC >> 8);
  out[3] = stored[3]!;
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(optBytes ? 1 : 0, 10);
  if (optBytes) writeOpt(out, query.questionEnd, query);
  return out;
}

/** An answer with no records and `rcode`: the header and, when the query parsed, its question. */
export function rcodeAnswer(buf: Buffer, rcode: number, query: Query | null, flagsExtra = 0): Buffer | null {
  if (buf.length < HEADER_BYTES) return null;
  const questionEnd = query ? query.questionEnd : HEADER_BYTES;
  const optBytes = query?.edns ? OPT_RR_BYTES : 0;
  const out = Buffer.allocUnsafe(questionEnd + optBytes);
  buf.copy(out, 0, 0, questionEnd);
  // QR, the query's opcode and RD; RA; the rcode's low four bits (BADVERS goes in the OPT).
  const flags = FLAG_QR | ((buf[2]! << 8) & 0x7900) | FLAG_RA | flagsExtra | (rcode & 0xf);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(query ? 1 : 0, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(optBytes ? 1 : 0, 10);
  if (query && optBytes) writeOpt(out, questionEnd, query, rcode >> 4);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names

/** A dotted name (no trailing dot; "" is the root) in wire format, or null when a label is empty
 *  or too long, or the whole name too long. */
export function encodeName(name: string): Buffer | null {
  if (name === '' || name === '.') return Buffer.from([0]);
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  const parts: Buffer[] = [];
  let total = 1;
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > LABEL_BYTES_MAX) return null;
    parts.push(Buffer.from([bytes.length]), bytes);
    total += 1 + bytes.length;
  }
  if (total > NAME_BYTES_MAX) return null;
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts, total);
}

/** The dotted form of a cache key's wire name, or null when a label holds a dot or a byte that
 *  no cluster name has (such a name cannot be in the cluster zone). */
export function keyToName(key: string): string | null {
  const labels: string[] = [];
  let at = 0;
  for (;;) {
    const length = key.charCodeAt(at);
    if (length === 0 || Number.isNaN(length)) break;
    const label = key.slice(at + 1, at + 1 + length);
    if (!/^[\x21-\x2d\x2f-\x7e]+$/.test(label)) return null;
    labels.push(label);
    at += 1 + length;
  }
  return labels.join('.');
}

/** The type in a cache key (its last two characters). */
export function keyType(key: string): number {
  return (key.charCodeAt(key.length - 2) << 8) | key.charCodeAt(key.length - 1);
}

/** Skips a (possibly compressed) name at `at` within `end`; -1 when it runs past the end or a
 *  label is malformed. Pointers are not followed: only the bytes in place are skipped. */
export function skipName(buf: Buffer, at: number, end: number): number {
  for (let labels = 0; labels < 128; labels++) {
    if (at >= end) return -1;
    const length = buf[at]!;
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2 <= end ? at + 2 : -1;
    if (length > LABEL_BYTES_MAX) return -1;
    at += 1 + length;
  }
  return -1;
}

export interface RecordLayout {
  /** Offsets of every record's TTL (answer, authority and additional; not the OPT's). */
  ttlOffsets: number[];
  /** The smallest TTL of the answer and authority records (Infinity with none). */
  ttlMin: number;
  /** Where the OPT record starts and ends when it is the last record, else -1. */
  optStart: number;
  optEnd: number;
}

/** Walks a whole message's records, checking every length; null when anything is out of bounds. */
export function recordLayout(buf: Buffer): RecordLayout | null {
  if (buf.length < HEADER_BYTES) return null;
  const qdcount = buf.readUInt16BE(4);
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let at = HEADER_BYTES;
  for (let i = 0; i < qdcount; i++) {
    at = skipName(buf, at, buf.length);
    if (at < 0 || at + 4 > buf.length) return null;
    at += 4;
  }
  const layout: RecordLayout = { ttlOffsets: [], ttlMin: Infinity, optStart: -1, optEnd: -1 };
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < counts[section]!; i++) {
      const start = at;
      at = skipName(buf, at, buf.length);
      if (at < 0 || at + 10 > buf.length) return null;
      const type = buf.readUInt16BE(at);
      const rdlength = buf.readUInt16BE(at + 8);
      if (at + 10 + rdlength > buf.length) return null;
      if (type === TYPE_OPT) {
        layout.optStart = start;
        layout.optEnd = at + 10 + rdlength;
      } else {
        layout.ttlOffsets.push(at + 4);
        if (section < 2) layout.ttlMin = Math.min(layout.ttlMin, buf.readUInt32BE(at + 4) & 0x7fffffff);
      }
      at += 10 + rdlength;
    }
  }
  if (layout.optStart >= 0 && layout.optEnd !== at) layout.optStart = layout.optEnd = -1;
  return layout;
}
