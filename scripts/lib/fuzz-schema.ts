import type { Chance } from "./fuzz-random.js";

/**
 * Values for the fuzz run from the JSON Schemas of the served OpenAPI document: a valid sample,
 * values of a type the schema does not allow, and hostile values of any kind (boundary and huge
 * numbers, long and odd strings, big arrays, keys that name prototypes).
 */
export type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  example?: unknown;
  default?: unknown;
};

export type Components = Record<string, Schema>;

export function resolve(schema: Schema, components: Components): Schema {
  for (let s = schema, hops = 0; hops < 16; hops++) {
    if (!s.$ref) return s.allOf?.length === 1 ? resolve(s.allOf[0], components) : s;
    s = components[s.$ref.split("/").pop()!] ?? {};
  }
  return {};
}

function typesOf(schema: Schema, components: Components): string[] {
  const s = resolve(schema, components);
  if (s.anyOf || s.oneOf) return [...new Set((s.anyOf ?? s.oneOf)!.flatMap((o) => typesOf(o, components)))];
  if (s.enum) return [...new Set(s.enum.map(jsonType))];
  if (s.const !== undefined) return [jsonType(s.const)];
  if (!s.type) return s.properties ? ["object"] : [];
  return Array.isArray(s.type) ? s.type : [s.type];
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : typeof value;
}

/** A value the schema (most likely) accepts: its example or default, else built from its type and bounds. */
export function sample(schema: Schema, components: Components, rng: Chance, depth = 0): unknown {
  const s = resolve(schema, components);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (s.enum) return rng.pick(s.enum);
  if (s.anyOf || s.oneOf) return sample(rng.pick((s.anyOf ?? s.oneOf)!), components, rng, depth);
  const type = typesOf(s, components)[0];
  if (type === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(s.properties ?? {})) if (depth < 6 && (s.required?.includes(key) || rng.chance(0.5))) out[key] = sample(property, components, rng, depth + 1);
    return out;
  }
  if (type === "array") return depth < 6 ? Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items ?? {}, components, rng, depth + 1)) : [];
  if (type === "integer" || type === "number") return Math.max(s.minimum ?? 1, s.exclusiveMinimum === undefined ? 1 : s.exclusiveMinimum + 1);
  if (type === "boolean") return true;
  if (type === "string") return "x".repeat(Math.max(1, s.minLength ?? 1));
  return null;
}

const ALL_TYPES: [string, (rng: Chance) => unknown][] = [
  ["string", (rng) => rng.pick(["", "1", "true", "null", "NaN"])],
  ["integer", (rng) => rng.pick([0, -1, 1, 2 ** 53 + 2])],
  ["number", (rng) => rng.pick([0.5, -1.5, 1e308])],
  ["boolean", (rng) => rng.chance(0.5)],
  ["null", () => null],
  ["array", () => [1, "a", null]],
  ["object", () => ({ a: 1 })],
];

/** A value of a JSON type the schema does not allow, or undefined when it allows every type. */
export function wrongType(schema: Schema, components: Components, rng: Chance): unknown {
  const allowed = new Set(typesOf(schema, components));
  if (allowed.size === 0) return undefined;
  if (allowed.has("number")) allowed.add("integer");
  const others = ALL_TYPES.filter(([type]) => !allowed.has(type));
  return others.length ? rng.pick(others)[1](rng) : undefined;
}

/** Hostile values of any kind, each with what it is. */
export function hostileValue(rng: Chance): [string, unknown] {
  const kinds: (() => [string, unknown])[] = [
    () => ["a boundary number", rng.pick([-1, 0, -0, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 5e-324, 1.5, 2 ** 31, 2 ** 32 + 1])],
    () => ["a long string", "A".repeat(rng.pick([129, 257, 2_001, 10_000, 100_000]))],
    () => ["an odd string", rng.pick(["\u0000", "\ud800", "\udfff\ud800", "\u202eevil", "💥".repeat(64), "../../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "%00%ff", "\r\nX-Injected: 1", "job_" + "a".repeat(65), "NaN", "Infinity", "-0", "1e999"])],
    () => ["a big array", Array.from({ length: rng.pick([1_000, 20_000]) }, (_, i) => i)],
    () => ["an object with odd keys", rng.pick([{ __proto__: { polluted: true } }, JSON.parse('{"__proto__":{"polluted":1}}'), { constructor: { prototype: { x: 1 } } }, Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]))])],
    () => ["a nested value", nest(rng.pick([8, 40, 63]))],
    () => ["null", null],
  ];
  return rng.pick(kinds)();
}

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** The places inside a value its schema names (object properties, array items), with their schemas, up to `depth` deep. */
export function placesIn(schema: Schema, components: Components, depth = 4): { path: string[]; schema: Schema }[] {
  const s = resolve(schema, components);
  const places: { path: string[]; schema: Schema }[] = [];
  if (depth === 0) return places;
  for (const [key, property] of Object.entries(s.properties ?? {})) {
    places.push({ path: [key], schema: property });
    for (const inner of placesIn(property, components, depth - 1)) places.push({ path: [key, ...inner.path], schema: inner.schema });
  }
  if (s.items) for (const inner of placesIn(s.items, components, depth - 1)) places.push({ path: ["0", ...inner.path], schema: inner.schema });
  return places;
}

/** `value` with `path` set to `to` (containers made on the way), or removed when `to` is undefined. */
export function setAt(value: unknown, path: string[], to: unknown): unknown {
  const root = structuredClone(value ?? {}) as Record<string, unknown>;
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (to === undefined) delete node[last];
  else Object.defineProperty(node, last, { value: to, enumerable: true, writable: true, configurable: true }); // `__proto__` as a key of its own
  return root;
}
