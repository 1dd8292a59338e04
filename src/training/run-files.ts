/** The files of a run folder, and the checks that keep a new run from clobbering an old one. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VisemoError } from '../util/errors.js';

export const RUN_FILES = {
  metadata: 'metadata.json',
  history: 'history.json',
  historyCsv: 'history.csv',
  split: 'split.json',
  checkpoint: 'checkpoint',
  checkpointState: 'state.json',
} as const;

/** Files a run writes at its top level; --force removes these and nothing else. */
const OWNED = ['model.json', 'weights.bin', RUN_FILES.metadata, RUN_FILES.history, RUN_FILES.historyCsv, RUN_FILES.split, 'metrics-test.json', 'metrics-val.json'];

export type RunDirState = 'absent' | 'empty' | 'run' | 'other';

export async function runDirState(dir: string): Promise<RunDirState> {
  const entries = await fs.readdir(dir).catch(() => null);
  if (entries === null) return 'absent';
  if (entries.length === 0) return 'empty';
  return entries.includes(RUN_FILES.metadata) ? 'run' : 'other';
}

/** Refuses a fresh run in `dir` when it would overwrite something without --force; changes nothing. */
export async function checkRunDirFree(dir: string, force: boolean): Promise<void> {
  const state = await runDirState(dir);
  if ((state === 'run' || state === 'other') && !force) {
    throw new VisemoError(
      `output folder ${dir} already exists and is not empty`,
      state === 'run' ? 'pass --resume to continue that run, --force to replace it, or choose another --out' : 'choose another --out (or --force to write into it)',
    );
  }
}

/**
 * Makes `dir` ready for a fresh run. Called only once the data and options have passed their
 * checks, so a run that fails early neither leaves an empty folder nor removes an old run.
 */
export async function claimRunDir(dir: string, force: boolean): Promise<void> {
  await checkRunDirFree(dir, force);
  if (force) {
    // Only our own files go; anything else the user put there stays.
    for (const f of OWNED) await fs.rm(path.join(dir, f), { force: true });
    await fs.rm(path.join(dir, RUN_FILES.checkpoint), { recursive: true, force: true });
    await fs.rm(path.join(dir, `${RUN_FILES.checkpoint}.old`), { recursive: true, force: true });
  }
  await fs.mkdir(dir, { recursive: true });
}

/**
 * Replaces the checkpoint folder as a whole: the new one is written beside it and renamed into
 * place, so an interruption leaves either the old or the new checkpoint, never a mix.
 */
export async function replaceCheckpoint(runDir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  const final = path.join(runDir, RUN_FILES.checkpoint);
  const tmp = path.join(runDir, `.${RUN_FILES.checkpoint}.${process.pid}.tmp`);
  const old = `${final}.old`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await write(tmp);
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(final, old).catch(() => undefined);
  await fs.rename(tmp, final);
  await fs.rm(old, { recursive: true, force: true });
}

/** The checkpoint to resume from: the current one, or the previous one if a swap was interrupted. */
export async function findCheckpoint(runDir: string): Promise<string | null> {
  for (const name of [RUN_FILES.checkpoint, `${RUN_FILES.checkpoint}.old`]) {
    const dir = path.join(runDir, name);
    const ok = await fs.access(path.join(dir, RUN_FILES.checkpointState)).then(() => true, () => false);
    if (ok) return dir;
  }
  return null;
}
