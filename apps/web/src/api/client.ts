// The one way the app talks to its node: same origin, the session cookie, and the session's CSRF
// token on every unsafe method. Errors come back as ApiError with the API's code and field details.

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }

  /** The message for one field (`/title`, `title`, `affectedEntity/name`, …), when the API named it. */
  forField(field: string): string | undefined {
    const norm = (f: string) =>
      f
        .replace(/^\/+/, '')
        .replace(/^body\//, '')
        .replace(/\./g, '/');
    const wanted = norm(field);
    return this.details.find((d) => norm(d.field) === wanted)?.message;
  }
}

let csrfToken: string | null = null;
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};
export const getCsrfToken = () => csrfToken;

/** Called when the node says the session is gone (401): the app goes back to the login page. */
let onUnauthenticated: () => void = () => {};
export const setOnUnauthenticated = (fn: () => void) => {
  onUnauthenticated = fn;
};

type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface CallOptions {
  method?: string;
  query?: Query;
  body?: unknown;
  /** A raw body (file upload, CSV) with its content type; JSON otherwise. */
  raw?: { body: BodyInit; type: string };
  ifMatch?: number;
  signal?: AbortSignal;
}

/** Validator wording, said the way a person would. */
const plain = (message: string) =>
  message
    .replace(/^must NOT have fewer than 1 characters?$/, 'is required')
    .replace(/^must NOT have /, 'must not have ');

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const method = options.method ?? (options.body !== undefined || options.raw ? 'POST' : 'GET');
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.raw) {
    headers['content-type'] = options.raw.type;
    body = options.raw.body;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
  const response = await fetch(withQuery(`/api/v1${path}`, options.query), {
    method,
    headers,
    body,
    credentials: 'same-origin',
    signal: options.signal ?? null,
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | null)
      ?.error;
    const details = Array.isArray(error?.details)
      ? (error.details as FieldProblem[]).map((d) => ({ ...d, message: plain(d.message) }))
      : [];
    // A refused login (password or code) is an answer to show, not a session that ended.
    if (response.status === 401 && path !== '/session' && path !== '/session/mfa') onUnauthenticated();
    throw new ApiError(
      response.status,
      error?.code ?? 'error',
      error?.message ?? `${response.status} ${response.statusText}`,
      details,
    );
  }
  return parsed as T;
}

export const errorText = (error: unknown): string =>
  error instanceof ApiError
    ? `${error.message}${error.details.length ? ` (${error.details.map((d) => `${d.field}: ${d.message}`).join('; ')})` : ''}`
    : error instanceof Error
      ? error.message
      : String(error);
