import type { Migration } from 'kysely/migration';
import * as spine from './0001_spine.ts';
import * as requests from './0002_requests.ts';
import * as rosterTeams from './0003_roster_teams.ts';
import * as cases from './0004_cases.ts';
import * as caseEventsIndex from './0005_case_events_index.ts';
import * as accounts from './0006_accounts.ts';
import * as evidenceBlobs from './0007_evidence_blobs.ts';
import * as observableCopies from './0008_observable_copies.ts';
import * as hardening from './0009_hardening.ts';
import * as sequencedAfterCommit from './0010_sequenced_after_commit.ts';
import * as nis2FinalReportMonth from './0011_nis2_final_report_month.ts';
import * as exerciseWebhooks from './0012_exercise_webhooks.ts';
import * as sharingGroupChanges from './0013_sharing_group_changes.ts';
import * as calendarFeeds from './0014_calendar_feeds.ts';
import * as intelObjects from './0015_intel_objects.ts';
import * as misp from './0016_misp.ts';
import * as federation from './0017_federation.ts';
import * as auditWitness from './0018_audit_witness.ts';
import * as federatedLoop from './0019_federated_loop.ts';
import * as notifications from './0020_notifications.ts';
import * as analystTools from './0021_analyst_tools.ts';
import * as reports from './0022_reports.ts';
import * as clusterLimits from './0023_cluster_limits.ts';
import * as sealingKeys from './0024_sealing_keys.ts';
import * as denialWindows from './0025_denial_windows.ts';

/** Listed statically (not read from disk) so migrations run the same from source, tests and bundles. */
export const migrations: Record<string, Migration> = {
  '0001_spine': spine,
  '0002_requests': requests,
  '0003_roster_teams': rosterTeams,
  '0004_cases': cases,
  '0005_case_events_index': caseEventsIndex,
  '0006_accounts': accounts,
  '0007_evidence_blobs': evidenceBlobs,
  '0008_observable_copies': observableCopies,
  '0009_hardening': hardening,
  '0010_sequenced_after_commit': sequencedAfterCommit,
  '0011_nis2_final_report_month': nis2FinalReportMonth,
  '0012_exercise_webhooks': exerciseWebhooks,
  '0013_sharing_group_changes': sharingGroupChanges,
  '0014_calendar_feeds': calendarFeeds,
  '0015_intel_objects': intelObjects,
  '0016_misp': misp,
  '0017_federation': federation,
  '0018_audit_witness': auditWitness,
  '0019_federated_loop': federatedLoop,
  '0020_notifications': notifications,
  '0021_analyst_tools': analystTools,
  '0022_reports': reports,
  '0023_cluster_limits': clusterLimits,
  '0024_sealing_keys': sealingKeys,
  '0025_denial_windows': denialWindows,
};
