/**
 * How deep a JSON text may nest its arrays and objects where the control plane reads one (request
 * bodies, push frames, weights headers). Checked on the text before it is parsed, so that nothing
 * downstream (validation, a Durable Object call's serialization) recurses into a hostile depth: a
 * layers-model topology nests about a dozen levels.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `text` nests arrays and objects deeper than `max`; strings (and their escapes) are skipped. One pass, no allocation. */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
