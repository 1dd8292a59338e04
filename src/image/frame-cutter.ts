/**
 * Cuts a raw RGB byte stream (ffmpeg's rawvideo on a pipe, whose chunks end anywhere) into
 * frames by frame number, keeping only the wanted ones: video.ts's streamFrames decodes every
 * frame up to the last chosen one and drops the rest here.
 */
import type { RawImage } from './geometry.js';

/**
 * The handler for the stream's chunks: calls `onFrame` with each wanted frame as it completes.
 * Only the wanted frames' bytes are copied, and each gets its own buffer, so a frame handed on
 * is never overwritten by the next.
 */
export function frameCutter<P>(
  size: { width: number; height: number },
  wanted: ReadonlyMap<number, P>,
  onFrame: (frame: { pick: P; image: RawImage }) => void,
): (chunk: Uint8Array) => void {
  const frameBytes = size.width * size.height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let n = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(frameBytes - filled, chunk.length - at);
      if (wanted.has(n)) frame.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === frameBytes) {
        const pick = wanted.get(n);
        if (pick !== undefined) {
          onFrame({ pick, image: { data: frame, width: size.width, height: size.height, channels: 3 } });
          frame = new Uint8Array(frameBytes);
        }
        filled = 0;
        n++;
      }
    }
  };
}
