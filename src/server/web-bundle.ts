/**
 * The page the server sends: index.html, style.css and app.js, the bundle of src/web/static/app.ts
 * and its imports (tfjs, face-api's browser build, the shared crop geometry and colours).
 *
 * Two places hold it. A packed package ships it ready in dist/web/ (scripts/pack-build.mjs writes
 * it at `npm pack`): an installed visemo serves that folder as it is, and never runs esbuild or
 * writes into its own folder. A clone (src/web/static/app.ts present) bundles with esbuild into
 * build/web/ (gitignored) when the server starts, again only when a source is newer than the
 * bundle; without esbuild it serves the bundle it has, and fails only when it has none.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../model/run-folder.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';

export const WEB_SOURCE_DIR = path.join(PACKAGE_ROOT, 'src', 'web', 'static');
/** A clone's bundle, rebuilt when the page's sources change. */
export const WEB_BUILD_DIR = path.join(PACKAGE_ROOT, 'build', 'web');
/** The packed package's page: app.js, index.html and style.css. */
export const PACKED_WEB_DIR = path.join(PACKAGE_ROOT, 'dist', 'web');
export const BUNDLE_FILE = 'app.js';
/** The page's files besides the bundle, copied as they are. */
const STATIC_FILES = ['index.html', 'style.css'] as const;
/** The project's own files in the last bundle (relative to the package root), as esbuild listed them. */
const INPUTS_FILE = 'app.inputs.json';

/** Where each of the page's files is read from. */
export interface WebPage {
  bundle: string;
  indexHtml: string;
  styleCss: string;
}

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

type Esbuild = typeof import('esbuild');

/** esbuild, or null where it is not installed (an installed visemo: it is a development dependency). */
async function loadEsbuild(): Promise<Esbuild | null> {
  try {
    return await import('esbuild');
  } catch {
    return null;
  }
}

/**
 * Bundles the page into `outDir` (app.js, and index.html and style.css copied beside it, with
 * `copyStatic`; with `recordInputs`, the list of its own sources that ensureWebBundle compares).
 * The bundle is written beside its target and renamed, so a server never serves half of one.
 * Needs a clone's sources and esbuild.
 */
export async function bundleWebPage(outDir: string, opts: { copyStatic?: boolean; recordInputs?: boolean; esbuild?: Esbuild } = {}): Promise<string> {
  const esbuild = opts.esbuild ?? (await loadEsbuild());
  if (!esbuild)
    throw new VisemoError('esbuild is not installed: it bundles the web page', 'run `npm install` in the visemo clone (esbuild is a development dependency)');
  if (!existsSync(path.join(WEB_SOURCE_DIR, 'app.ts')))
    throw new VisemoError(`the page's sources are not here (${WEB_SOURCE_DIR})`, 'bundle the page from a clone of visemo');
  await fs.mkdir(outDir, { recursive: true });
  const out = path.join(outDir, BUNDLE_FILE);
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
  if (opts.recordInputs) await writeJsonAtomic(path.join(outDir, INPUTS_FILE), own);
  await fs.rename(tmp, out);
  if (opts.copyStatic) for (const f of STATIC_FILES) await fs.copyFile(path.join(WEB_SOURCE_DIR, f), path.join(outDir, f));
  return out;
}

/** A clone's build/web/app.js, built when missing or older than the page sources (or with `force`); returns its path. */
export async function ensureWebBundle(opts: { force?: boolean } = {}): Promise<string> {
  const out = path.join(WEB_BUILD_DIR, BUNDLE_FILE);
  const built = (await fs.stat(out).catch(() => null))?.mtimeMs ?? 0;
  if (!opts.force && built > 0 && built >= (await newestSource())) return out;
  const esbuild = await loadEsbuild();
  if (!esbuild) {
    // Without esbuild, a bundle already made still serves (possibly older than the sources).
    if (built > 0) return out;
    if (existsSync(path.join(PACKED_WEB_DIR, BUNDLE_FILE))) return path.join(PACKED_WEB_DIR, BUNDLE_FILE);
  }
  return bundleWebPage(WEB_BUILD_DIR, esbuild ? { esbuild, recordInputs: true } : { recordInputs: true });
}

/**
 * The page's files for the server: in a clone, the sources' html and css and a bundle brought up
 * to date; in an installed package, dist/web/ as packed (nothing is built or written).
 */
export async function webPage(): Promise<WebPage> {
  if (existsSync(path.join(WEB_SOURCE_DIR, 'app.ts'))) {
    return { bundle: await ensureWebBundle(), indexHtml: path.join(WEB_SOURCE_DIR, 'index.html'), styleCss: path.join(WEB_SOURCE_DIR, 'style.css') };
  }
  const page: WebPage = {
    bundle: path.join(PACKED_WEB_DIR, BUNDLE_FILE),
    indexHtml: path.join(PACKED_WEB_DIR, 'index.html'),
    styleCss: path.join(PACKED_WEB_DIR, 'style.css'),
  };
  const missing = Object.values(page).filter((f) => !existsSync(f));
  if (missing.length)
    throw new VisemoError(
      `this visemo package lacks its web page (${missing.map((f) => path.relative(PACKAGE_ROOT, f)).join(', ')})`,
      'reinstall visemo: `npm pack` bundles the page into dist/web/',
    );
  return page;
}
