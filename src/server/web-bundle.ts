/**
 * The page's script: src/web/static/app.ts and its imports (tfjs, face-api's browser build, the
 * shared crop geometry and colours) bundled by esbuild into build/web/ (gitignored) when the
 * server starts, and rebuilt only when a source file is newer than the bundle.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../model/run-folder.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';

export const WEB_SOURCE_DIR = path.join(PACKAGE_ROOT, 'src', 'web', 'static');
export const WEB_BUILD_DIR = path.join(PACKAGE_ROOT, 'build', 'web');
export const BUNDLE_FILE = 'app.js';
/** The project's own files in the last bundle (relative to the package root), as esbuild listed them. */
const INPUTS_FILE = 'app.inputs.json';

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? await newestMtime(p) : (await fs.stat(p)).mtimeMs);
  }
  return newest;
}

/**
 * The newest of the page's sources: the page folder and what the last build read from elsewhere
 * in src/ (image/geometry.ts, ...). Infinity when that list is missing or names a gone file.
 */
async function newestSource(): Promise<number> {
  const inputs = await readJson<string[]>(path.join(WEB_BUILD_DIR, INPUTS_FILE)).catch(() => null);
  if (!inputs) return Infinity;
  const stats = await Promise.all(inputs.map((f) => fs.stat(path.join(PACKAGE_ROOT, f)).catch(() => null)));
  if (stats.some((st) => st === null)) return Infinity;
  return Math.max(await newestMtime(WEB_SOURCE_DIR), ...stats.map((st) => st!.mtimeMs));
}

/** Builds build/web/app.js when missing or older than the page sources; returns its path. */
export async function ensureWebBundle(opts: { force?: boolean } = {}): Promise<string> {
  const out = path.join(WEB_BUILD_DIR, BUNDLE_FILE);
  const built = (await fs.stat(out).catch(() => null))?.mtimeMs ?? 0;
  if (!opts.force && built > 0 && built >= (await newestSource())) return out;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new VisemoError('esbuild is not installed: it bundles the web page', 'run `npm install` in the visemo folder (esbuild is a development dependency)');
  }
  await fs.mkdir(WEB_BUILD_DIR, { recursive: true });
  // Written beside the target and renamed, so a server never serves half a bundle.
  const tmp = `${out}.${process.pid}.tmp.js`;
  const result = await esbuild.build({
    entryPoints: [path.join(WEB_SOURCE_DIR, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outfile: tmp,
    logLevel: 'error',
    // tfjs's browser builds mention node modules behind runtime checks; they never load in the page.
    external: ['fs', 'path', 'crypto', 'worker_threads', 'os', 'util'],
    absWorkingDir: PACKAGE_ROOT,
    metafile: true,
  });
  // Keys are '/'-separated and relative to absWorkingDir; packages and esbuild's stubs ('(disabled):…') are left out.
  const own = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('src/'));
  await writeJsonAtomic(path.join(WEB_BUILD_DIR, INPUTS_FILE), own);
  await fs.rename(tmp, out);
  return out;
}
