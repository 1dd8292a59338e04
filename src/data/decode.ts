import sharp, { type Sharp } from 'sharp';

/**
 * Decodes an image file to a size×size monochrome uint8 image (row-major, one byte a pixel).
 * Alpha is flattened onto black; the aspect ratio is not kept (as the paper resizes frames).
 */
export async function decodeGray(file: string | Buffer, size: number): Promise<Uint8Array> {
  return grayPixels(sharp(file, { failOn: 'error' }), size);
}

/** The one preprocessing every image goes through, in training and at inference alike. */
export async function grayPixels(image: Sharp, size: number): Promise<Uint8Array> {
  const { data, info } = await image
    .flatten({ background: '#000000' })
    .grayscale()
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // Some inputs keep three identical channels after grayscale(): take the first.
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels]!;
  return out;
}
