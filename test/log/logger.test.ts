// The JSON-lines logger: the exact line shape, level filtering, children, and that no field
// value or broken stream can make logging throw.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, formatLogLine, isLogLevel, type LogLevel } from '../../src/log/index.ts';

const FIXED = new Date('2026-01-02T03:04:05.678Z');

function recorder(level: LogLevel = 'debug') {
  const lines: string[] = [];
  const logger = createLogger({ level, now: () => FIXED, sink: { write: (text: string) => lines.push(text) } });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logger', () => {
  test('writes one JSON object per line with ts, level, msg, component, then fields', () => {
    const { logger, lines } = recorder();
    logger.child({ component: 'raft' }).info('became leader', { term: 3, id: 'n1' });
    assert.deepEqual(lines, [
      '{"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"became leader","component":"raft","term":3,"id":"n1"}\n',
    ]);
  });

  test('drops lines below the minimum level', () => {
    const { logger, records } = recorder('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(records().map((record) => [record['level'], record['msg']]), [['warn', 'w'], ['error', 'e']]);
    assert.equal(logger.isEnabled('info'), false);
    assert.equal(logger.isEnabled('error'), true);
  });

  test('defaults to info', () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: { write: (text: string) => lines.push(text) } });
    logger.debug('hidden');
    logger.info('shown');
    assert.equal(lines.length, 1);
    assert.equal(logger.level, 'info');
  });

  test('children add fields; the innermost and the call win', () => {
    const { logger, records } = recorder();
    const store = logger.child({ component: 'store', node: 'g1' });
    store.child({ component: 'store.wal' }).info('a');
    store.info('b', { node: 'g2' });
    const [a, b] = records();
    assert.deepEqual(a, { ts: FIXED.toISOString(), level: 'info', msg: 'a', component: 'store.wal', node: 'g1' });
    assert.equal(b!['node'], 'g2');
    assert.equal(b!['component'], 'store');
  });

  test('a field named like a line key does not replace it', () => {
    const { logger, records } = recorder();
    logger.info('real', { msg: 'fake', level: 'error', ts: 0 });
    const [record] = records();
    assert.equal(record!['msg'], 'real');
    assert.equal(record!['level'], 'info');
    assert.equal(record!['ts'], FIXED.toISOString());
    assert.equal(record!['field.msg'], 'fake');
    assert.equal(record!['field.level'], 'error');
  });

  test('errors, bigints and undefined fields are written usefully', () => {
    const { logger, records } = recorder();
    const error = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    logger.error('write failed', { error, index: 12n, skipped: undefined });
    const [record] = records();
    const written = record!['error'] as Record<string, unknown>;
    assert.equal(written['name'], 'Error');
    assert.equal(written['message'], 'disk full');
    assert.equal(written['code'], 'ENOSPC');
    assert.match(String(written['stack']), /disk full/);
    assert.equal(record!['index'], '12');
    assert.equal('skipped' in record!, false);
  });

  test('never throws on a circular field, and keeps the other fields', () => {
    const { logger, records } = recorder();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    assert.doesNotThrow(() => logger.info('odd', { loop, ok: 1 }));
    const [record] = records();
    assert.equal(record!['loop'], '[object Object]');
    assert.equal(record!['ok'], 1);
  });

  test('never throws on values whose toJSON or toString throw', () => {
    const { logger, records } = recorder();
    const hostile = {
      toJSON() {
        throw new Error('no json');
      },
      toString() {
        throw new Error('no string');
      },
    };
    assert.doesNotThrow(() => logger.warn('hostile', { hostile, bare: Object.create(null) }));
    const [record] = records();
    assert.equal(record!['hostile'], '[unprintable]');
    assert.deepEqual(record!['bare'], {});
  });

  test('a sink that throws does not take the caller down', () => {
    const logger = createLogger({
      sink: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    });
    assert.doesNotThrow(() => logger.error('nobody listens'));
  });

  test('a message is escaped, never breaks the line', () => {
    const line = formatLogLine(FIXED, 'info', 'two\nlines "quoted"', {});
    assert.equal(line.includes('\n'), false);
    assert.equal((JSON.parse(line) as { msg: string }).msg, 'two\nlines "quoted"');
  });

  test('isLogLevel', () => {
    assert.equal(isLogLevel('warn'), true);
    assert.equal(isLogLevel('verbose'), false);
    assert.equal(isLogLevel(undefined), false);
  });
});
