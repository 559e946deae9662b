import crypto from 'node:crypto';
import pg from 'pg';

/**
 * A new database on the PostgreSQL server of `serverUrl`, named after its database, for a test file
 * or a benchmark run: empty, or a copy of `template` (a database nobody is connected to); `drop`
 * removes it again.
 */
export async function createScratchDatabase(
  serverUrl: string,
  tag = 't',
  template?: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(serverUrl);
  const name = `${base.pathname.slice(1) || 'vytis'}_${tag}${crypto.randomBytes(5).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: base.toString() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"${template ? ` template "${template.replaceAll('"', '""')}"` : ''}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists "${name}" with (force)`) };
}
