// matrix-js-sdk clients for tests, quiet and without crypto unless asked.
import * as sdk from "matrix-js-sdk";

// The SDK logs through loglevel to the console; keep test output readable.
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
export const sdkLogger = { ...quiet, getChild: () => sdkLogger } as unknown as sdk.ICreateClientOpts["logger"];

export function client(baseUrl: string, opts: Partial<sdk.ICreateClientOpts> = {}): sdk.MatrixClient {
  return sdk.createClient({ baseUrl, logger: sdkLogger, ...opts });
}

export { sdk };
