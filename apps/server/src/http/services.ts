import type { AuditService } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import type { FrameworkService } from '../modules/framework/framework.service.ts';
import type { IdentityService } from '../modules/identity/identity.service.ts';
import type { PartiesService } from '../modules/parties/parties.service.ts';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { NodeKey } from '../platform/keys.ts';

/** Everything a route plugin may call. Built once in app.ts. */
export interface Services {
  database: DatabaseHandle;
  clock: Clock;
  key: NodeKey;
  audit: AuditService;
  framework: FrameworkService;
  parties: PartiesService;
  identity: IdentityService;
}
