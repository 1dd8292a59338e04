/** The checkpoint a run writes after every epoch, replaced whole so --resume always finds a complete one. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RUN_FILES } from '../model/run-files.js';

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
    const ok = await fs.access(path.join(dir, RUN_FILES.checkpointState)).then(
      () => true,
      () => false,
    );
    if (ok) return dir;
  }
  return null;
}
