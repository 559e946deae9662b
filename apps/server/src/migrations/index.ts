import type { Migration } from 'kysely/migration';
import * as spine from './0001_spine.ts';
import * as requests from './0002_requests.ts';
import * as rosterTeams from './0003_roster_teams.ts';
import * as cases from './0004_cases.ts';
import * as caseEventsIndex from './0005_case_events_index.ts';

/** Listed statically (not read from disk) so migrations run the same from source, tests and bundles. */
export const migrations: Record<string, Migration> = {
  '0001_spine': spine,
  '0002_requests': requests,
  '0003_roster_teams': rosterTeams,
  '0004_cases': cases,
  '0005_case_events_index': caseEventsIndex,
};
