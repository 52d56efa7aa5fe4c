import { describe, expect, it } from "vitest";
import type { JobOffer } from "@propius/shared";
import { chooseOffer } from "./task-loop.js";

const offers: JobOffer[] = [
  { jobId: "job_needsmany", privateConstraints: { dataset_size: { min: 500 } } },
  { jobId: "job_needssome", privateConstraints: { dataset_size: { min: 100 }, locale: { in: ["en", "fr"] } } },
  { jobId: "job_anyone000", privateConstraints: {} },
];

describe("chooseOffer", () => {
  it("accepts the first offered job whose private constraints the device meets", () => {
    expect(chooseOffer(offers, { dataset_size: 800, locale: "en" })?.jobId).toBe("job_needsmany");
    expect(chooseOffer(offers, { dataset_size: 200, locale: "fr" })?.jobId).toBe("job_needssome");
    expect(chooseOffer(offers, { dataset_size: 200, locale: "de" })?.jobId).toBe("job_anyone000");
  });

  it("declines every offer when the device meets none", () => {
    expect(chooseOffer(offers.slice(0, 2), { dataset_size: 50 })).toBeNull();
    expect(chooseOffer([], { dataset_size: 50 })).toBeNull();
  });
});
