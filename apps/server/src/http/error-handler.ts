import { TimestampSchema } from '@vytis/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type FieldProblem } from '../errors.ts';
import { TIME_FORMAT_HINT } from './time-format.ts';

const TIMESTAMP_PATTERN = (TimestampSchema as { pattern?: string }).pattern;

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'invalid_input',
  406: 'invalid_input',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'invalid_input',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** `body/window/from` style names, so a client can point at the field to fix. */
export function validationProblems(context: string, issues: readonly AjvIssue[]): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    const base = `${context}${issue.instancePath}`;
    let problem: FieldProblem;
    if (issue.keyword === 'additionalProperties') {
      problem = { field: `${base}/${String(issue.params.additionalProperty)}`, message: 'unknown field' };
    } else if (issue.keyword === 'required') {
      problem = { field: `${base}/${String(issue.params.missingProperty)}`, message: 'is required' };
    } else if (
      (issue.keyword === 'format' && issue.params.format === 'date-time') ||
      (issue.keyword === 'pattern' && issue.params.pattern === TIMESTAMP_PATTERN)
    ) {
      // A regular expression says nothing to a person; what a time must look like does.
      problem = { field: base, message: TIME_FORMAT_HINT };
    } else if (issue.keyword === 'anyOf' || issue.keyword === 'const') {
      // Unions of literals: ajv reports each branch; say once what is allowed.
      problem = { field: base, message: 'is not one of the allowed values' };
    } else {
      problem = { field: base, message: issue.message ?? `fails ${issue.keyword}` };
    }
    const key = `${problem.field}:${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  // A failed union branch also yields that branch's own errors; keep the union's summary line,
  // unless a branch says what a time must look like (a nullable time), which says more.
  const fieldsWith = (message: string) =>
    new Set(problems.filter((p) => p.message === message).map((p) => p.field));
  const unionFields = fieldsWith('is not one of the allowed values');
  const timeFields = fieldsWith(TIME_FORMAT_HINT);
  return problems.filter((p) =>
    p.message === 'is not one of the allowed values'
      ? !timeFields.has(p.field)
      : !unionFields.has(p.field) || p.message === TIME_FORMAT_HINT,
  );
}

export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string; details?: unknown } };
}

/** Maps anything thrown while serving a request to the API's one error shape. */
export function toErrorResponse(error: unknown, requestId: string): ErrorResponse {
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, details: error.details } },
    };
  }
  // 0017_federation's guard: a change to a copy another node owns (its message names that node).
  if ((error as { code?: unknown }).code === 'VYM01') {
    return { status: 409, body: { error: { code: 'conflict', message: (error as Error).message } } };
  }
  const fastifyError = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'request';
    const details = validationProblems(context, fastifyError.validation);
    const message = `invalid ${context}: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`;
    return { status: 400, body: { error: { code: 'invalid_input', message, details } } };
  }
  if (
    fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (error instanceof SyntaxError && fastifyError.statusCode === 400)
  ) {
    return {
      status: 400,
      body: {
        error: { code: 'invalid_input', message: `request body is not valid JSON: ${fastifyError.message}` },
      },
    };
  }
  // The router's own refusals quote the whole URL back; say what is wrong with it instead.
  if (fastifyError.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return {
      status: 414,
      body: {
        error: {
          code: 'invalid_input',
          message: 'a path parameter is longer than 100 characters; no identifier in this API is that long',
        },
      },
    };
  }
  if (fastifyError.code === 'FST_ERR_BAD_URL') {
    return {
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          message: 'the URL path has a malformed percent-encoding (e.g. a lone %); encode it as UTF-8',
        },
      },
    };
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'request body is too large' } },
    };
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return {
      status,
      body: { error: { code: CODE_BY_STATUS[status] ?? 'invalid_input', message: fastifyError.message } },
    };
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'internal',
        message: `internal error; the node's log has the details under request id ${requestId}`,
      },
    },
  };
}

/**
 * A body that is missing (or not an object) where the route needs fields: the message names them,
 * so that "body must be object" becomes "send a JSON object with: reason".
 */
function withFieldsNeeded(response: ErrorResponse, request: FastifyRequest): ErrorResponse {
  const details = response.body.error.details as FieldProblem[] | undefined;
  if (response.status !== 400 || details?.length !== 1 || details[0]?.field !== 'body') return response;
  const required = (request.routeOptions.schema?.body as { required?: unknown } | undefined)?.required;
  if (!Array.isArray(required) || required.length === 0) return response;
  return {
    ...response,
    body: {
      error: {
        ...response.body.error,
        message: `${response.body.error.message}: send a JSON object with ${required.join(', ')}`,
      },
    },
  };
}

export type DenialAuditor = (request: FastifyRequest, error: ErrorResponse) => Promise<void>;

/**
 * The error handler of a set of routes: one error shape, denials audited. `render` answers in
 * another shape (TAXII's error message resource) what the API would answer in its own.
 */
export function makeErrorHandler(
  onDenied: DenialAuditor,
  render?: (response: ErrorResponse, request: FastifyRequest, reply: FastifyReply) => unknown,
) {
  return async function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const response = withFieldsNeeded(toErrorResponse(error, request.id), request);
    if (response.status >= 500) request.log.error({ err: error }, 'request failed');
    if (response.status === 403 || response.status === 401) {
      try {
        await onDenied(request, response);
      } catch (auditError) {
        request.log.error({ err: auditError }, 'could not audit a denied access');
      }
    }
    reply.status(response.status);
    return reply.send(render ? render(response, request, reply) : response.body);
  };
}
