// Plain JSON GETs with the kubeconfig's credentials, for lists that feed the watch caches. Lists
// and watch events then share one representation (the API's JSON), with no typed-model
// conversion in between.
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { fetch } from "undici";

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function apiUrl(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

export async function getJson(kc: KubeConfig, url: URL, signal?: AbortSignal): Promise<unknown> {
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    headers: ctx.getHeaders(),
    dispatcher: ctx.getDispatcher() as never,
    ...(signal ? { signal } : {}),
  });
  if (!res.ok)
    throw new HttpError(res.status, `GET ${url.pathname}: ${res.status} ${res.statusText}`);
  return res.json();
}

export interface JsonRequest {
  readonly method: "POST" | "PUT";
  readonly body: unknown;
  readonly signal?: AbortSignal;
}

/** A JSON write; a refusal throws HttpError carrying the API's Status message. */
export async function sendJson(kc: KubeConfig, url: URL, req: JsonRequest): Promise<unknown> {
  const ctx = new RequestContext(url.toString(), req.method);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    method: req.method,
    headers: {
      ...ctx.getHeaders(),
      "content-type": "application/json",
      accept: "application/json",
    },
    body: JSON.stringify(req.body),
    dispatcher: ctx.getDispatcher() as never,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (!res.ok) {
    const why = statusMessage(await res.text()) ?? res.statusText;
    throw new HttpError(res.status, `${req.method} ${url.pathname}: ${res.status} ${why}`);
  }
  return res.json();
}

function statusMessage(text: string): string | undefined {
  try {
    const status = JSON.parse(text) as { message?: unknown } | null;
    if (typeof status?.message === "string") return status.message;
  } catch {
    // not a Status object
  }
  return text ? text.slice(0, 300) : undefined;
}
