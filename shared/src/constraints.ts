import type { AttributeConstraint, AttributeValue, Constraints } from "./job-spec.js";
import type { Attributes } from "./protocol.js";

type Check = (attributes: Readonly<Attributes>) => boolean;

const compiled = new WeakMap<Constraints, Check[]>();
const keys = new WeakMap<Constraints, string>();

function compileOne(name: string, constraint: AttributeConstraint): Check {
  if ("in" in constraint) {
    const allowed = new Set<AttributeValue>(constraint.in);
    return (attributes) => attributes[name] !== undefined && allowed.has(attributes[name]);
  }
  const min = constraint.min ?? Number.NEGATIVE_INFINITY;
  const max = constraint.max ?? Number.POSITIVE_INFINITY;
  return (attributes) => {
    const value = attributes[name];
    return typeof value === "number" && value >= min && value <= max;
  };
}

function checksOf(constraints: Constraints): Check[] {
  let checks = compiled.get(constraints);
  if (!checks) {
    checks = Object.entries(constraints).map(([name, constraint]) => compileOne(name, constraint));
    compiled.set(constraints, checks);
  }
  return checks;
}

/**
 * Whether a device's attributes meet a job's constraints: every constrained attribute is present
 * and within its inclusive bounds (numbers) or among its allowed values. The one eligibility test,
 * used for public constraints by the scheduler and for private ones on the device. Constraint
 * objects are treated as immutable: each is compiled once.
 */
export function meetsConstraints(attributes: Readonly<Attributes>, constraints: Constraints | undefined): boolean {
  if (!constraints) return true;
  for (const check of checksOf(constraints)) if (!check(attributes)) return false;
  return true;
}

/** A canonical key of a constraint set: jobs with equal keys constrain devices identically. */
export function constraintKey(constraints: Constraints | undefined): string {
  if (!constraints) return "{}";
  let key = keys.get(constraints);
  if (key === undefined) {
    const canonical = Object.keys(constraints)
      .sort()
      .map((name) => {
        const c = constraints[name];
        return [name, "in" in c ? { in: [...c.in].map((value) => JSON.stringify(value)).sort() } : { min: c.min ?? null, max: c.max ?? null }];
      });
    key = JSON.stringify(canonical);
    keys.set(constraints, key);
  }
  return key;
}
