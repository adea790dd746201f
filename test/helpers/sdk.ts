// matrix-js-sdk clients for tests, quiet and without crypto unless asked.
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";

// The SDK logs through loglevel to the console; keep test output readable.
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
export const sdkLogger = { ...quiet, getChild: () => sdkLogger } as unknown as sdk.ICreateClientOpts["logger"];

export function client(baseUrl: string, opts: Partial<sdk.ICreateClientOpts> = {}): sdk.MatrixClient {
  return sdk.createClient({ baseUrl, logger: sdkLogger, ...opts });
}

/** Awaits a matrix-js-sdk call that must fail with this Matrix error. */
export async function expectError(p: Promise<unknown>, errcode: string, status: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof sdk.MatrixError, String(e));
    assert.equal(e.errcode, errcode, e.message);
    assert.equal(e.httpStatus, status);
    return;
  }
  assert.fail(`expected ${errcode}`);
}

export { sdk };
