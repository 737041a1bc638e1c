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
