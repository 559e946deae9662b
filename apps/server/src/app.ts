import path from 'node:path';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { KeyRotation } from '@vytis/contracts';
import { ErrorBodySchema } from '@vytis/contracts';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import pino from 'pino';
import { auditRoutes } from './audit/audit.routes.ts';
import { AuditService } from './audit/audit.service.ts';
import type { Clock } from './clock.ts';
import type { FederationSettings } from './config.ts';
import { AppError } from './errors.ts';
import { ctxOf, makeAccessHook, type RouteAccess } from './http/access.ts';
import { clientSource } from './http/client-source.ts';
import { DenialLimiter } from './http/denial-limiter.ts';
import { type DenialAuditor, makeErrorHandler, toErrorResponse } from './http/error-handler.ts';
import { depthLimitedJsonParser } from './http/json-body.ts';
import { documentOptionalBodies, missingBodyAsEmpty } from './http/optional-body.ts';
import { databaseRateLimitStore } from './http/rate-limit-store.ts';
import { ReadCache } from './http/read-cache.ts';
import { RequestGauge } from './http/request-gauge.ts';
import { adoptCallerRequestId, freshRequestId } from './http/request-id.ts';
import { type SchemaCompilation, schemaCompilers } from './http/schema-compilers.ts';
import type { Services } from './http/services.ts';
import { rejectInfiniteNumbers, rejectUnstorableText } from './http/storable-text.ts';
import { registerStorableTimeFormat, registerStorableUuidFormat } from './http/time-format.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits, serverTimeouts, slowBodyGuard } from './http/timeouts.ts';
import { caseViewerOf } from './modules/cases/case-viewer.ts';
import { casesRoutes } from './modules/cases/cases.routes.ts';
import { CasesService } from './modules/cases/cases.service.ts';
import { CouncilService } from './modules/council/council.service.ts';
import { deploymentsRoutes } from './modules/deployments/deployments.routes.ts';
import { DeploymentsService } from './modules/deployments/deployments.service.ts';
import { DeploymentMoves } from './modules/deployments/moves.ts';
import { evidenceRoutes } from './modules/evidence/evidence.routes.ts';
import { EvidenceService } from './modules/evidence/evidence.service.ts';
import { evidenceStorageFor } from './modules/evidence/evidence.stores.ts';
import { buildFederation } from './modules/federation/federation.module.ts';
import { federationRoutes } from './modules/federation/federation.routes.ts';
import { IntentExecutor } from './modules/federation/loop/intent-executor.ts';
import { peersRoutes } from './modules/federation/peers.routes.ts';
import { FrameworkService } from './modules/framework/framework.service.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { AccountsService } from './modules/identity/accounts.service.ts';
import { identityRoutes } from './modules/identity/identity.routes.ts';
import { IdentityService } from './modules/identity/identity.service.ts';
import { MfaService, type RequireMfa } from './modules/identity/mfa.service.ts';
import { TokenCache } from './modules/identity/token-cache.ts';
import { ImportLedger } from './modules/indicators/import-ledger.ts';
import { indicatorsRoutes } from './modules/indicators/indicators.routes.ts';
import { ObservablesService } from './modules/indicators/observables.service.ts';
import { mispRoutes } from './modules/misp/misp.routes.ts';
import { MispService } from './modules/misp/misp.service.ts';
import { mispFeedRoutes, mispPulledFeedRoutes } from './modules/misp/misp-feed.routes.ts';
import { MispFeedsService } from './modules/misp/misp-feeds.service.ts';
import { workRoutes } from './modules/my-work/my-work.routes.ts';
import { WorkService } from './modules/my-work/my-work.service.ts';
import { EventBus } from './modules/notifications/event-bus.ts';
import { eventsRoutes } from './modules/notifications/events.routes.ts';
import { EventsService } from './modules/notifications/events.service.ts';
import { inboxRoutes } from './modules/notifications/inbox.routes.ts';
import { InboxService } from './modules/notifications/inbox.service.ts';
import { Notifier } from './modules/notifications/notifier.ts';
import { StreamClaims } from './modules/notifications/stream-claims.ts';
import { webhooksRoutes } from './modules/notifications/webhooks.routes.ts';
import { WebhooksService } from './modules/notifications/webhooks.service.ts';
import { partiesRoutes } from './modules/parties/parties.routes.ts';
import { PartiesService } from './modules/parties/parties.service.ts';
import { passesRoutes } from './modules/passes/passes.routes.ts';
import { PassesService } from './modules/passes/passes.service.ts';
import { reportsRoutes } from './modules/reports/reports.routes.ts';
import { ReportsService } from './modules/reports/reports.service.ts';
import { RequestJournal } from './modules/requests/journal.ts';
import { requestsRoutes } from './modules/requests/requests.routes.ts';
import { RequestsService } from './modules/requests/requests.service.ts';
import { respondersRoutes } from './modules/roster/responders.routes.ts';
import { RespondersService } from './modules/roster/responders.service.ts';
import { rotationsRoutes } from './modules/roster/rotations.routes.ts';
import { RotationsService } from './modules/roster/rotations.service.ts';
import { Scheduler } from './modules/scheduler/scheduler.ts';
import { searchRoutes } from './modules/search/search.routes.ts';
import { SearchService } from './modules/search/search.service.ts';
import { stixRoutes } from './modules/stix/stix.routes.ts';
import { StixService } from './modules/stix/stix.service.ts';
import { taxiiRoutes } from './modules/taxii/taxii.routes.ts';
import { solveOffThread } from './modules/teams/solve.ts';
import type { TeamProblem, TeamSolution } from './modules/teams/solver/types.ts';
import { teamsRoutes } from './modules/teams/teams.routes.ts';
import { TeamsService } from './modules/teams/teams.service.ts';
import { dataVersionProbe } from './platform/db/data-version.ts';
import type { DatabaseHandle } from './platform/db/database.ts';
import type { NodeKey } from './platform/keys.ts';
import type { PrivateNetworks } from './platform/network.ts';
import type { SecretBox } from './platform/secret-box.ts';

