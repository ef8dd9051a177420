// The machine bramble runs on: board profiles (validated), board detection, profile directory.
export { PROFILE_SHAPE, parseProfile, profileStem, validateProfile } from './profile.ts';
export type { Arch, Profile, Snapshotter } from './profile.ts';
export { detectBoard, genericBoardName, systemProbe } from './detect.ts';
export type { BoardFacts, BoardProbe, Detection } from './detect.ts';
export { AUTO_BOARD, listBoards, loadAllProfiles, loadProfile } from './load.ts';
export type { LoadedProfile, LoadProfileOptions } from './load.ts';
export { CONFIG_DIR_ENV, CONFIG_DIR_NAME, resolveConfigDir } from './config-dir.ts';
export type { ConfigDirSources } from './config-dir.ts';
export { openDataDir } from './data-dir.ts';
export type { DataDir } from './data-dir.ts';
