/**
 * Pixels and boxes: the image types and the crop geometry every part shares. Pure arithmetic
 * with no imports, so the web page (bundled for the browser) uses these very functions and
 * cuts faces where Node does.
 */

/** Raw interleaved pixels, row-major, 8 bits a channel. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A rectangle in pixel coordinates of the image it was found in. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The part of `b` inside a width×height image (a zero or negative size when none is). */
export function clipBox(b: FaceBox, width: number, height: number): FaceBox {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  return { x, y, width: Math.min(width, b.x + b.width) - x, height: Math.min(height, b.y + b.height) - y };
}

/**
 * The square to cut around a face: centred on the box, side = longest box side × (1 + 2·margin),
 * in whole pixels. It may reach outside the image; cropFace pads such parts.
 */
export function squareAround(box: FaceBox, margin: number): FaceBox {
  const side = Math.max(1, Math.round(Math.max(box.width, box.height) * (1 + 2 * margin)));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const x = Math.round(cx - side / 2);
  const y = Math.round(cy - side / 2);
  return { x, y, width: side, height: side };
}

/** A box in whole pixels, as results report it. */
export function roundBox(b: FaceBox): FaceBox {
  return { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
}

/** The centred square of a width×height image (the face when detection is skipped). */
export function centreSquare(width: number, height: number): FaceBox {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

/** The face (anything with a box) with the largest box area, or undefined when there is none. */
export function largestFace<T extends { box: FaceBox }>(faces: T[]): T | undefined {
  let best: T | undefined;
  for (const f of faces) if (!best || f.box.width * f.box.height > best.box.width * best.box.height) best = f;
  return best;
}

/**
 * The pixels of `box` (whole pixels, inside the image) copied out row by row: cheaper than a
 * sharp round trip for the small windows a tracker searches.
 */
export function cropPixels(image: RawImage, box: FaceBox): RawImage {
  const { width, height, channels } = image;
  const x = Math.max(0, Math.round(box.x));
  const y = Math.max(0, Math.round(box.y));
  const w = Math.min(width - x, Math.round(box.width));
  const h = Math.min(height - y, Math.round(box.height));
  if (w <= 0 || h <= 0) throw new RangeError(`box ${JSON.stringify(box)} lies outside the ${width}x${height} image`);
  const data = new Uint8Array(w * h * channels);
  for (let r = 0; r < h; r++) data.set(image.data.subarray(((y + r) * width + x) * channels, ((y + r) * width + x + w) * channels), r * w * channels);
  return { data, width: w, height: h, channels };
}