export interface AppOptions {
  logLevel: string;
  /** Live event streams one user may hold open at once. */
  eventStreamsPerUser: number;
  /** Denials (401/403) per source and minute audited one by one; the rest are counted in one event. */
  deniedAuditedPerMinute: number;
  /** HTTP timeouts and the slowest upload accepted: see http/timeouts.ts. */
  http: HttpLimits;
  bodyLimit: number;
  tokenTtlDays: number;
  sessionTtlHours: number;
  loginAttemptsPerMinute: number;
  cookieSecure: boolean;
  /** VYTIS_REQUIRE_MFA: who must log in with a second factor. */
  requireMfa: RequireMfa;
  webhookPrivateNetworks: PrivateNetworks;
  /** The largest indicator file a bulk import reads. */
  importMaxBytes: number;
  /** On PostgreSQL: how long an import may go without progress before it is rolled back. */
  importStaleSeconds: number;
  /** The largest evidence file accepted. */
  evidenceMaxBytes: number;
  /** Where evidence files are kept on the embedded database (on PostgreSQL: in the database). */
  evidenceDir: string;
  /** Where signed audit checkpoints are appended as well (none: only in the database). */
  auditCheckpointFile: string | null;
  /** How often the node signs checkpoints; verification then flags older ones (none: not checked). */
  checkpointSeconds: number | null;
  /** VYTIS_PUBLIC_URL: where others reach this node (TAXII discovery); none: the request's own host. */
  publicUrl: string | null;
  /** The largest TAXII request body (an envelope of objects to add). */
  taxiiMaxContentLength: number;
  /** The federation: the party this node speaks for (none: not federated), its role, how often it pulls. */
  federation: FederationSettings;
  /** Where and as whom notifications are e-mailed (smtpUrl null: no e-mail). */
  mail: { smtpUrl: string | null; from: string };
  /** When the routes' schemas are compiled: see http/schema-compilers.ts. */
  schemaCompilation: SchemaCompilation;
}

