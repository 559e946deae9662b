import path from 'node:path';
import { z } from 'zod';
import { checkpointFileIn } from './audit/audit.checkpoint-file.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/timeouts.ts';
import { isNetwork, type PrivateNetworks } from './platform/network.ts';

/**
 * Every setting of a node, parsed once at boot. Problems are collected, not thrown one at a time,
 * so an operator fixes the whole environment in one go.
 */
const portSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be from 1 to 65535')
  .max(65535, 'must be from 1 to 65535');

const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a postgres:// or postgresql:// URL with a host, e.g. postgres://postgres@127.0.0.1:5432/vytis');

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be a number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .positive(`must be a positive number of ${what}`);

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** true/false, or the CIDR networks allowed, comma-separated (e.g. `10.8.0.0/16,fd00:1::/64`). */
const privateNetworks = z.string().transform((value, context): PrivateNetworks => {
  const flag = boolish.safeParse(value.trim());
  if (flag.success) return flag.data;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.find((entry) => !isNetwork(entry));
  if (entries.length > 0 && bad === undefined) return entries;
  context.addIssue({
    code: 'custom',
    message: `must be true, false or a comma-separated list of CIDR networks such as 10.8.0.0/16${bad ? ` (${bad} is not one)` : ''}`,
  });
  return z.NEVER;
});

const envSchema = z.object({
  PORT: portSchema.default(8080),
  HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  VYTIS_DATA_DIR: z.string().min(1, 'must not be empty').default('./.vytis'),
  DATABASE_URL: z.preprocess((v) => (v === '' ? undefined : v), postgresUrl.optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VYTIS_BODY_LIMIT: positiveInt('bytes').default(1_048_576),
  VYTIS_CHECKPOINT_SECONDS: positiveInt('seconds').default(300),
  VYTIS_SCHEDULER_SECONDS: positiveInt('seconds').default(10),
  VYTIS_TOKEN_TTL_DAYS: positiveInt('days').default(90),
  VYTIS_SESSION_TTL_HOURS: positiveInt('hours').default(12),
  VYTIS_LOGIN_ATTEMPTS_PER_MINUTE: positiveInt('attempts').default(5),
  VYTIS_COOKIE_SECURE: boolish.default(false),
  VYTIS_WEBHOOK_PRIVATE_NETWORKS: privateNetworks.default(false),
  VYTIS_IMPORT_MAX_BYTES: positiveInt('bytes').default(256 * 1024 * 1024),
  VYTIS_IMPORT_STALE_SECONDS: positiveInt('seconds').default(120),
  VYTIS_EVENT_STREAMS_PER_USER: positiveInt('streams').default(5),
  VYTIS_DENIALS_AUDITED_PER_MINUTE: positiveInt('denials').default(10),
  VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS: positiveInt('seconds').default(30),
  VYTIS_HTTP_IDLE_TIMEOUT_SECONDS: positiveInt('seconds').default(120),
  VYTIS_HTTP_KEEPALIVE_SECONDS: positiveInt('seconds').default(10),
  VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS: positiveInt('seconds').default(3600),
  VYTIS_UPLOAD_MIN_BYTES_PER_SECOND: positiveInt('bytes per second').default(8192),
  VYTIS_EVIDENCE_MAX_BYTES: positiveInt('bytes').default(100 * 1024 * 1024),
  VYTIS_REQUIRE_MFA: z.enum(['admins', 'none'], { error: 'must be admins or none' }).default('none'),
  VYTIS_PUBLIC_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine((value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash;
        } catch {
          return false;
        }
      }, 'must be an http(s) URL without query or fragment, e.g. https://vytis.cert.example')
      .optional(),
  ),
  VYTIS_NODE_PARTY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Z]{2,8}$/, 'must be a party code in capitals, e.g. LT')
      .optional(),
  ),
  VYTIS_NODE_ROLE: z
    .enum(['coordinator', 'national'], { error: 'must be coordinator or national' })
    .default('national'),
  VYTIS_FEDERATION_PULL_SECONDS: positiveInt('seconds').default(30),
  VYTIS_SMTP_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(
        /^smtps?:\/\/[^\s]+$/,
        'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example:587',
      )
      .optional(),
  ),
  VYTIS_MAIL_FROM: z.string().min(3, 'must be an e-mail address').default('vytis@localhost'),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  checkpointSeconds: number;
  /** How often clocks are checked and webhooks sent. */
  schedulerSeconds: number;
  tokenTtlDays: number;
  sessionTtlHours: number;
  loginAttemptsPerMinute: number;
  cookieSecure: boolean;
  /** Let webhooks call hosts in private or local networks (all, or the listed CIDR networks, e.g. a national CSIRT's internal relay). */
  webhookPrivateNetworks: PrivateNetworks;
  /** The largest indicator file a bulk import reads. */
  importMaxBytes: number;
  /** On PostgreSQL: how long an import may go without progress before it is rolled back. */
  importStaleSeconds: number;
  /** Live event streams one user may hold open at once (per process). */
  eventStreamsPerUser: number;
  /** Denials (401/403) per source and minute audited one by one; the rest are counted in one event. */
  deniedAuditedPerMinute: number;
  /** HTTP timeouts and the slowest upload accepted. */
  http: HttpLimits;
  /** The largest evidence file accepted. */
  evidenceMaxBytes: number;
  /**
   * Where evidence files are kept on the embedded database: `evidence/` under the data directory.
   * With DATABASE_URL the content is kept in PostgreSQL instead, where every process reaches it.
   */
  evidenceDir: string;
  /** Every signed audit checkpoint is appended here too: `audit-checkpoints.jsonl` under the data directory. */
  auditCheckpointFile: string;
  /** Who must log in to the web app with a second factor (TOTP): admins, or nobody. */
  requireMfa: 'admins' | 'none';
  /** Where others reach this node (TAXII discovery's absolute URLs); none: each request's own host. */
  publicUrl: string | null;
  /** VYTIS_SMTP_URL and VYTIS_MAIL_FROM: where and as whom notifications are e-mailed (none: no e-mail). */
  mail: { smtpUrl: string | null; from: string };
  /** The federation: the party this node speaks for (none: not federated), its role, how often it pulls peers. */
  federation: FederationSettings;
}

