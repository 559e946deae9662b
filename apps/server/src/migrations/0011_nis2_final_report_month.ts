import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * NIS2's final report is due one calendar month after the incident notification was filed
 * (Directive (EU) 2022/2555, art. 23(4)(d)), not a number of days after awareness: every stored
 * version of the framework says so in months from now on. A period of days becomes the nearest
 * whole number of months (30 days: one month), at least one. Nothing else in a version changes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update frameworks
    set rules = jsonb_set(
      rules #- '{clocks,nis2FinalReportDays}',
      '{clocks,nis2FinalReportMonths}',
      to_jsonb(greatest(1, least(12, round((rules #>> '{clocks,nis2FinalReportDays}')::numeric / 30)))::int)
    )
    where rules -> 'clocks' ? 'nis2FinalReportDays'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    update frameworks
    set rules = jsonb_set(
      rules #- '{clocks,nis2FinalReportMonths}',
      '{clocks,nis2FinalReportDays}',
      to_jsonb(((rules #>> '{clocks,nis2FinalReportMonths}')::int * 30))
    )
    where rules -> 'clocks' ? 'nis2FinalReportMonths'
  `.execute(db);
}
