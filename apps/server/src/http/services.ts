import type { AuditService } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import type { CasesService } from '../modules/cases/cases.service.ts';
import type { CouncilService } from '../modules/council/council.service.ts';
import type { EvidenceService } from '../modules/evidence/evidence.service.ts';
import type { FrameworkService } from '../modules/framework/framework.service.ts';
import type { AccountsService } from '../modules/identity/accounts.service.ts';
import type { IdentityService } from '../modules/identity/identity.service.ts';
import type { MfaService } from '../modules/identity/mfa.service.ts';
import type { TokenCache } from '../modules/identity/token-cache.ts';
import type { ObservablesService } from '../modules/indicators/observables.service.ts';
import type { EventsService } from '../modules/notifications/events.service.ts';
import type { Notifier } from '../modules/notifications/notifier.ts';
import type { WebhooksService } from '../modules/notifications/webhooks.service.ts';
import type { PartiesService } from '../modules/parties/parties.service.ts';
import type { RequestsService } from '../modules/requests/requests.service.ts';
import type { RespondersService } from '../modules/roster/responders.service.ts';
import type { RotationsService } from '../modules/roster/rotations.service.ts';
import type { Scheduler } from '../modules/scheduler/scheduler.ts';
import type { TeamsService } from '../modules/teams/teams.service.ts';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { NodeKey } from '../platform/keys.ts';

/** Everything a route plugin may call. Built once in app.ts. */
export interface Services {
  database: DatabaseHandle;
  clock: Clock;
  key: NodeKey;
  audit: AuditService;
  notifier: Notifier;
  framework: FrameworkService;
  parties: PartiesService;
  identity: IdentityService;
  accounts: AccountsService;
  tokens: TokenCache;
  mfa: MfaService;
  requests: RequestsService;
  council: CouncilService;
  scheduler: Scheduler;
  webhooks: WebhooksService;
  events: EventsService;
  responders: RespondersService;
  teams: TeamsService;
  rotations: RotationsService;
  cases: CasesService;
  observables: ObservablesService;
  evidence: EvidenceService;
}
