// `--board auto`: which profile fits the board we run on. The facts come through an injected
// probe so the matching is a pure function that tests drive with fake model strings.

import { readFile } from 'node:fs/promises';
import { ProfileError } from '../errors.ts';
import type { Profile } from './profile.ts';

/** What the machine says about itself; empty strings where it says nothing. */
export interface BoardFacts {
  /** systeminformation's `system().manufacturer`, e.g. "Raspberry Pi Foundation". */
  manufacturer: string;
  /** systeminformation's `system().model`, e.g. "Raspberry Pi 4 Model B Rev 1.4", "Docker Container". */
  model: string;
  /** systeminformation's `cpu().brand`, e.g. "Cortex-A72". */
  cpuBrand: string;
  /** /proc/device-tree/model on ARM boards, e.g. "NVIDIA Jetson Nano Developer Kit". */
  deviceTreeModel: string;
  /** Node's process.arch: "x64", "arm64", "arm", ... */
  arch: string;
}

export type BoardProbe = () => Promise<BoardFacts>;

export interface Detection {
  profile: Profile;
  /** One sentence for the log: why this profile was chosen. */
  reason: string;
}

/** The fallback profile for each CPU architecture Node reports. */
const GENERIC_BY_ARCH: Readonly<Record<string, string>> = {
  x64: 'generic-x86_64',
  arm64: 'generic-arm64',
  arm: 'generic-armv7',
};

export function genericBoardName(arch: string): string | undefined {
  return GENERIC_BY_ARCH[arch];
}

// Some boards (Jetson) have no DMI table, so systeminformation reports little; the device tree
// names them exactly. Absent on x86 and in containers, which is not an error.
async function readDeviceTreeModel(): Promise<string> {
  try {
    const text = await readFile('/proc/device-tree/model', 'utf8');
    return text.replace(/\0/g, '').trim();
  } catch {
    return '';
  }
}

/** The real probe: systeminformation plus the device tree. Loaded lazily: CLI commands never need it. */
export function systemProbe(): BoardProbe {
  return async () => {
    // Only the two modules detection needs: the package index loads every probe it has.
    const [{ default: systemModule }, { default: cpuModule }] = await Promise.all([import('systeminformation/lib/system.js'), import('systeminformation/lib/cpu.js')]);
    const [system, cpu, deviceTreeModel] = await Promise.all([systemModule.system(), cpuModule.cpu(), readDeviceTreeModel()]);
    return {
      manufacturer: system.manufacturer ?? '',
      model: system.model ?? '',
      cpuBrand: cpu.brand ?? '',
      deviceTreeModel,
      arch: process.arch,
    };
  };
}

interface Candidate {
  profile: Profile;
  matched: string;
  text: string;
}

// The longest matching substring wins, so "Raspberry Pi 400" is not taken for a shorter,
// more general pattern of another profile. Ties go to the first profile by name (stable).
function bestMatch(profiles: readonly Profile[], facts: BoardFacts): Candidate | undefined {
  const texts = [`${facts.manufacturer} ${facts.model}`.trim(), facts.deviceTreeModel, facts.cpuBrand].filter(
    (text) => text !== '',
  );
  let best: Candidate | undefined;
  const byName = [...profiles].sort((a, b) => a.name.localeCompare(b.name));
  for (const profile of byName) {
    for (const pattern of profile.match.models) {
      const text = texts.find((candidate) => candidate.toLowerCase().includes(pattern.toLowerCase()));
      if (text !== undefined && (best === undefined || pattern.length > best.matched.length)) {
        best = { profile, matched: pattern, text };
      }
    }
  }
  return best;
}

function describeFacts(facts: BoardFacts): string {
  const model = `${facts.manufacturer} ${facts.model}`.trim() || '(none)';
  const tree = facts.deviceTreeModel === '' ? '' : `, device tree "${facts.deviceTreeModel}"`;
  return `model "${model}", cpu "${facts.cpuBrand}"${tree}, arch ${facts.arch}`;
}

/**
 * Picks the profile whose `match.models` names this board, else `generic-<arch>`. Throws a
 * ProfileError only when neither exists (an architecture without a generic profile).
 */
export async function detectBoard(profiles: readonly Profile[], probe: BoardProbe): Promise<Detection> {
  let facts: BoardFacts;
  try {
    facts = await probe();
  } catch (error) {
    // Detection is a convenience: a failing probe degrades to the generic profile, not a crash.
    const reason = error instanceof Error ? error.message : String(error);
    facts = { manufacturer: '', model: '', cpuBrand: '', deviceTreeModel: '', arch: process.arch };
    return fallback(profiles, facts, `probing the board failed (${reason})`);
  }
  const match = bestMatch(profiles, facts);
  if (match !== undefined) {
    const archNote =
      match.profile.arch === facts.arch ? '' : ` (note: the profile is for ${match.profile.arch}, this process runs on ${facts.arch})`;
    return {
      profile: match.profile,
      reason: `"${match.text}" contains "${match.matched}" from ${match.profile.name}${archNote}`,
    };
  }
  return fallback(profiles, facts, `no profile matches ${describeFacts(facts)}`);
}

function fallback(profiles: readonly Profile[], facts: BoardFacts, why: string): Detection {
  const name = genericBoardName(facts.arch);
  const profile = name === undefined ? undefined : profiles.find((candidate) => candidate.name === name);
  if (profile === undefined) {
    const available = profiles.map((candidate) => candidate.name).join(', ') || '(none)';
    throw new ProfileError(
      `cannot detect the board: ${why}, and there is no generic profile ${name === undefined ? `for arch ${facts.arch}` : `"${name}"`}; pass --board NAME (available boards: ${available})`,
    );
  }
  return { profile, reason: `${why}; using the generic profile for ${facts.arch}` };
}
