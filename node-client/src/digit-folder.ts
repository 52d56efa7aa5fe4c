import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { loadDigits, PIXELS } from "@propius/edge-runtime/demo";

export interface DigitFolderOptions {
  /** The digits to write, one class folder each (default 0..9). */
  digits?: number[];
  /** Folder name of each digit (default: the digit itself, `7`). */
  folderName?: (digit: number) => string;
  /** Images per class (default 4): even ones as grey PNGs, odd ones as JPEGs. */
  perClass?: number;
}

/** One written image: where it is, its digit, and the MNIST pixels it was made from. */
export interface WrittenDigit {
  path: string;
  digit: number;
  pixels: Float32Array;
}

/** A 28 x 28 digit as 8-bit RGBA, grey on every channel, opaque. */
function rgbaOf(pixels: Float32Array): Buffer {
  const rgba = Buffer.alloc(PIXELS * 4, 255);
  pixels.forEach((v, i) => rgba.fill(Math.round(v * 255), 4 * i, 4 * i + 3));
  return rgba;
}

/** A grey PNG (colour type 0), so that loading it exercises the decoder's conversion to RGBA. */
function greyPng(rgba: Buffer): Buffer {
  const png = new pngjs.PNG({ width: 28, height: 28 });
  rgba.copy(png.data);
  return pngjs.PNG.sync.write(png, { colorType: 0 });
}

/**
 * Writes real MNIST digits (from the `mnist` package) as image files in class folders,
 * `<dir>/<digit>/<k>.png|.jpg`, the layout `propius-node --data` reads: an example data folder
 * for tests and for trying a device on images.
 */
export async function writeDigitFolder(dir: string, options: DigitFolderOptions = {}): Promise<WrittenDigit[]> {
  const all = await loadDigits();
  const perClass = options.perClass ?? 4;
  const written: WrittenDigit[] = [];
  for (const digit of options.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const folder = join(dir, options.folderName?.(digit) ?? String(digit));
    await mkdir(folder, { recursive: true });
    const first = all.labels.indexOf(digit);
    for (let k = 0; k < perClass; k++) {
      const pixels = all.x.slice((first + k) * PIXELS, (first + k + 1) * PIXELS);
      const rgba = rgbaOf(pixels);
      const png = k % 2 === 0;
      const path = join(folder, `${String(k).padStart(3, "0")}.${png ? "png" : "jpg"}`);
      const bytes = png ? greyPng(rgba) : jpeg.encode({ width: 28, height: 28, data: rgba }, 95).data;
      await writeFile(path, bytes);
      written.push({ path, digit, pixels });
    }
  }
  return written;
}
