import { PropiusError } from "@propius/shared";

/** The stable code of the PropiusError `fn` throws; fails the test if it throws nothing or something else. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof PropiusError) return error.code;
    throw error;
  }
  throw new Error("expected an error");
}

/** The stable code of the PropiusError `fn`'s promise rejects with; fails the test if it resolves or rejects with something else. */
export async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof PropiusError) return error.code;
    throw error;
  }
  throw new Error("expected an error");
}
