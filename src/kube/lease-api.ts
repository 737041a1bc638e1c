// The one Lease the election uses, behind a narrow interface (STYLE §4). Every call takes an
// AbortSignal so the elector can cut a renewal off at its deadline: an answer that comes later
// must not count (SPEC §7.5). client-node's CoordinationV1Api cannot take a signal, so the real
// implementation speaks plain HTTP with the kubeconfig's credentials.
import type { KubeConfig } from "@kubernetes/client-node";
import { HttpError, apiUrl, getJson, sendJson } from "./http.js";

/** coordination.k8s.io/v1 LeaseSpec; times are MicroTime strings (see microTime). */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface LeaseRecord {
  /** As read (labels, uid… included at run time); resourceVersion guards a replace. */
  readonly metadata: { readonly name?: string; readonly resourceVersion: string };
  readonly spec: LeaseSpec;
}

export interface LeaseApi {
  /** The Lease, or undefined when there is none (404). */
  read(signal: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Creates the Lease; LeaseConflict when it exists already. */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<LeaseRecord>;
  /** Replaces it if still at record.metadata.resourceVersion; LeaseConflict when not. */
  replace(record: LeaseRecord, signal: AbortSignal): Promise<LeaseRecord>;
}

/** Someone else wrote the Lease first (HTTP 409): its holder is not who we last saw. */
export class LeaseConflict extends HttpError {
  constructor(message: string) {
    super(409, message);
    this.name = "LeaseConflict";
  }
}

/**
 * RFC 3339 with exactly six fractional digits, the only form a Lease's renewTime/acquireTime
 * accepts. Computed on integer microseconds so no float rounding shows in the digits.
 */
export function microTime(epochMs: number): string {
  const us = Math.round(epochMs * 1000);
  const seconds = Math.floor(us / 1_000_000);
  const fraction = String(us - seconds * 1_000_000).padStart(6, "0");
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

const GROUP = "/apis/coordination.k8s.io/v1";

export function httpLeaseApi(kc: KubeConfig, namespace: string, name: string): LeaseApi {
  const collection = `${GROUP}/namespaces/${encodeURIComponent(namespace)}/leases`;
  const one = apiUrl(kc, `${collection}/${encodeURIComponent(name)}`, {});
  const write = (url: URL, req: Parameters<typeof sendJson>[2]): Promise<LeaseRecord> =>
    sendJson(kc, url, req).then(toRecord, conflictAsLeaseConflict);
  return {
    read: (signal) =>
      getJson(kc, one, signal).then(toRecord, (err: unknown) => {
        if (err instanceof HttpError && err.statusCode === 404) return undefined;
        throw err;
      }),
    create: (spec, signal) =>
      write(apiUrl(kc, collection, {}), {
        method: "POST",
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec },
        signal,
      }),
    replace: (record, signal) =>
      write(one, {
        method: "PUT",
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: record.metadata,
          spec: record.spec,
        },
        signal,
      }),
  };
}

function conflictAsLeaseConflict(err: unknown): never {
  if (err instanceof HttpError && err.statusCode === 409) throw new LeaseConflict(err.message);
  throw err;
}

function toRecord(json: unknown): LeaseRecord {
  const lease = json as { metadata?: { resourceVersion?: unknown }; spec?: unknown } | null;
  const rv = lease?.metadata?.resourceVersion;
  if (typeof rv !== "string") throw new Error("a Lease without metadata.resourceVersion");
  const spec = (lease?.spec ?? {}) as LeaseSpec;
  return { metadata: lease?.metadata as LeaseRecord["metadata"], spec };
}
