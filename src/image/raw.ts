/** Raw images in and out of sharp: the two steps every pixel operation here begins and ends with. */
import sharp, { type Sharp } from 'sharp';
import type { RawImage } from './geometry.js';

/** A sharp pipeline over raw pixels. */
export function sharpRaw(image: RawImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

/** Runs a pipeline to raw pixels (a view of sharp's buffer, not a copy). */
export async function rawPixels(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels as 1 | 3 | 4 };
}
