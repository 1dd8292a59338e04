/**
 * The models a training run names besides its own: the --init model it starts from and the
 * --teacher models it learns from, resolved (bundled name or run folder) and checked, with errors
 * that name the option.
 */
import type { Arch } from '../config/recipe.js';
import { FACEAPI_MODEL } from '../inference/classifier.js';
import { readRunMetadata, resolveModel, type RunMetadata } from '../model/run-folder.js';
import { VisemoError } from '../util/errors.js';

/** The --init model's metadata, checked against the run it starts: a mismatch names the field and the fix. */
export async function readInitModel(
  dir: string,
  want: { arch: Arch; size: number; channels: 1 | 3; width: number },
): Promise<{ dir: string; metadata: RunMetadata }> {
  let abs: string;
  try {
    abs = (await resolveModel(dir)).dir;
  } catch (err) {
    if (err instanceof VisemoError) throw new VisemoError(`--init: ${err.message}`, err.hint);
    throw err;
  }
  const metadata = await readRunMetadata(abs);
  const have = { arch: metadata.arch, size: metadata.inputSize, channels: metadata.channels };
  const flags = { arch: '--arch', size: '--size', channels: '--channels' } as const;
  for (const key of Object.keys(have) as (keyof typeof have)[]) {
    if (have[key] !== want[key]) throw new VisemoError(`--init ${dir} has ${key} ${have[key]}, this run ${want[key]}`, `train with ${flags[key]} ${have[key]}`);
  }
  // A wider net starts from a narrower one with each filter copied (init-weights.ts); narrowing would lose filters.
  const startWidth = metadata.training.width ?? 1;
  if (want.width < startWidth)
    throw new VisemoError(`--init ${dir} has width ${startWidth}, wider than this run's ${want.width}`, `train with --width ${startWidth} or more`);
  return { dir: abs, metadata };
}

/** A teacher is 'faceapi', a bundled model's name (kept as the name) or a run folder (made absolute). */
export async function resolveTeacher(name: string): Promise<string> {
  if (name === FACEAPI_MODEL) return name;
  try {
    const resolved = await resolveModel(name);
    return resolved.bundled ? name : resolved.dir;
  } catch (err) {
    if (err instanceof VisemoError) throw new VisemoError(`--teacher: ${err.message}`, err.hint);
    throw err;
  }
}
