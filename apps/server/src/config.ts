import path from 'node:path';
import { z } from 'zod';

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
  VYTIS_WEBHOOK_PRIVATE_NETWORKS: boolish.default(false),
  VYTIS_IMPORT_MAX_BYTES: positiveInt('bytes').default(256 * 1024 * 1024),
  VYTIS_EVIDENCE_MAX_BYTES: positiveInt('bytes').default(100 * 1024 * 1024),
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
  /** Let webhooks call hosts in private or local networks (e.g. a national CSIRT's internal relay). */
  webhookPrivateNetworks: boolean;
  /** The largest indicator file a bulk import reads. */
  importMaxBytes: number;
  /** The largest evidence file accepted. */
  evidenceMaxBytes: number;
  /** Where evidence files are kept: `evidence/` under the data directory. */
  evidenceDir: string;
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
      evidenceMaxBytes: e.VYTIS_EVIDENCE_MAX_BYTES,
      evidenceDir: path.join(path.resolve(e.VYTIS_DATA_DIR), 'evidence'),
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
