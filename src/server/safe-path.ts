/**
 * Maps a URL path onto a file inside one folder, refusing anything that could leave it:
 * `..` segments (also percent-encoded), absolute paths, backslashes, NUL bytes, dotfiles, and
 * symbolic links that point outside.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The file under `root` that `relUrlPath` (already stripped of its route prefix) names, or null. */
export async function resolveInside(root: string, relUrlPath: string): Promise<string | null> {
  let rel: string;
  try {
    rel = decodeURIComponent(relUrlPath);
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const segments = rel.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  const base = path.resolve(root);
  const file = path.resolve(base, ...segments);
  if (!file.startsWith(base + path.sep)) return null;
  // A link inside the folder may still point elsewhere: compare real paths.
  const [realBase, realFile] = await Promise.all([fs.realpath(base).catch(() => null), fs.realpath(file).catch(() => null)]);
  if (!realBase || !realFile?.startsWith(realBase + path.sep)) return null;
  const stat = await fs.stat(realFile).catch(() => null);
  return stat?.isFile() ? realFile : null;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.mp4': 'video/mp4',
  '.map': 'application/json; charset=utf-8',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
