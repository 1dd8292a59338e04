import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The one hash: sha256 of the parts in order, as hex, cut to `length` characters (fingerprints, cache keys). */
export function hashHex(parts: Iterable<string | Uint8Array> | string | Uint8Array, length = 64): string {
  const h = createHash('sha256');
  if (typeof parts === 'string' || parts instanceof Uint8Array) h.update(parts);
  else for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, length);
}

/** sha256 of a file's bytes as hex, read as a stream (videos of any length). */
export async function hashFileHex(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