export interface FederationSettings {
  party: string | null;
  role: 'coordinator' | 'national';
  pullSeconds: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export function parseConfig(env: NodeJS.ProcessEnv): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = env[name];
      return `${name} ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    });
    return { ok: false, problems };
  }
  const e = parsed.data;
  if (e.VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS > e.VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS) {
    return {
      ok: false,
      problems: [
        `VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS must not be longer than VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS (${e.VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS})`,
      ],
    };
  }
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      dataDir: path.resolve(e.VYTIS_DATA_DIR),
      databaseUrl: e.DATABASE_URL,
      logLevel: e.LOG_LEVEL,
      bodyLimit: e.VYTIS_BODY_LIMIT,
      checkpointSeconds: e.VYTIS_CHECKPOINT_SECONDS,
      schedulerSeconds: e.VYTIS_SCHEDULER_SECONDS,
      tokenTtlDays: e.VYTIS_TOKEN_TTL_DAYS,
      sessionTtlHours: e.VYTIS_SESSION_TTL_HOURS,
      loginAttemptsPerMinute: e.VYTIS_LOGIN_ATTEMPTS_PER_MINUTE,
      cookieSecure: e.VYTIS_COOKIE_SECURE,
      webhookPrivateNetworks: e.VYTIS_WEBHOOK_PRIVATE_NETWORKS,
      importMaxBytes: e.VYTIS_IMPORT_MAX_BYTES,
      importStaleSeconds: e.VYTIS_IMPORT_STALE_SECONDS,
      eventStreamsPerUser: e.VYTIS_EVENT_STREAMS_PER_USER,
      deniedAuditedPerMinute: e.VYTIS_DENIALS_AUDITED_PER_MINUTE,
      http: {
        ...DEFAULT_HTTP_LIMITS,
        headersTimeoutMs: e.VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
        idleTimeoutMs: e.VYTIS_HTTP_IDLE_TIMEOUT_SECONDS * 1000,
        keepAliveTimeoutMs: e.VYTIS_HTTP_KEEPALIVE_SECONDS * 1000,
        requestTimeoutMs: e.VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
        bodyMinBytesPerSecond: e.VYTIS_UPLOAD_MIN_BYTES_PER_SECOND,
      },
      evidenceMaxBytes: e.VYTIS_EVIDENCE_MAX_BYTES,
      evidenceDir: path.join(path.resolve(e.VYTIS_DATA_DIR), 'evidence'),
      auditCheckpointFile: checkpointFileIn(path.resolve(e.VYTIS_DATA_DIR)),
      requireMfa: e.VYTIS_REQUIRE_MFA,
      publicUrl: e.VYTIS_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
      mail: { smtpUrl: e.VYTIS_SMTP_URL ?? null, from: e.VYTIS_MAIL_FROM },
      federation: {
        party: e.VYTIS_NODE_PARTY ?? null,
        role: e.VYTIS_NODE_ROLE,
        pullSeconds: e.VYTIS_FEDERATION_PULL_SECONDS,
      },
    },
  };
}

/** For entry points: the config, or one line per problem on stderr and exit 1 — never a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  const result = parseConfig(env);
  if (result.ok) return result.config;
  for (const problem of result.problems) process.stderr.write(`vytis: config: ${problem}\n`);
  process.exit(1);
}
