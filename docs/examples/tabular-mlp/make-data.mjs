// Writes this example's two device folders: 3 classes of 4 features (Gaussian clusters of unit
// spread around one centre per class), 300 rows per device, class shares skewed apart between the
// devices (50/30/20 and 20/30/50 %), as federated data tends to be. Deterministic (seed 7):
//   node docs/examples/tabular-mlp/make-data.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const CENTRES = [
  [1.5, 0, 0, 0.5],
  [0, 1.5, -1, 0],
  [-1, -0.5, 1.5, 0],
];
const DEVICES = [
  { folder: "device-1", shares: [0.5, 0.3, 0.2] },
  { folder: "device-2", shares: [0.2, 0.3, 0.5] },
];
const ROWS = 300;

/** mulberry32: a small seeded generator, so that the files are the same on every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(7);
/** A standard normal value (Box-Muller). */
const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

for (const { folder, shares } of DEVICES) {
  const rows = [];
  shares.forEach((share, label) => {
    for (let i = 0; i < Math.round(share * ROWS); i++) rows.push([label, ...CENTRES[label].map((c) => (c + normal()).toFixed(3))]);
  });
  // Shuffled (Fisher-Yates), so that the held-out rows and the batches mix the classes.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  mkdirSync(join(here, folder), { recursive: true });
  writeFileSync(join(here, folder, "part-1.csv"), ["label,x0,x1,x2,x3", ...rows.map((r) => r.join(","))].join("\n") + "\n");
}
