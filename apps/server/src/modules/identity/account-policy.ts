import type { Role } from '@vytis/contracts';
import { type Actor, hasRole } from '../../context.ts';

/**
 * Who may contain whose account. Pure, so the routes' `can` and the services' checks are the same
 * code. Visibility (a PoC sees only its party's users) is applied before this, in SQL. A PoC acts
 * only on accounts whose every role it could grant itself.
 */
export type AccountAct = 'disable' | 'enable' | 'setRoles' | 'resetPassword' | 'endSessions' | 'resetMfa';

/** A PoC speaks for its state: it hands out the national roles, never the force's own. */
const POC_GRANTABLE: readonly Role[] = ['poc', 'council', 'responder', 'analyst'];

export interface AccountTarget {
  id: string;
  party_code: string;
  roles: readonly string[];
  disabled_at: Date | null;
  mfa_secret: string | null;
}

export function grantableRoles(actor: Actor): readonly Role[] {
  if (hasRole(actor, 'admin'))
    return ['admin', 'coordinator', 'council', 'poc', 'responder', 'analyst', 'auditor'];
  if (hasRole(actor, 'poc')) return POC_GRANTABLE;
  return [];
}

/** Why the actor may not do `act` to the target, or null when it may. */
export function refusal(actor: Actor, target: AccountTarget, act: AccountAct): string | null {
  const self = actor.id !== null && actor.id === target.id;
  if (!hasRole(actor, 'admin')) {
    if (!hasRole(actor, 'poc') || actor.party !== target.party_code) return 'you may not manage this account';
    if (target.roles.includes('admin')) return "a party's PoC may not manage an admin's account";
    // The force's own roles (coordinator, auditor) are an admin's to give, so their accounts are an
    // admin's to contain: a PoC could otherwise take one over (a password or factor reset), or
    // silence the force's coordination or oversight (disable, end sessions, change roles).
    const beyond = target.roles.filter((r) => !POC_GRANTABLE.includes(r as Role));
    if (beyond.length > 0) {
      return `this account holds roles a PoC cannot grant (${beyond.join(', ')}); ask an admin`;
    }
  }
  if (self && (act === 'disable' || act === 'enable')) {
    return 'you cannot disable or enable your own account; ask another admin';
  }
  if (self && act === 'setRoles') return 'you cannot change your own roles; ask another admin';
  if (self && act === 'resetPassword') {
    return 'change your own password with your current one (PUT /api/v1/me/password)';
  }
  if (self && act === 'resetMfa')
    return 'turn your own second factor off with a code (POST /api/v1/me/mfa/disable)';
  return null;
}

/** Roles added or removed that the actor may not grant, or [] when the change is allowed. */
export function ungrantable(actor: Actor, from: readonly string[], to: readonly string[]): string[] {
  const allowed = new Set<string>(grantableRoles(actor));
  const changed = [...from.filter((r) => !to.includes(r)), ...to.filter((r) => !from.includes(r))];
  return changed.filter((r) => !allowed.has(r));
}

/** What the actor may do to the target, for the presented user's `can`. */
export function accountActs(actor: Actor, target: AccountTarget) {
  const may = (act: AccountAct) => refusal(actor, target, act) === null;
  const setRoles = may('setRoles');
  return {
    disable: may('disable') && target.disabled_at === null,
    enable: may('enable') && target.disabled_at !== null,
    setRoles,
    resetPassword: may('resetPassword'),
    endSessions: may('endSessions'),
    resetMfa: may('resetMfa') && target.mfa_secret !== null,
    grantRoles: setRoles ? [...grantableRoles(actor)] : [],
  };
}