export const DEFAULT_APP_OPTIONS: AppOptions = {
  logLevel: 'silent',
  eventStreamsPerUser: 5,
  deniedAuditedPerMinute: 10,
  http: DEFAULT_HTTP_LIMITS,
  bodyLimit: 1_048_576,
  tokenTtlDays: 90,
  sessionTtlHours: 12,
  loginAttemptsPerMinute: 5,
  cookieSecure: false,
  requireMfa: 'none',
  webhookPrivateNetworks: false,
  importMaxBytes: 256 * 1024 * 1024,
  importStaleSeconds: 120,
  evidenceMaxBytes: 100 * 1024 * 1024,
  evidenceDir: path.resolve('.vytis', 'evidence'),
  auditCheckpointFile: null,
  checkpointSeconds: null,
  publicUrl: null,
  taxiiMaxContentLength: 16 * 1024 * 1024,
  federation: { party: null, role: 'national', pullSeconds: 30 },
  mail: { smtpUrl: null, from: 'vytis@localhost' },
  schemaCompilation: 'at-start',
};

export interface AppDeps {
  database: DatabaseHandle;
  clock: Clock;
  key: NodeKey;
  /** Seals the secrets the node reads back (TOTP seeds) with the data directory's key. */
  secrets: SecretBox;
  /** How webhooks are sent; tests may replace it. */
  fetch?: typeof fetch;
  /** The statement that this node moved from its previous key to `key` (see `vytis key rotate`). */
  keyRotation?: KeyRotation | null;
  /** How teams are solved; the node solves off the request thread. */
  solve?: (problem: TeamProblem) => Promise<TeamSolution>;
}

