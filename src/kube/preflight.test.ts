import { describe, expect, it } from "vitest";
import { HttpError } from "./http.js";
import { describeFailure } from "./preflight.js";

const x = {
  server: "https://127.0.0.1:6443",
  user: "system:serviceaccount:cm:chaos-monkey",
  timedOut: false,
};
const netErr = (code: string) =>
  Object.assign(new TypeError("fetch failed"), { cause: { code, message: code } });

describe("describeFailure: one line naming the server, the cause, who, and what to try", () => {
  it.each([
    [
      netErr("ECONNREFUSED"),
      /cannot reach the API server at https:\/\/127\.0\.0\.1:6443: connection refused \(as system:serviceaccount:cm:chaos-monkey\): is the cluster running\?/,
    ],
    [netErr("ENOTFOUND"), /cannot resolve the host of the API server at .*ENOTFOUND/],
    [
      netErr("UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
      /TLS with the API server at .* failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: the kubeconfig's certificate-authority/,
    ],
    [netErr("DEPTH_ZERO_SELF_SIGNED_CERT"), /TLS with/],
    [
      new HttpError(401, "GET /version: 401 Unauthorized"),
      /refused the credentials of system:serviceaccount:cm:chaos-monkey \(401 Unauthorized\)/,
    ],
    [new HttpError(403, "GET /version: 403 Forbidden"), /403 Forbidden/],
    [new HttpError(500, "GET /version: 500 boom"), /answered GET \/version: 500 boom \(as /],
  ])("%s", (err, expected) => {
    expect(describeFailure(err, x)).toMatch(expected);
  });
  it("a timeout says how long it waited and what to check", () => {
    expect(describeFailure(new Error("aborted"), { ...x, timedOut: true })).toMatch(
      /did not answer within 10s .*check --kubeconfig and --context/,
    );
  });
});
