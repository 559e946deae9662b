// The node's TAXII 2.1 server (/taxii2/), read by the app itself to show people how their tools
// connect: its own media type and error resource, not the API's. The session cookie is accepted
// there like anywhere, and the app only reads (GET needs no CSRF token).
import { useQuery } from '@tanstack/react-query';
import { ApiError } from './client.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

/** The discovery resource (`GET /taxii2/`): its API roots are absolute, the node's public URL. */
export interface TaxiiDiscovery {
  title: string;
  description?: string;
  default?: string;
  api_roots: string[];
}

/** A collection the caller may read (TAXII's own field names). */
export interface TaxiiCollection {
  id: string;
  title: string;
  description?: string;
  can_read: boolean;
  can_write: boolean;
  media_types?: string[];
}

/** A TAXII error message resource, as the node sends it. */
interface TaxiiErrorBody {
  title?: string;
  description?: string;
  error_code?: string;
}

/** GET a TAXII resource with the session; a refusal becomes an ApiError with the node's description. */
export async function taxii<T>(path: string): Promise<T> {
  const response = await fetch(path, {
    headers: { accept: TAXII_MEDIA_TYPE },
    credentials: 'same-origin',
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed ?? {}) as TaxiiErrorBody;
    throw new ApiError(
      response.status,
      error.error_code ?? 'error',
      error.description ?? error.title ?? `${response.status} ${response.statusText}`,
    );
  }
  return parsed as T;
}

/** The API root the node names (its default, else its first): ends with a slash. */
export const apiRootOf = (discovery: TaxiiDiscovery): string | null =>
  discovery.default ?? discovery.api_roots[0] ?? null;

/** A collection's address under an API root (TAXII addresses end with a slash). */
export const collectionUrl = (apiRoot: string, collectionId: string) =>
  `${apiRoot}collections/${collectionId}/`;

/** The discovery resource: the node's public URL does not change while the app runs. */
export const useTaxiiDiscovery = () =>
  useQuery({
    queryKey: ['taxii', 'discovery'],
    queryFn: () => taxii<TaxiiDiscovery>('/taxii2/'),
    staleTime: Number.POSITIVE_INFINITY,
  });

/** The collections the signed-in user may read. */
export const useTaxiiCollections = () =>
  useQuery({
    queryKey: ['taxii', 'collections'],
    queryFn: async () =>
      (await taxii<{ collections?: TaxiiCollection[] }>('/taxii2/api/collections/')).collections ?? [],
  });
