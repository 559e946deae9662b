// A file sent to the node with its upload's progress: XMLHttpRequest reports it, fetch does not.
// Same origin, the session cookie and its CSRF token, and the API's error shape, as `api()` has them.
import { ApiError, type FieldProblem, getCsrfToken } from './client.ts';

/**
 * POSTs `file` as `contentType` to `url` (the full path, `/api/v1/…`): `onProgress` gets the
 * percentage sent, the promise the node's answer (an ApiError with its details when refused).
 */
export function uploadFile<T>(
  url: string,
  file: File,
  contentType: string,
  onProgress: (percent: number) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', contentType);
    xhr.setRequestHeader('accept', 'application/json');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 200) return resolve(body as T);
      const e = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      const details = Array.isArray(e?.details) ? (e.details as FieldProblem[]) : [];
      reject(new ApiError(xhr.status, e?.code ?? 'error', e?.message ?? `HTTP ${xhr.status}`, details));
    };
    xhr.onerror = () => reject(new Error('the upload failed'));
    xhr.send(file);
  });
}
