// Board profiles: every shipped file is valid, and each kind of mistake in a file is refused
// with the file name and the field path in the message.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProfileError } from '../../src/errors.ts';
import {
  detectBoard,
  loadAllProfiles,
  loadProfile,
  parseProfile,
  resolveConfigDir,
  validateProfile,
  type BoardFacts,
  type Profile,
} from '../../src/host/index.ts';

const CONFIG_DIR = fileURLToPath(new URL('../../firmware-configs/', import.meta.url));
const PI4_FILE = 'firmware-configs/raspberry-pi-4.json';

const REQUIRED_BOARDS = [
  'generic-x86_64',
  'generic-arm64',
  'generic-armv7',
  'raspberry-pi-5',
  'raspberry-pi-4',
  'raspberry-pi-3b',
  'raspberry-pi-zero-2w',
  'nvidia-jetson-nano',
];

type Json = Record<string, any>;

async function shippedJson(name: string): Promise<Json> {
  return JSON.parse(await readFile(join(CONFIG_DIR, `${name}.json`), 'utf8')) as Json;
}

/** Validates a changed copy of the Pi 4 profile and returns the error it must raise. */
async function refusal(change: (profile: Json) => void): Promise<ProfileError> {
  const profile = await shippedJson('raspberry-pi-4');
  change(profile);
  try {
    validateProfile(profile, PI4_FILE);
  } catch (error) {
    assert.ok(error instanceof ProfileError, `expected a ProfileError, got ${String(error)}`);
    assert.equal(error.code, 'E_PROFILE');
    return error;
  }
  assert.fail('the changed profile was accepted');
}

describe('shipped profiles', () => {
  test('every required board has a profile file', async () => {
    const files = await readdir(CONFIG_DIR);
    for (const board of REQUIRED_BOARDS) assert.ok(files.includes(`${board}.json`), `missing ${board}.json`);
  });

  test('every file in firmware-configs/ validates and is named after its file', async () => {
    const files = (await readdir(CONFIG_DIR)).filter((file) => file.endsWith('.json'));
    assert.ok(files.length >= REQUIRED_BOARDS.length);
    for (const file of files) {
      const profile = parseProfile(await readFile(join(CONFIG_DIR, file), 'utf8'), `firmware-configs/${file}`);
      assert.equal(`${profile.name}.json`, file);
      assert.ok(profile.raft.electionTicks > profile.raft.heartbeatTicks, file);
    }
  });

  test('generic profiles match nothing by model; named boards match something', async () => {
    for (const profile of await loadAllProfiles(CONFIG_DIR)) {
      if (profile.name.startsWith('generic-')) assert.deepEqual(profile.match.models, [], profile.name);
      else assert.ok(profile.match.models.length > 0, profile.name);
    }
  });

  test('the 512 MB Pi Zero 2 W gets smaller caches and slower ticks than a Pi 4', async () => {
    const [zero, pi4] = await Promise.all([shippedJson('raspberry-pi-zero-2w'), shippedJson('raspberry-pi-4')]);
    assert.ok(zero.sqlite.cacheBytes < pi4.sqlite.cacheBytes);
    assert.ok(zero.reserved.memoryBytes < pi4.reserved.memoryBytes);
    assert.ok(zero.raft.tickMillis > pi4.raft.tickMillis);
    assert.ok(zero.log.fileBytesMax < pi4.log.fileBytesMax);
  });

  test('a validated profile is frozen all the way down', async () => {
    const profile = validateProfile(await shippedJson('raspberry-pi-4'), PI4_FILE);
    assert.ok(Object.isFrozen(profile));
    assert.ok(Object.isFrozen(profile.raft));
    assert.ok(Object.isFrozen(profile.match.models));
    assert.throws(() => {
      (profile.raft as { tickMillis: number }).tickMillis = 1;
    }, TypeError);
  });
});

