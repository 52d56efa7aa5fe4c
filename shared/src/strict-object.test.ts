import { describe, expect, it } from "vitest";
import { z } from "zod";
import { closestName, editDistance, strictObject } from "./strict-object.js";

describe("strict objects", () => {
  const schema = strictObject({ plan: strictObject({ batchSize: z.number().optional(), deltaCodec: z.string().optional() }), name: z.string() });

  it("names an unknown key by its whole path and the key meant", () => {
    const result = schema.safeParse({ name: "a", plan: { batchsize: 64 } });
    expect(result.error?.issues.map((i) => i.message)).toEqual(["plan.batchsize is not a field; did you mean plan.batchSize?"]);
  });

  it("lists the fields an object takes when no key is close", () => {
    const result = schema.safeParse({ name: "a", plan: {}, colour: "red" });
    expect(result.error?.issues[0].message).toBe("colour is not a field (fields: plan, name)");
  });

  it("accepts an object with only known keys", () => {
    expect(schema.parse({ name: "a", plan: { deltaCodec: "int8" } })).toEqual({ name: "a", plan: { deltaCodec: "int8" } });
  });
});

describe("closestName", () => {
  const fields = ["batchSize", "deltaCodec", "localEpochs", "localSteps", "everyRounds", "constraints", "privateConstraints"];

  it("finds a name in another case, a typo, a swap and a prefix", () => {
    expect(closestName("batchsize", fields)).toBe("batchSize");
    expect(closestName("deltacodec", fields)).toBe("deltaCodec");
    expect(closestName("constraint", fields)).toBe("constraints");
    expect(closestName("locaElpochs", fields)).toBe("localEpochs");
    expect(closestName("every", fields)).toBe("everyRounds");
    expect(closestName("minimum", ["min", "max", "in"])).toBe("min");
  });

  it("offers nothing for a name far from every candidate, or a prefix of several", () => {
    expect(closestName("colour", fields)).toBeNull();
    expect(closestName("local", fields)).toBeNull();
  });

  it("counts an adjacent swap as one edit", () => {
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
});
