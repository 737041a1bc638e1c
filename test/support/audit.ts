// The API server's own record of what a user asked of it (test/cluster/audit-policy.yaml logs
// every request of a ServiceAccount at Metadata level): the tests count the monkey's writes,
// LISTs and WATCHes from here rather than trusting what the monkey says it did.
import { readFileSync } from "node:fs";

export interface AuditEvent {
  readonly auditID: string;
  /** ResponseStarted (watches only) and ResponseComplete; RequestReceived is omitted. */
  readonly stage: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username: string };
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
}

/** The read verbs; everything else changes the cluster. */
const READS = new Set(["get", "list", "watch"]);

/** One entry per request (a watch is logged at two stages: its last one counts). */
export function requestsBy(auditLog: string, username: string): AuditEvent[] {
  const byId = new Map<string, AuditEvent>();
  for (const line of readFileSync(auditLog, "utf8").split("\n")) {
    if (!line.includes(username)) continue; // cheap pre-filter: the log holds every test's traffic
    const e = JSON.parse(line) as AuditEvent;
    if (e.user.username === username) byId.set(e.auditID, e);
  }
  return [...byId.values()];
}

export const writesBy = (auditLog: string, username: string): AuditEvent[] =>
  requestsBy(auditLog, username).filter((e) => !READS.has(e.verb));

/** When the API server received the request, in epoch ms. */
export const receivedMs = (e: AuditEvent): number => Date.parse(e.requestReceivedTimestamp);

/**
 * A watch that began with the current objects (sendInitialEvents=true, KEP-3157): a cache's
 * (re)list by streaming, where a plain watch resumes from a version.
 */
export const isStreamingList = (e: AuditEvent): boolean =>
  e.verb === "watch" &&
  new URL(e.requestURI, "https://apiserver").searchParams.get("sendInitialEvents") === "true";

/**
 * When the API server began answering each of a user's watches (its ResponseStarted stage: for
 * a streaming list, the first of its objects follow at once), by auditID, in epoch ms.
 */
export function watchStartsBy(auditLog: string, username: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(auditLog, "utf8").split("\n")) {
    if (!line.includes(username) || !line.includes('"ResponseStarted"')) continue;
    const e = JSON.parse(line) as AuditEvent;
    if (e.user.username === username && e.stage === "ResponseStarted")
      out.set(e.auditID, Date.parse(e.stageTimestamp));
  }
  return out;
}

/** When the API server finished answering it (for a LIST: sent the whole list), in epoch ms. */
export const completedMs = (e: AuditEvent): number => Date.parse(e.stageTimestamp);

/** What a LIST or WATCH asked for: the path and its selectors, without paging and versions. */
export function listKey(e: AuditEvent): string {
  const url = new URL(e.requestURI, "https://apiserver");
  const keep = ["labelSelector", "fieldSelector"].flatMap((k) => {
    const v = url.searchParams.get(k);
    return v === null ? [] : [`${k}=${v}`];
  });
  return `${url.pathname}?${keep.join("&")}`;
}

/** Evictions a user sent, as namespace/name of the pod. */
export const evictionsBy = (auditLog: string, username: string): string[] =>
  writesBy(auditLog, username)
    .filter((e) => e.verb === "create" && e.objectRef?.subresource === "eviction")
    .map((e) => `${e.objectRef?.namespace ?? ""}/${e.objectRef?.name ?? ""}`);