describe('validateProfile refuses', () => {
  test('a wrong type, naming the file and the field path', async () => {
    const error = await refusal((p) => {
      p.raft.electionTicks = 'ten';
    });
    assert.equal(error.message, `${PI4_FILE}: raft.electionTicks: expected a positive integer, got "ten"`);
  });

  test('an unknown key at the top level and nested', async () => {
    const top = await refusal((p) => {
      p.colour = 'red';
    });
    assert.match(top.message, /^firmware-configs\/raspberry-pi-4\.json: colour: unknown key/);
    const nested = await refusal((p) => {
      p.raft.electionTick = 10;
    });
    assert.match(nested.message, /firmware-configs\/raspberry-pi-4\.json: raft\.electionTick: unknown key \(known keys here: tickMillis, electionTicks/);
  });

  test('a missing field', async () => {
    const error = await refusal((p) => {
      delete p.raft.heartbeatTicks;
    });
    assert.equal(error.message, `${PI4_FILE}: raft.heartbeatTicks: missing (expected a positive integer)`);
    const section = await refusal((p) => {
      delete p.sqlite;
    });
    assert.equal(section.message, `${PI4_FILE}: sqlite: missing (expected an object)`);
  });

  test('a value outside its enum, a non-array list and a relative dataDir', async () => {
    assert.match((await refusal((p) => (p.arch = 'x86'))).message, /: arch: expected one of "x64", "arm64", "arm", got "x86"$/);
    assert.match(
      (await refusal((p) => (p.containerd.snapshotter = 'zfs'))).message,
      /: containerd\.snapshotter: expected one of "overlayfs", "native", got "zfs"$/,
    );
    assert.match((await refusal((p) => (p.match.models = 'Raspberry Pi 4'))).message, /: match\.models: expected an array of strings, got "Raspberry Pi 4"$/);
    assert.match((await refusal((p) => (p.match.models = ['ok', 7]))).message, /: match\.models\[1\]: expected a string/);
    assert.match((await refusal((p) => (p.dataDir = 'var/lib/bramble'))).message, /: dataDir: expected an absolute path, got "var\/lib\/bramble"$/);
    assert.match((await refusal((p) => (p.timing = [1000]))).message, /: timing: expected an object, got an array$/);
  });

  test('numbers that are not integers or are out of range', async () => {
    assert.match((await refusal((p) => (p.raft.heartbeatTicks = 0))).message, /: raft\.heartbeatTicks: must be from 1 to 10000, got 0$/);
    assert.match((await refusal((p) => (p.raft.tickMillis = 1.5))).message, /: raft\.tickMillis: expected a positive integer, got 1\.5$/);
    assert.match((await refusal((p) => (p.reserved.cpuMillis = -1))).message, /: reserved\.cpuMillis: must be from 0 to 256000, got -1$/);
    assert.match((await refusal((p) => (p.log.filesMax = null))).message, /: log\.filesMax: expected a positive integer, got null$/);
    assert.match((await refusal((p) => (p.sqlite.cacheBytes = 1e12))).message, /: sqlite\.cacheBytes: must be from 65536 to 17179869184, got 1000000000000$/);
  });

  test('electionTicks not greater than heartbeatTicks', async () => {
    const error = await refusal((p) => {
      p.raft.electionTicks = 3;
      p.raft.heartbeatTicks = 3;
    });
    assert.equal(error.message, `${PI4_FILE}: raft.electionTicks: must be greater than raft.heartbeatTicks (3), got 3`);
  });

  test('a node grace not longer than the heartbeat interval', async () => {
    const error = await refusal((p) => (p.timing.nodeGraceMillis = 1000));
    assert.match(error.message, /: timing\.nodeGraceMillis: must be greater than timing\.heartbeatIntervalMillis \(1000\), got 1000$/);
  });

  test('a name that differs from the file name', async () => {
    const error = await refusal((p) => (p.name = 'rpi4'));
    assert.equal(error.message, `${PI4_FILE}: name: must equal the file's name "raspberry-pi-4", got "rpi4"`);
  });

  test('every problem at once, one line each', async () => {
    const error = await refusal((p) => {
      p.raft.electionTicks = 'ten';
      delete p.log.filesMax;
      p.extra = true;
    });
    assert.equal(error.problems.length, 3);
    for (const line of error.problems) assert.ok(line.startsWith(`${PI4_FILE}: `), line);
    assert.deepEqual(error.message.split('\n'), error.problems);
  });

  test('a document that is not an object, and text that is not JSON', () => {
    assert.throws(() => validateProfile([], PI4_FILE), { message: `${PI4_FILE}: (top level): expected an object, got an array` });
    assert.throws(() => parseProfile('{"name": ', PI4_FILE), (error: unknown) => {
      assert.ok(error instanceof ProfileError);
      assert.match(error.message, /^firmware-configs\/raspberry-pi-4\.json: not valid JSON: /);
      return true;
    });
  });
});

describe('loadProfile', () => {
  let scratch = '';
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'bramble-profile-test-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('--board NAME loads <configDir>/NAME.json', async () => {
    const loaded = await loadProfile('raspberry-pi-3b', { configDir: CONFIG_DIR, cwd: '/nowhere' });
    assert.equal(loaded.profile.name, 'raspberry-pi-3b');
    assert.equal(loaded.file, join(CONFIG_DIR, 'raspberry-pi-3b.json'));
    assert.equal(loaded.detectionReason, undefined);
  });

  test('an unknown board names itself, the missing file and the available boards', async () => {
    const configDir = join(scratch, 'firmware-configs');
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, 'generic-x86_64.json'), await readFile(join(CONFIG_DIR, 'generic-x86_64.json')));
    await assert.rejects(loadProfile('no-such-board', { configDir, cwd: scratch }), (error: unknown) => {
      assert.ok(error instanceof ProfileError);
      assert.equal(
        error.message,
        'unknown board "no-such-board": there is no firmware-configs/no-such-board.json; available boards: generic-x86_64, or "auto" to detect',
      );
      return true;
    });
  });

  test('a board name that could leave the directory is refused before any file is read', async () => {
    for (const name of ['../etc/passwd', 'a/b', '..', '']) {
      await assert.rejects(loadProfile(name, { configDir: '/does/not/exist' }), (error: unknown) => {
        assert.ok(error instanceof ProfileError);
        assert.match(error.message, /^invalid board name .*no "\/" or "\.\."/);
        return true;
      });
    }
  });

  test('a malformed file is reported with its path and field', async () => {
    const configDir = join(scratch, 'bad');
    await mkdir(configDir, { recursive: true });
    const json = await shippedJson('raspberry-pi-4');
    json.raft.electionTicks = 'ten';
    await writeFile(join(configDir, 'raspberry-pi-4.json'), JSON.stringify(json));
    await assert.rejects(loadProfile('raspberry-pi-4', { configDir, cwd: scratch }), {
      message: 'bad/raspberry-pi-4.json: raft.electionTicks: expected a positive integer, got "ten"',
    });
    // auto validates every profile, so the broken one is noticed whatever the board is
    await assert.rejects(loadProfile('auto', { configDir, cwd: scratch, probe: fakeProbe({ model: 'Docker Container' }) }), {
      message: /bad\/raspberry-pi-4\.json: raft\.electionTicks/,
    });
  });

  test('a missing profile directory says what to do', async () => {
    await assert.rejects(loadProfile('generic-x86_64', { configDir: join(scratch, 'absent') }), {
      message: /^cannot list board profiles in .*absent: .*pass --config-dir DIR or set BRAMBLE_CONFIG_DIR$/,
    });
  });

  test('auto detects through the probe and says why', async () => {
    const loaded = await loadProfile('auto', {
      configDir: CONFIG_DIR,
      probe: fakeProbe({ manufacturer: 'Raspberry Pi Foundation', model: 'Raspberry Pi 4 Model B Rev 1.4', arch: 'arm64' }),
    });
    assert.equal(loaded.profile.name, 'raspberry-pi-4');
    assert.match(loaded.detectionReason ?? '', /contains "Raspberry Pi 4 Model B"/);
  });
});

