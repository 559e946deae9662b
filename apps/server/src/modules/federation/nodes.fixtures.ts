// What tests of real node processes say to them over HTTP, as a user's client would.

export interface Answer {
  status: number;
  body: any;
}

/** One call to a node's API as the bearer of `token`; the answer's status and JSON body (null when not JSON). */
export async function call(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed };
}

/**
 * Polls until `done` holds and returns how long it took: it waits for the nodes' own pushes and
 * pulls, it never times them.
 */
export async function waitFor(what: string, done: () => Promise<boolean>, timeoutMs = 60_000) {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      if (await done()) return Date.now() - start;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