export function buildServices(
  deps: AppDeps,
  given: Pick<AppOptions, 'tokenTtlDays' | 'sessionTtlHours' | 'webhookPrivateNetworks'> &
    Partial<
      Pick<
        AppOptions,
        | 'importMaxBytes'
        | 'importStaleSeconds'
        | 'evidenceMaxBytes'
        | 'evidenceDir'
        | 'requireMfa'
        | 'auditCheckpointFile'
        | 'checkpointSeconds'
        | 'publicUrl'
        | 'federation'
        | 'mail'
      >
    >,
): Services {
  const options = { ...DEFAULT_APP_OPTIONS, ...given };
  const { db } = deps.database;
  const audit = new AuditService({
    database: deps.database,
    clock: deps.clock,
    key: deps.key,
    checkpointFile: options.auditCheckpointFile,
    checkpointSeconds: options.checkpointSeconds,
  });
  const framework = new FrameworkService({ db, clock: deps.clock, audit });
  const parties = new PartiesService({ db, clock: deps.clock, audit, framework });
  const tokens = new TokenCache(deps.database);
  const mfa = new MfaService({
    db,
    clock: deps.clock,
    audit,
    requireMfa: options.requireMfa,
    secrets: deps.secrets,
    tokens,
  });
  const identity = new IdentityService({
    db,
    clock: deps.clock,
    audit,
    tokenTtlDays: options.tokenTtlDays,
    sessionTtlHours: options.sessionTtlHours,
    mfa,
    tokens,
  });
  const accounts = new AccountsService({ db, clock: deps.clock, audit, tokens });
  const notifier = new Notifier({ db, clock: deps.clock });
  const journal = new RequestJournal({ clock: deps.clock, audit, notifier });
  const deploymentMoves = new DeploymentMoves({ clock: deps.clock, audit, journal });
  const requests = new RequestsService({
    db,
    clock: deps.clock,
    framework,
    journal,
    deployments: deploymentMoves,
  });
  const council = new CouncilService({ db, clock: deps.clock, requests, journal });
  const imports = new ImportLedger({
    db,
    audit,
    soleWriter: deps.database.kind === 'pglite',
    staleAfterMs: options.importStaleSeconds * 1000,
  });
  const scheduler = new Scheduler({ db, clock: deps.clock, council, journal, imports });
  const webhooks = new WebhooksService({
    db,
    clock: deps.clock,
    audit,
    allowPrivateNetworks: options.webhookPrivateNetworks,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const events = new EventsService({
    db,
    requests,
    caseViewer: async (ctx) => caseViewerOf(deps.clock, ctx),
    bus: new EventBus(deps.database),
    numbered: () => notifier.numberedSoon(),
  });
  const responders = new RespondersService({ db, clock: deps.clock, audit });
  const teams = new TeamsService({
    db,
    clock: deps.clock,
    audit,
    framework,
    requests,
    journal,
    solve: deps.solve ?? solveOffThread,
  });
  const deployments = new DeploymentsService({
    db,
    clock: deps.clock,
    audit,
    key: deps.key,
    requests,
    journal,
    moves: deploymentMoves,
    teams,
  });
  const rotations = new RotationsService({ db, clock: deps.clock, audit });
  const passes = new PassesService({ db, clock: deps.clock, key: deps.key });
  const cases = new CasesService({ db, clock: deps.clock, audit, notifier, requests });
  const observables = new ObservablesService({
    db,
    clock: deps.clock,
    audit,
    notifier,
    cases,
    importMaxBytes: options.importMaxBytes,
    engine: deps.database.kind,
    imports,
  });
  const stix = new StixService({ db, cases, observables });
  const misp = new MispService({ db, clock: deps.clock, cases, observables });
  const mispFeeds = new MispFeedsService({
    db,
    clock: deps.clock,
    audit,
    cases,
    misp,
    identity,
    allowPrivateNetworks: options.webhookPrivateNetworks,
  });
  const evidence = new EvidenceService({
    db,
    clock: deps.clock,
    audit,
    cases,
    storage: evidenceStorageFor(deps.database, {
      dir: options.evidenceDir,
      maxBytes: options.evidenceMaxBytes,
      clock: deps.clock,
    }),
    maxBytes: options.evidenceMaxBytes,
  });
  const federation = buildFederation(
    {
      database: deps.database,
      clock: deps.clock,
      audit,
      notifier,
      key: deps.key,
      rotation: deps.keyRotation ?? null,
      node: { ...options.federation, publicUrl: options.publicUrl },
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      allowPrivateNetworks: options.webhookPrivateNetworks,
    },
    {
      intents: new IntentExecutor({
        db,
        clock: deps.clock,
        audit,
        node: { ...options.federation, publicUrl: options.publicUrl },
        council,
        requests,
        deployments,
      }),
    },
  );
  const work = new WorkService({ db, clock: deps.clock, audit, requests });
  const inbox = new InboxService({ db, clock: deps.clock, audit, requests, mail: options.mail });
  const search = new SearchService({ db, clock: deps.clock, requests, cases, observables });
  const reports = new ReportsService({
    db,
    clock: deps.clock,
    audit,
    key: deps.key,
    requests,
    deployments,
    node: { party: options.federation.party, publicUrl: options.publicUrl },
  });
  return {
    ...deps,
    work,
    inbox,
    search,
    reports,
    audit,
    federation,
    notifier,
    framework,
    parties,
    identity,
    accounts,
    tokens,
    mfa,
    requests,
    council,
    scheduler,
    webhooks,
    events,
    streamClaims: new StreamClaims(db),
    responders,
    rotations,
    teams,
    deployments,
    passes,
    cases,
    observables,
    evidence,
    stix,
    misp,
    mispFeeds,
  };
}

/** One line per request, as it is answered (with its request): Fastify's line at arrival is left out. */
class AnsweredRequestsLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** The HTTP application. Tests build it over a fresh database; main.ts adds listening and timers. */
export async function buildApp(
  deps: AppDeps,
  overrides: Partial<AppOptions> = {},
): Promise<{ app: FastifyInstance; services: Services }> {
  const options = { ...DEFAULT_APP_OPTIONS, ...overrides };
  const services = buildServices(deps, options);
  // Log lines go out in writes of a few kilobytes, at least every 200 ms, and all of them as the
  // process exits: one write per request was a tenth of a short request's work. A kill -9 loses
  // at most the last 200 ms of log (never data: the audit log is in the database).
  const logStream =
    options.logLevel === 'silent'
      ? undefined
      : // A stdout that stops reading holds at most 16 MB of lines; later ones are dropped.
        pino.destination({
          dest: 1,
          sync: false,
          minLength: 4096,
          maxLength: 16 * 1024 * 1024,
          periodicFlush: 200,
        });
  const app = Fastify({
    logger: { level: options.logLevel, ...(logStream ? { stream: logStream } : {}) },
    logController: new AnsweredRequestsLog(),
    bodyLimit: options.bodyLimit,
    // The embedded database runs on the node's own thread, so on a busy machine one plugin's start
    // can wait longer than Fastify's 10 s default while nothing is wrong.
    pluginTimeout: 120_000,
    ...serverTimeouts(options.http),
    genReqId: freshRequestId,
    schemaController: schemaCompilers(options.schemaCompilation),
    ajv: {
      customOptions: {
        removeAdditional: false,
        allErrors: true,
        coerceTypes: 'array',
        useDefaults: true,
        allowUnionTypes: true,
      },
      onCreate: (ajv) => {
        registerStorableTimeFormat(ajv);
        registerStorableUuidFormat(ajv);
      },
    },
    // Errors the router raises before any route runs (bad URL, over-long parameter) get the API's shape too.
    frameworkErrors: (error, request, reply) => {
      const { status, body } = toErrorResponse(error, request.id);
      void (reply as unknown as FastifyReply).status(status).send(body);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: anything else is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  // Too deep a body is refused on its text, before anything recursive (validation, jsonb, the audit
  // chain's canonical JSON) runs on it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error')),
  );
  app.addSchema(ErrorBodySchema);
  app.addHook('onRoute', requireDeclarations);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const denials = new DenialLimiter({
    db: deps.database.db,
    clock: deps.clock,
    audit: services.audit,
    scope: 'http',
    perWindow: options.deniedAuditedPerMinute,
  });
  // Counts of a flood are written when its minute is over, even if no further denial comes.
  const denialFlush = setInterval(() => {
    denials.flushDue().catch((error) => app.log.error({ err: error }, 'writing denial counts failed'));
  }, 60_000);
  denialFlush.unref();
  app.addHook('onClose', async () => {
    await services.observables.settled();
    await services.inbox.stop();
    clearInterval(denialFlush);
    // Windows still open stay in the database, whole: any process writes them once they end.
    await denials.flushDue().catch((error) => app.log.error({ err: error }, 'writing denial counts failed'));
    logStream?.flushSync();
  });
  const auditDenial: DenialAuditor = async (request, response) => {
    // Public routes (login) audit their own refusals; everything else is audited here, once.
    if (request.denialAudited || request.routeOptions.config?.access?.kind === 'public') return;
    request.denialAudited = true;
    const source = request.actor?.id ? `user:${request.actor.id}` : `address:${clientSource(request.ip)}`;
    await denials.deny(source, ctxOf(request), {
      action: 'access.denied',
      objectType: 'route',
      objectId: `${request.method} ${request.routeOptions.url ?? request.url}`,
      summary: { status: response.status, reason: response.body.error.message },
    });
  };
  app.setErrorHandler(makeErrorHandler(auditDenial));
  app.setNotFoundHandler(async (request) => {
    throw new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    // Counted in the database: a node's processes share one count per route and source.
    store: databaseRateLimitStore(deps.database.db),
    errorResponseBuilder: (_request, context) =>
      Object.assign(
        new AppError('rate_limited', `too many attempts; try again in ${Math.ceil(context.ttl / 1000)} s`),
        {
          statusCode: 429,
        },
      ),
  });
  await app.register(swagger, {
    refResolver: { buildLocalReference: (schema, _base, _fragment, i) => String(schema.$id ?? `def-${i}`) },
    transformObject: documentOptionalBodies,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vytis API',
        version: '1',
        description: 'Operations platform of a multinational cyber rapid-response force.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'an API token from `vytis token issue NAME`',
          },
          session: { type: 'apiKey', in: 'cookie', name: 'vytis_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { access: { kind: 'public' } }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  app.addHook('onRequest', slowBodyGuard(options.http));
  const requestGauge = new RequestGauge();
  app.addHook('onRequest', requestGauge.onRequest);
  app.addHook('onRequest', makeAccessHook(services.identity));
  app.addHook('onRequest', adoptCallerRequestId);
  app.addHook('preValidation', missingBodyAsEmpty);
  app.addHook('preValidation', rejectUnstorableText);
  app.addHook('preHandler', rejectInfiniteNumbers);
  new ReadCache({ dataVersion: dataVersionProbe(deps.database.db), clock: deps.clock }).register(app);
  // Other processes' account changes reach this one's token cache; until then it caches nothing.
  await services.tokens.listen();
  app.addHook('onClose', async () => {
    await services.events.close();
    services.streamClaims.close();
    await services.tokens.close();
  });

  await app.register(healthRoutes, { services });
  await app.register(
    async (api) => {
      await api.register(partiesRoutes, { services });
      await api.register(identityRoutes, {
        services,
        cookieSecure: options.cookieSecure,
        loginAttemptsPerMinute: options.loginAttemptsPerMinute,
      });
      await api.register(auditRoutes, { services });
      await api.register(requestsRoutes, { services });
      await api.register(webhooksRoutes, { services });
      await api.register(eventsRoutes, { services, streamsPerUser: options.eventStreamsPerUser });
      await api.register(respondersRoutes, { services });
      await api.register(teamsRoutes, { services });
      await api.register(deploymentsRoutes, { services });
      await api.register(passesRoutes, { services });
      await api.register(rotationsRoutes, { services, denials });
      await api.register(casesRoutes, { services });
      await api.register(indicatorsRoutes, { services, requestGauge });
      await api.register(evidenceRoutes, { services });
      await api.register(stixRoutes, { services, requestGauge });
      await api.register(mispRoutes, { services, requestGauge });
      await api.register(mispFeedRoutes, { services });
      await api.register(mispPulledFeedRoutes, { services });
      await api.register(peersRoutes, { services });
      await api.register(workRoutes, { services });
      await api.register(inboxRoutes, { services });
      await api.register(searchRoutes, { services });
      await api.register(reportsRoutes, { services });
    },
    { prefix: '/api/v1' },
  );
  await app.register(mispFeedRoutes, { services });
  await app.register(federationRoutes, { services, prefix: '/federation/v1' });
  await app.register(taxiiRoutes, {
    services,
    auditDenial,
    publicUrl: options.publicUrl,
    maxContentLength: options.taxiiMaxContentLength,
    prefix: '/taxii2',
  });
  return { app, services };
}

interface DocumentedSchema {
  hide?: boolean;
  response?: Record<string, unknown>;
  security?: unknown[];
  'x-vytis-access'?: unknown;
}

/**
 * Every route states who may call it and what it returns; a route that does not is a bug caught
 * at start-up, not in production. Error responses are documented for all of them here.
 */
function requireDeclarations(route: RouteOptions) {
  const schema = route.schema as DocumentedSchema | undefined;
  const isDocs = route.url === '/docs' || route.url.startsWith('/docs/');
  if (isDocs) {
    route.config = { ...route.config, access: { kind: 'public' } };
    return;
  }
  const declared = route.config?.access as RouteAccess | undefined;
  if (!declared) throw new Error(`route ${route.method} ${route.url} does not declare its access`);
  if (schema?.hide) return;
  if (!schema?.response) throw new Error(`route ${route.method} ${route.url} has no response schema`);
  // Who may call it, in the API document too: people read it, and the route tests are driven by it.
  schema['x-vytis-access'] =
    declared.kind === 'public'
      ? { public: true }
      : { roles: declared.roles === 'any' ? 'any' : [...declared.roles] };
  if (declared.kind === 'public') schema.security = [];
  schema.response['4xx'] ??= { $ref: 'Error#' };
  schema.response['5xx'] ??= { $ref: 'Error#' };
}
