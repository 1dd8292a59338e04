/** Comparing folders as the filesystem sees them: through symbolic links, for paths that may not exist yet. */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** `p` resolved through symlinks as far as it exists (the rest appended), to compare folders. */
export async function realResolve(p: string): Promise<string> {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let dir = abs;
  for (;;) {
    try {
      return path.join(await fs.realpath(dir), ...rest);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return abs;
      rest.unshift(path.basename(dir));
      dir = parent;
    }
  }
}

/** Whether `child` is `parent` or lies inside it (both resolved already). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
