/**
 * Test-only: reads the binary PPM (P6) that `pdftoppm` writes and compares two renderings of a page,
 * so a test can say "the stamp changed these pixels and no others".
 */

export interface Raster {
  readonly width: number;
  readonly height: number;
  /** RGB, three bytes a pixel, rows top to bottom. */
  readonly pixels: Uint8Array;
}

/** A box of pixels: `left ≤ x < right`, `top ≤ y < bottom`, y counted down from the top row. */
export interface PixelBox {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** Larger rasters are not what a 36 dpi rendering of one page produces. */
const rasterPixelsMax = 64 * 1024 * 1024;

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0b || byte === 0x0c;
}

/** Parses `P6 width height maxval` (with `#` comments) followed by one whitespace byte and the pixels. */
export function parsePpm(bytes: Uint8Array): Raster {
  const fields: number[] = [];
  let position = 2;
  if (bytes[0] !== 0x50 || bytes[1] !== 0x36) throw new Error('PPM: not a binary P6 file');
  while (fields.length < 3) {
    if (position >= bytes.length || position > 1024) throw new Error('PPM: header is truncated');
    const byte = bytes[position];
    if (isWhitespace(byte)) {
      position += 1;
    } else if (byte === 0x23) {
      while (position < bytes.length && bytes[position] !== 0x0a) position += 1;
    } else {
      let value = 0;
      while (position < bytes.length && bytes[position]! >= 0x30 && bytes[position]! <= 0x39) {
        value = value * 10 + bytes[position]! - 0x30;
        position += 1;
      }
      if (!isWhitespace(bytes[position])) throw new Error(`PPM: unexpected byte at ${position}`);
      fields.push(value);
    }
  }
  const [width, height, maxValue] = fields as [number, number, number];
  if (maxValue !== 255) throw new Error(`PPM: maxval ${maxValue}, expected 255`);
  if (width * height > rasterPixelsMax) throw new Error('PPM: raster too large');
  const start = position + 1;
  const pixels = bytes.subarray(start, start + width * height * 3);
  if (pixels.length !== width * height * 3) throw new Error('PPM: pixel data is truncated');
  return { width, height, pixels };
}

export interface RasterDifference {
  readonly inside: number;
  readonly outside: number;
  /** The first differing pixel outside the box, row by row, for the failure message. */
  readonly firstOutside: readonly [number, number] | null;
}

/** Counts the pixels that differ between two renderings inside and outside `box`. */
export function compareRasters(before: Raster, after: Raster, box: PixelBox): RasterDifference {
  if (before.width !== after.width || before.height !== after.height) {
    throw new Error(
      `rasters differ in size: ${before.width}×${before.height} and ${after.width}×${after.height}`,
    );
  }
  let inside = 0;
  let outside = 0;
  let firstOutside: [number, number] | null = null;
  for (let y = 0; y < before.height; y += 1) {
    for (let x = 0; x < before.width; x += 1) {
      const offset = (y * before.width + x) * 3;
      const same =
        before.pixels[offset] === after.pixels[offset] &&
        before.pixels[offset + 1] === after.pixels[offset + 1] &&
        before.pixels[offset + 2] === after.pixels[offset + 2];
      if (same) continue;
      const within = x >= box.left && x < box.right && y >= box.top && y < box.bottom;
      if (within) inside += 1;
      else {
        outside += 1;
        firstOutside ??= [x, y];
      }
    }
  }
  return { inside, outside, firstOutside };
}

/**
 * The pixel box of a seal at (x, y) with side `sizePt` on the visible page, in a rendering of
 * `raster.width` × `raster.height` pixels of a `widthPt` × `heightPt` page, grown by `marginPixels`.
 */
export function sealPixelBox(
  raster: { readonly width: number; readonly height: number },
  page: { readonly widthPt: number; readonly heightPt: number },
  seal: { readonly x: number; readonly y: number; readonly sizePt: number },
  marginPixels: number,
): PixelBox {
  const scaleX = raster.width / page.widthPt;
  const scaleY = raster.height / page.heightPt;
  return {
    left: Math.floor(seal.x * scaleX) - marginPixels,
    right: Math.ceil((seal.x + seal.sizePt) * scaleX) + marginPixels,
    top: Math.floor((page.heightPt - seal.y - seal.sizePt) * scaleY) - marginPixels,
    bottom: Math.ceil((page.heightPt - seal.y) * scaleY) + marginPixels,
  };
}
