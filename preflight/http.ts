import * as http from "http";
import * as https from "https";

/** What a request got: an HTTP status, or the network error that stopped it. */
export type Answer = { readonly status: number } | { readonly error: string };

/**
 * One request with a short timeout, never throwing: `socketPath` talks to a unix socket (the
 * Docker engine's API). No proxy and no keep-alive, so only the target decides the answer.
 */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; socketPath?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const client = url.startsWith("https:") ? https : http;
    const req = client.request(url, { method: opts.method ?? "GET", headers: opts.headers, socketPath: opts.socketPath, agent: false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${(opts.timeoutMs ?? 5000) / 1000} s`)));
    req.on("error", (e) => resolve({ error: e.message }));
    req.end();
  });
}
