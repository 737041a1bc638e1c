// The first errors a user meets, said plainly: before a command does anything, one GET /version
// (which every authenticated user may read) tells whether the API server is reachable, speaks
// TLS we trust and accepts our credentials — and when not, one line names the server, the cause,
// who we are, and what to try (exit 1). What RBAC then refuses is logged where it happens.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import { apiUrl, getJson, HttpError } from "./http.js";

/** A cluster that cannot be used as configured; the message is the whole story. */
export class ClusterError extends Error {}

/** How long the first answer may take before the server counts as unreachable. */
export const PREFLIGHT_TIMEOUT_MS = 10_000;

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL|HOSTNAME|ALTNAME/;

/** The network-level reason under a failed fetch (undici puts it in `cause`). */
function causeOf(err: unknown): { code: string; message: string } {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let i = 0; i < 4 && e?.cause; i++) e = e.cause;
  return {
    code: typeof e?.code === "string" ? e.code : "",
    message: typeof e?.message === "string" ? e.message : String(err),
  };
}

export function describeFailure(
  err: unknown,
  x: { server: string; user: string; timedOut: boolean },
): string {
  const where = `the API server at ${x.server}`;
  const as = `as ${x.user}`;
  if (x.timedOut)
    return `${where} did not answer within ${PREFLIGHT_TIMEOUT_MS / 1000}s (${as}): is the cluster up, and is this its address? (check --kubeconfig and --context)`;
  if (err instanceof HttpError) {
    if (err.statusCode === 401)
      return `${where} refused the credentials of ${x.user} (401 Unauthorized): the token or client certificate is wrong or expired; refresh the kubeconfig`;
    if (err.statusCode === 403)
      return `${where} refused ${x.user} even its version (403 Forbidden): check the user's RBAC`;
    return `${where} answered ${err.message} (${as})`;
  }
  const { code, message } = causeOf(err);
  if (code === "ECONNREFUSED")
    return `cannot reach ${where}: connection refused (${as}): is the cluster running? (check --kubeconfig and --context)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `cannot resolve the host of ${where} (${code}): check the kubeconfig's server address`;
  if (TLS_CODES.test(code) || TLS_CODES.test(message))
    return `TLS with ${where} failed: ${code || message}: the kubeconfig's certificate-authority does not match the server's certificate (or the server name does not)`;
  return `cannot reach ${where}: ${code ? `${code} ` : ""}${message} (${as})`;
}

/** Throws a ClusterError saying what is wrong with reaching the cluster, if anything is. */
export async function preflight(kc: KubeConfig, clock: Clock): Promise<void> {
  const server = kc.getCurrentCluster()?.server ?? "(no server)";
  const user = kc.getCurrentUser()?.name ?? "(no user)";
  const abort = new AbortController();
  const timer = new AbortController();
  let timedOut = false;
  void clock.sleep(PREFLIGHT_TIMEOUT_MS, timer.signal).then(
    () => {
      timedOut = true;
      abort.abort();
    },
    () => undefined,
  );
  try {
    await getJson(kc, apiUrl(kc, "/version", {}), abort.signal);
  } catch (err) {
    throw new ClusterError(describeFailure(err, { server, user, timedOut }));
  } finally {
    timer.abort();
  }
}
