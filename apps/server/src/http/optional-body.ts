import type { SwaggerTransformObject } from '@fastify/swagger';
import type { FastifyRequest } from 'fastify';

interface BodySchema {
  type?: unknown;
  required?: unknown;
  properties?: unknown;
}

const optionalByBodySchema = new WeakMap<object, boolean>();

/**
 * Whether a body schema is an object of which nothing is required: such a route is an action with
 * optional details (a reason, a label), and sending no body at all means sending `{}`.
 */
export function bodyIsOptional(schema: unknown): boolean {
  if (!schema || typeof schema !== 'object') return false;
  const known = optionalByBodySchema.get(schema);
  if (known !== undefined) return known;
  const { type, required, properties } = schema as BodySchema;
  const isObject = type === 'object' || (type === undefined && properties !== undefined);
  const optional = isObject && (!Array.isArray(required) || required.length === 0);
  optionalByBodySchema.set(schema, optional);
  return optional;
}

/**
 * A request without a body (none sent, or an empty JSON body) to a route whose body is all
 * optional is read as `{}`: `withdraw` without a reason behaves as `submit` does. Before
 * validation, so defaults apply and a schema that wants at least one field still says so.
 */
export async function missingBodyAsEmpty(request: FastifyRequest) {
  if (request.body !== undefined) return;
  if (bodyIsOptional(request.routeOptions.schema?.body)) request.body = {};
}

interface OpenApiOperation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
}

/**
 * The API document says which bodies may be left out: Fastify's swagger marks every body
 * required, while `missingBodyAsEmpty` accepts none where nothing in it is required.
 */
export const documentOptionalBodies: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const paths = (document.openapiObject.paths ?? {}) as Record<string, Record<string, OpenApiOperation>>;
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const body = operation?.requestBody;
      if (body && bodyIsOptional(body.content?.['application/json']?.schema)) body.required = false;
    }
  }
  return document.openapiObject;
};
