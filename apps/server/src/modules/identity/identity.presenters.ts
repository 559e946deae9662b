import type { Me, Role, Token, User } from '@vytis/contracts';
import type { Selectable } from 'kysely';
import type { Actor } from '../../context.ts';
import type { ApiTokensTable, UserRow } from '../../platform/db/schema.ts';
import { mayFileRequest } from '../requests/permissions.ts';
import { accountActs } from './account-policy.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A user as `viewer` sees it, with what the viewer may do to the account. */
export const presentUser = (row: UserRow, viewer: Actor): User => ({
  id: row.id,
  name: row.name,
  party: row.party_code,
  roles: row.roles as Role[],
  hasPassword: row.password_hash !== null,
  createdAt: row.created_at.toISOString(),
  disabledAt: iso(row.disabled_at),
  version: row.version,
  mfa: row.mfa_secret !== null,
  can: accountActs(viewer, row),
});

export const presentMe = (row: { id: string; name: string; party_code: string; roles: string[] }): Me => ({
  id: row.id,
  name: row.name,
  party: row.party_code,
  roles: row.roles as Role[],
  can: { fileRequest: mayFileRequest({ roles: row.roles as Role[], party: row.party_code }) },
});

export const presentToken = (row: Selectable<ApiTokensTable>): Token => ({
  id: row.id,
  userId: row.user_id,
  label: row.label,
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  revokedAt: iso(row.revoked_at),
  lastUsedAt: iso(row.last_used_at),
});
