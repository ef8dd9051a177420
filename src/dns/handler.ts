// One query in, one answer out (or nothing): the chain is cluster zone → upstream cache →
// upstreams. The cluster zone's answers are encoded once per (name, type) and copied for every
// later query until the replica changes, so the common case is one map read and one copy.
import type { Logger } from '../log/index.ts';
import type { DnsData } from './data.ts';
import type { Forwarder } from './forwarder.ts';
import { encodeZoneAnswer } from './response.ts';
import type { Query } from './wire.ts';
import {
  answerFrom,
  CLASS_IN,
  encodeName,
  isQuery,
  keyToName,
  keyType,
  parseQuery,
  RCODE_NOTIMP,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
  rcodeAnswer,
  udpLimit,
} from './wire.ts';
import type { ClusterZone } from './zone.ts';
import { buildZone } from './zone.ts';

const TCP_MESSAGE_BYTES_MAX = 65535;
/** Pre-encoded cluster answers kept at most; random names could otherwise fill memory. */
const ANSWERS_MAX = 10_000;
const RCODE_BADVERS = 16;
const TYPE_IXFR = 251;
const TYPE_AXFR = 252;

export interface HandlerStats {
  queries: number;
  dropped: number;
  refused: number;
  zoneAnswers: number;
  zoneBuilds: number;
  servfail: number;
  /** Pre-encoded cluster answers held now. */
  cachedAnswers: number;
}

export interface HandlerOptions {
  data: DnsData;
  /** The cluster domain, lowercase, no trailing dot (`cluster.local`). */
  domain: string;
  forwarder: Forwarder;
  logger: Logger;
}

export class DnsHandler {
  readonly stats: HandlerStats = { queries: 0, dropped: 0, refused: 0, zoneAnswers: 0, zoneBuilds: 0, servfail: 0, cachedAnswers: 0 };
  readonly #data: DnsData;
  readonly #domain: string;
  /** The domain's wire form: a name whose key ends with it is in the zone even when it holds
   *  bytes no cluster name has. */
  readonly #domainWire: string;
  readonly #forwarder: Forwarder;
  readonly #logger: Logger;
  readonly #answers = new Map<string, Buffer>();
  readonly #unsubscribe: () => void;
  #zone: ClusterZone | null = null;
  #dirty = true;
  #serial = Math.floor(Date.now() / 1000);

  constructor(options: HandlerOptions) {
    this.#data = options.data;
    this.#domain = options.domain;
    this.#domainWire = encodeName(options.domain)!.toString('latin1');
    this.#forwarder = options.forwarder;
    this.#logger = options.logger;
    this.#unsubscribe = options.data.onChange(() => {
      this.#dirty = true;
    });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** The answer to the packet `buf`, or null to send nothing. Never throws for any input. */
  handle(buf: Buffer, viaTcp: boolean, allowed: boolean): Buffer | null | Promise<Buffer | null> {
    this.stats.queries++;
    const parsed = parseQuery(buf);
    if (!isQuery(parsed)) {
      if (parsed.drop) {
        this.stats.dropped++;
        return null;
      }
      return rcodeAnswer(buf, allowed ? parsed.rcode : RCODE_REFUSED, null);
    }
    if (!allowed) {
      this.stats.refused++;
      return rcodeAnswer(buf, RCODE_REFUSED, parsed);
    }
    // Cache keys hold the name and type only: anything else that changes the answer is
    // settled before the cache is read.
    if (parsed.qclass !== CLASS_IN) return rcodeAnswer(buf, RCODE_REFUSED, parsed);
    if (parsed.edns && parsed.ednsVersion !== 0) return rcodeAnswer(buf, RCODE_BADVERS, parsed);
    const limit = viaTcp ? TCP_MESSAGE_BYTES_MAX : udpLimit(parsed);
    if (this.#dirty) this.#rebuild();
    const stored = this.#answers.get(parsed.key);
    if (stored) {
      this.stats.zoneAnswers++;
      return answerFrom(stored, parsed, buf, limit);
    }
    if (parsed.qtype === TYPE_AXFR || parsed.qtype === TYPE_IXFR) return rcodeAnswer(buf, RCODE_NOTIMP, parsed);
    const zoneAnswer = this.#zoneAnswer(parsed, buf);
    if (zoneAnswer) {
      this.stats.zoneAnswers++;
      return answerFrom(zoneAnswer, parsed, buf, limit);
    }
    const cached = this.#forwarder.cached(parsed, buf, limit);
    if (cached) return cached;
    return this.#forward(parsed, buf, limit, viaTcp);
  }

  async #forward(query: Query, buf: Buffer, limit: number, viaTcp: boolean): Promise<Buffer | null> {
    try {
      const answer = await this.#forwarder.resolve(query, buf, limit, viaTcp);
      if (answer) return answer;
    } catch (error) {
      this.#logger.warn('DNS forwarding failed', { error: String(error) });
    }
    this.stats.servfail++;
    return rcodeAnswer(buf, RCODE_SERVFAIL, query);
  }

  /** The pre-encoded answer when the name is the cluster zone's, else null. */
  #zoneAnswer(query: Query, buf: Buffer): Buffer | null {
    const zone = this.#zone;
    if (zone === null) return null;
    const key = query.key;
    const name = keyToName(key);
    const wireName = key.slice(0, -2);
    const inZone = name === null ? wireName.endsWith(this.#domainWire) : zone.owns(name);
    if (!inZone) return null;
    let stored: Buffer;
    try {
      const answer = zone.lookup(name ?? '\0', keyType(key));
      stored = encodeZoneAnswer(Buffer.from(wireName, 'latin1'), name ?? '', query.qtype, answer);
    } catch (error) {
      this.#logger.warn('DNS answer could not be encoded', { name: name ?? wireName, error: String(error) });
      const failed = rcodeAnswer(buf, RCODE_SERVFAIL, query);
      return failed && Buffer.from(failed);
    }
    if (this.#answers.size >= ANSWERS_MAX) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    this.#answers.set(key, stored);
    this.stats.cachedAnswers = this.#answers.size;
    return stored;
  }

  #rebuild(): void {
    this.#dirty = false;
    this.#answers.clear();
    this.stats.cachedAnswers = 0;
    try {
      this.#zone = buildZone(this.#data, this.#domain, ++this.#serial);
      this.stats.zoneBuilds++;
    } catch (error) {
      // Keep answering from the last good zone; the next change tries again.
      this.#logger.error('DNS zone could not be built from the replica', { error: String(error) });
    }
  }
}