function fakeProbe(facts: Partial<BoardFacts>): () => Promise<BoardFacts> {
  return async () => ({ manufacturer: '', model: '', cpuBrand: '', deviceTreeModel: '', arch: 'x64', ...facts });
}

describe('detectBoard', () => {
  let profiles: Profile[] = [];
  before(async () => {
    profiles = await loadAllProfiles(CONFIG_DIR);
  });
  const detect = async (facts: Partial<BoardFacts>): Promise<string> => (await detectBoard(profiles, fakeProbe(facts))).profile.name;

  test('Raspberry Pi models as systeminformation reports them', async () => {
    const pi = { manufacturer: 'Raspberry Pi Foundation', cpuBrand: 'Cortex-A72', arch: 'arm64' };
    assert.equal(await detect({ ...pi, model: 'Raspberry Pi 4 Model B Rev 1.4' }), 'raspberry-pi-4');
    assert.equal(await detect({ ...pi, model: 'Raspberry Pi 400 Rev 1.0' }), 'raspberry-pi-4');
    assert.equal(await detect({ ...pi, model: 'Raspberry Pi 5 Model B Rev 1.0' }), 'raspberry-pi-5');
    assert.equal(await detect({ ...pi, model: 'Raspberry Pi 3 Model B Plus Rev 1.3' }), 'raspberry-pi-3b');
    assert.equal(await detect({ ...pi, model: 'Raspberry Pi Zero 2 W Rev 1.0', arch: 'arm' }), 'raspberry-pi-zero-2w');
  });

  test('matching ignores case', async () => {
    assert.equal(await detect({ model: 'RASPBERRY PI 4 MODEL B', arch: 'arm64' }), 'raspberry-pi-4');
  });

  test('a Jetson Nano through its device tree model', async () => {
    assert.equal(await detect({ model: '', cpuBrand: 'Cortex-A57', deviceTreeModel: 'NVIDIA Jetson Nano Developer Kit', arch: 'arm64' }), 'nvidia-jetson-nano');
  });

  test('"Docker Container" and other unknown machines fall back to generic-<arch>', async () => {
    const detection = await detectBoard(profiles, fakeProbe({ model: 'Docker Container', cpuBrand: 'EPYC', arch: 'x64' }));
    assert.equal(detection.profile.name, 'generic-x86_64');
    assert.match(detection.reason, /no profile matches model "Docker Container".*generic profile for x64/);
    assert.equal(await detect({ model: 'Rock Pi 4B', arch: 'arm64' }), 'generic-arm64');
    assert.equal(await detect({ model: 'BeagleBone Black', arch: 'arm' }), 'generic-armv7');
  });

  test('a failing probe falls back to the generic profile for this process', async () => {
    const detection = await detectBoard(profiles, async () => {
      throw new Error('dmidecode exploded');
    });
    assert.ok(detection.profile.name.startsWith('generic-'));
    assert.match(detection.reason, /probing the board failed \(dmidecode exploded\)/);
  });

  test('an architecture without a generic profile is an error that says to pass --board', async () => {
    await assert.rejects(detectBoard(profiles, fakeProbe({ model: 'VisionFive 2', arch: 'riscv64' })), (error: unknown) => {
      assert.ok(error instanceof ProfileError);
      assert.match(error.message, /no generic profile for arch riscv64; pass --board NAME \(available boards: .*raspberry-pi-4/);
      return true;
    });
  });
});

describe('resolveConfigDir', () => {
  test('the flag wins over the environment, which wins over the default', () => {
    assert.equal(resolveConfigDir({ flag: '/a', env: '/b' }), '/a');
    assert.equal(resolveConfigDir({ env: '/b' }), '/b');
    assert.equal(resolveConfigDir({ flag: 'rel', cwd: '/base' }), '/base/rel');
  });

  test('the default is the firmware-configs/ above the code (source tree or dist/)', () => {
    assert.equal(resolveConfigDir({}), CONFIG_DIR.replace(/\/$/, ''));
    const fromBundle = pathToFileURL(join(CONFIG_DIR, '..', 'dist', 'bramble.mjs')).href;
    assert.equal(resolveConfigDir({ moduleUrl: fromBundle }), CONFIG_DIR.replace(/\/$/, ''));
  });

  test('no directory found is an error that says what to do', () => {
    assert.throws(() => resolveConfigDir({ moduleUrl: 'file:///proc/self/x.mjs' }), {
      message: /cannot find the firmware-configs\/ directory .*pass --config-dir DIR or set BRAMBLE_CONFIG_DIR/,
    });
  });
});
