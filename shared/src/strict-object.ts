import { z } from "zod";

/**
 * A zod object that refuses keys it does not know, naming each one by its whole path and, where
 * a known key is close, the key meant: `plan.batchsize is not a field; did you mean
 * plan.batchSize?`. Every object of a job spec is one, so that a misspelt optional field is an
 * error rather than a default silently applied.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownKeysMessage(issue.path ?? [], issue.keys, known) : undefined),
  });
}

/** The message for keys an object does not know, with the closest known key for each. */
export function unknownKeysMessage(path: readonly PropertyKey[], keys: readonly string[], known: readonly string[]): string {
  const at = (key: string) => [...path, key].map(String).join(".");
  return keys
    .map((key) => {
      const meant = closestName(key, known);
      return meant ? `${at(key)} is not a field; did you mean ${at(meant)}?` : `${at(key)} is not a field (${path.length ? `${path.map(String).join(".")} takes` : "fields:"} ${known.join(", ")})`;
    })
    .join("; ");
}

/**
 * The candidate `name` most likely stands for, or null when none is close: the same name in
 * another case; else the nearest by edit distance (a swap of two neighbours counts as one edit),
 * within a third of the name's length (at least one edit); else the one candidate it begins
 * (`every` for `everyRounds`) or that begins it (`minimum` for `min`).
 */
export function closestName(name: string, candidates: readonly string[]): string | null {
  const lower = name.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const near = nearest(lower, candidates);
  if (near) return near;
  const extended = lower.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : [];
  if (extended.length === 1) return extended[0];
  const shortened = candidates.filter((c) => c.length >= 3 && lower.startsWith(c.toLowerCase()));
  return shortened.length === 1 ? shortened[0] : null;
}

function nearest(lower: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(lower.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
