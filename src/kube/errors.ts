// Kubernetes API errors reduced to what a log line needs: the HTTP code and the Status message
// (client-node's ApiException text carries the whole response, headers included).
import { ApiException } from "@kubernetes/client-node";

export interface ErrorFields {
  readonly code: number | undefined;
  readonly message: string;
}

export function errorFields(err: unknown): ErrorFields {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let message = `HTTP ${err.code}`;
    try {
      const status = (typeof body === "string" ? JSON.parse(body) : body) as
        { message?: string } | undefined;
      if (status?.message) message = status.message;
    } catch {
      if (typeof body === "string" && body) message = body.slice(0, 500);
    }
    return { code: err.code, message };
  }
  const code = (err as { statusCode?: number } | null)?.statusCode;
  if (!(err instanceof Error)) return { code, message: String(err) };
  // undici says only "fetch failed"; the reason (refused, TLS, DNS) is in the cause.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return { code, message: `${err.message}${cause}` };
}
