import jpeg from "jpeg-js";
import pngjs from "pngjs";

/** A decoded image: 8-bit RGBA, row by row. */
export interface DecodedImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const isPng = (bytes: Uint8Array) => PNG_SIGNATURE.every((b, i) => bytes[i] === b);
const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/**
 * Decodes a PNG or a JPEG file's bytes (told apart by their signature, not the file's name) with
 * pure-JS decoders, so the device needs no native image library. PNGs of any colour type and bit
 * depth come out as 8-bit RGBA (pngjs converts them); JPEGs as RGBA with opaque alpha.
 * Throws, with the decoder's reason, for anything else or a damaged file.
 */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  if (isPng(bytes)) {
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
  }
  if (isJpeg(bytes)) {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { rgba: image.data, width: image.width, height: image.height };
  }
  throw new Error("neither a PNG nor a JPEG file (its first bytes are neither's signature)");
}
