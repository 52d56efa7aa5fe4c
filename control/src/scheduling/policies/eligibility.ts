import type { Attributes as DeviceAttributes } from "@propius/shared";

/**
 * Eligibility is one pure function for the whole platform, kept in shared so that devices check
 * private constraints with the very code the scheduler uses for public ones.
 */
export { meetsConstraints, constraintKey } from "@propius/shared";

export type Attributes = Readonly<DeviceAttributes>;
