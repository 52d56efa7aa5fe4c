import { describe, expect, it } from "vitest";
import { encodeVarint, ProtoWriter } from "./protobuf.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("encodeVarint", () => {
  it("writes seven bits per byte, least significant group first", () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(1)]).toEqual([1]);
    expect([...encodeVarint(127)]).toEqual([0x7f]);
    expect([...encodeVarint(128)]).toEqual([0x80, 0x01]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(16_383)]).toEqual([0xff, 0x7f]);
    expect([...encodeVarint(16_384)]).toEqual([0x80, 0x80, 0x01]);
  });

  it("carries values across the 32-bit boundary", () => {
    expect(hex(encodeVarint(2 ** 31 - 1))).toBe("ffffffff07");
    expect(hex(encodeVarint(2 ** 31))).toBe("8080808008");
    expect(hex(encodeVarint(2 ** 32 - 1))).toBe("ffffffff0f");
    expect(hex(encodeVarint(2 ** 32))).toBe("8080808010");
    expect(hex(encodeVarint(Number.MAX_SAFE_INTEGER))).toBe("ffffffffffffff0f");
  });

  it("gives the same bytes for a number and the equal bigint", () => {
    for (const value of [0, 5, 2 ** 28 - 1, 2 ** 28, 2 ** 31 + 12_345, 2 ** 35 + 7, 2 ** 49 - 1, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER]) {
      expect(hex(encodeVarint(value)), String(value)).toBe(hex(encodeVarint(BigInt(value))));
    }
  });

  it("writes negative numbers as 64-bit two's complement in ten bytes", () => {
    expect(hex(encodeVarint(-1))).toBe("ffffffffffffffffff01");
    expect(hex(encodeVarint(-1n))).toBe("ffffffffffffffffff01");
    expect(hex(encodeVarint(2n ** 64n - 1n))).toBe("ffffffffffffffffff01");
    expect(hex(encodeVarint(-2))).toBe("feffffffffffffffff01");
    expect(hex(encodeVarint(-(2n ** 63n)))).toBe("80808080808080808001");
  });

  it("refuses what no 64-bit varint holds", () => {
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(Number.NaN)).toThrow(RangeError);
    expect(() => encodeVarint(2 ** 53)).toThrow(RangeError);
    expect(() => encodeVarint(2n ** 64n)).toThrow(RangeError);
    expect(() => encodeVarint(-(2n ** 63n) - 1n)).toThrow(RangeError);
  });
});

describe("ProtoWriter", () => {
  // The examples of the protobuf encoding guide (protobuf.dev/programming-guides/encoding).
  it("writes a varint field as its tag and value", () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe("089601");
  });

  it("writes strings and nested messages length-delimited", () => {
    expect(hex(new ProtoWriter().string(2, "testing").finish())).toBe("120774657374696e67");
    expect(hex(new ProtoWriter().message(3, new ProtoWriter().int(1, 150)).finish())).toBe("1a03089601");
  });

  it("packs repeated varints into one field, and leaves an empty list out", () => {
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86_942]).finish())).toBe("2206038e029ea705");
    expect(new ProtoWriter().packedInts(4, []).finish()).toHaveLength(0);
  });

  it("keeps fields in the order they were written, with multi-byte tags for large field numbers", () => {
    const bytes = new ProtoWriter().int(20, 7).string(1, "a").bytes(9, Uint8Array.of(1, 2, 3)).finish();
    expect(hex(bytes)).toBe("a00107" + "0a0161" + "4a03010203");
  });

  it("refuses field numbers protobuf does not allow", () => {
    expect(() => new ProtoWriter().int(0, 1)).toThrow(RangeError);
    expect(() => new ProtoWriter().int(2 ** 29, 1)).toThrow(RangeError);
  });
});
