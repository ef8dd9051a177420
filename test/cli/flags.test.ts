// The shared flag parser: accepted forms, typed values, defaults, and a UsageError that names
// the flag and the subcommand for each kind of mistake.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, formatHelp, parseArgs, parseDuration, type CommandSpec } from '../../src/cli/flags.ts';
import { UsageError } from '../../src/errors.ts';

const DEMO = {
  name: 'demo',
  summary: 'A command for tests.',
  flags: {
    name: { type: 'string', short: 'n', valueName: 'NAME', description: 'a name' },
    replicas: { type: 'int', description: 'how many', default: 1 },
    force: { type: 'bool', short: 'f', description: 'do it anyway' },
    timeout: { type: 'duration', description: 'how long', default: 30_000 },
    labels: { type: 'list', description: 'k=v pairs' },
    file: { type: 'string', description: 'manifest, - for stdin' },
  },
  positionals: { name: 'RESOURCE', min: 0, max: 2 },
} as const satisfies CommandSpec;

const parse = (...argv: string[]) => parseArgs(DEMO, argv);

function usageError(argv: string[]): UsageError {
  try {
    parse(...argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.code, 'E_USAGE');
    return error;
  }
  assert.fail(`accepted: ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  test('defaults: declared defaults, false for bools, undefined otherwise', () => {
    const { flags, positionals, help } = parse();
    assert.deepEqual(flags, { name: undefined, replicas: 1, force: false, timeout: 30_000, labels: undefined, file: undefined });
    assert.deepEqual(positionals, []);
    assert.equal(help, false);
  });

  test('--flag value, --flag=value and -x value give typed values', () => {
    const { flags } = parse('--name', 'gw1', '--replicas=3', '-f', '--timeout', '1m30s', '--labels', 'a=1, b=2,');
    assert.equal(flags.name, 'gw1');
    assert.equal(flags.replicas, 3);
    assert.equal(flags.force, true);
    assert.equal(flags.timeout, 90_000);
    assert.deepEqual(flags.labels, ['a=1', 'b=2']);
    assert.equal(parse('-n', 'x').flags.name, 'x');
    assert.equal(parse('-n=y').flags.name, 'y');
  });

  test('kubectl habit: a one-letter flag with its value attached (-owide, -nkube-system)', () => {
    assert.equal(parse('-nkube-system').flags.name, 'kube-system');
    assert.throws(() => parse('-fx'), /unknown flag -fx/);
    assert.throws(() => parse('-xyz'), /unknown flag -xyz/);
  });

  test('a value may contain "=" and may be empty with --flag=', () => {
    assert.equal(parse('--name=a=b').flags.name, 'a=b');
    assert.equal(parse('--name=').flags.name, '');
  });

  test('bool flags take =true/=false but never the next argument', () => {
    assert.equal(parse('--force=false').flags.force, false);
    const { flags, positionals } = parse('--force', 'pods');
    assert.equal(flags.force, true);
    assert.deepEqual(positionals, ['pods']);
  });

  test('a list flag given twice adds up; other flags keep the last value', () => {
    const { flags } = parse('--labels', 'a=1', '--labels=b=2', '--name', 'one', '--name', 'two');
    assert.deepEqual(flags.labels, ['a=1', 'b=2']);
    assert.equal(flags.name, 'two');
  });

  test('"-" is a value or a positional; a negative number is a value', () => {
    assert.equal(parse('--file', '-').flags.file, '-');
    assert.equal(parse('--replicas', '-2').flags.replicas, -2);
    assert.deepEqual(parse('-').positionals, ['-']);
  });

  test('"--" ends the flags', () => {
    const { flags, positionals } = parse('--force', '--', '--name', 'x');
    assert.equal(flags.force, true);
    assert.equal(flags.name, undefined);
    assert.deepEqual(positionals, ['--name', 'x']);
  });

  test('--help and -h win over other problems', () => {
    assert.equal(parse('--help').help, true);
    assert.equal(parse('--bogus', '-h').help, true);
    assert.equal(parse('--', '--help').help, false);
  });
});

describe('parseArgs refuses', () => {
  test('an unknown flag, naming it and the subcommand', () => {
    assert.equal(usageError(['--bogus']).message, "bramble demo: unknown flag --bogus (see 'bramble demo --help')");
    assert.match(usageError(['--bogus=1']).message, /unknown flag --bogus /);
    assert.match(usageError(['-z']).message, /^bramble demo: unknown flag -z /);
    assert.match(usageError(['-fn']).message, /unknown flag -fn /);
  });

  test('a missing value at the end or before another flag', () => {
    assert.match(usageError(['--name']).message, /^bramble demo: flag --name needs a value \(NAME\)/);
    assert.match(usageError(['--name', '--force']).message, /flag --name needs a value/);
    assert.match(usageError(['-n']).message, /flag -n needs a value/);
  });

  test('malformed int, bool and duration values', () => {
    assert.match(usageError(['--replicas', 'three']).message, /flag --replicas: expected an integer, got "three"/);
    assert.match(usageError(['--replicas', '1.5']).message, /expected an integer, got "1\.5"/);
    assert.match(usageError(['--replicas', '99999999999999999999']).message, /expected an integer/);
    assert.match(usageError(['--force=yes']).message, /flag --force: expected true or false, got "yes"/);
    assert.match(usageError(['--timeout', '10']).message, /flag --timeout: expected a duration such as 500ms, 1s, 2m or 1h, got "10"/);
    assert.match(usageError(['--timeout', '1d']).message, /got "1d"/);
  });

  test('too many or too few positionals', () => {
    assert.match(usageError(['a', 'b', 'c']).message, /too many arguments: expected at most 2 RESOURCE, got 3/);
    const needsOne = { name: 'need', summary: '', flags: {}, positionals: { name: 'NAME', min: 1, max: 1 } } as const;
    assert.throws(() => parseArgs(needsOne, []), { message: /^bramble need: missing NAME/ });
    const none = { name: 'none', summary: '', flags: {} } as const;
    assert.throws(() => parseArgs(none, ['extra']), { message: /^bramble none: unexpected argument "extra"/ });
  });

  test('declaring --help or a duplicate short alias is a programmer error', () => {
    assert.throws(() => parseArgs({ name: 'x', summary: '', flags: { help: { type: 'bool', description: '' } } }, []), /built in/);
    const twice = { a: { type: 'bool', short: 'a', description: '' }, b: { type: 'bool', short: 'a', description: '' } } as const;
    assert.throws(() => parseArgs({ name: 'x', summary: '', flags: twice }, []), /duplicate short alias "-a"/);
  });
});

describe('durations', () => {
  test('parseDuration accepts ms, s, m, h and combinations', () => {
    const cases: [string, number | null][] = [
      ['500ms', 500],
      ['1s', 1000],
      ['1.5s', 1500],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['1m30s', 90_000],
      ['0s', 0],
      ['10', null],
      ['', null],
      ['s', null],
      ['-1s', null],
      ['1 s', null],
      ['1sec', null],
    ];
    for (const [text, millis] of cases) assert.equal(parseDuration(text), millis, text);
  });

  test('formatDuration prints the shortest exact form', () => {
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(20_000), '20s');
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(7_200_000), '2h');
  });
});

describe('formatHelp', () => {
  test('lists every flag with its alias, value name and default', () => {
    const help = formatHelp(DEMO);
    assert.match(help, /^Usage: bramble demo \[flags\] RESOURCE\n/);
    assert.match(help, /-n, --name NAME +a name\n/);
    assert.match(help, /--replicas INT +how many \(default: 1\)\n/);
    assert.match(help, /-f, --force +do it anyway\n/);
    assert.match(help, /--timeout DURATION +how long \(default: 30s\)\n/);
    assert.match(help, /-h, --help +show this help\n$/);
  });
});
