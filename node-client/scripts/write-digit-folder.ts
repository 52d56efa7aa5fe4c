// Writes an example data folder of real MNIST digit images for `propius-node --data`:
//   node --import tsx node-client/scripts/write-digit-folder.ts <folder> [images per class]
import { resolve } from "node:path";
import { writeDigitFolder } from "../src/digit-folder.js";

const [dir, perClass] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: write-digit-folder <folder> [images per class, default 4]\n");
  process.exit(2);
}
const written = await writeDigitFolder(resolve(dir), { perClass: perClass === undefined ? undefined : Number(perClass) });
process.stdout.write(`wrote ${written.length} digit images (PNG and JPEG) in class folders 0..9 under ${resolve(dir)}\n`);
