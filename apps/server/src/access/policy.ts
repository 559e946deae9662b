import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { type Actor, hasRole } from '../context.ts';
import type { Database } from '../platform/db/schema.ts';

/**
 * The access policy: who may see what, as SQL conditions that repositories add to every read, so
 * lists, lookups and counts agree and what is invisible is simply absent. Later objects (requests,
 * cases, indicators) add their rules here.
 */

/** Users: admins see everyone; everyone sees themselves; a party's PoC sees its party's people. */
export function usersVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'users'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin')) return eb.lit(true);
    const allowed: Expression<SqlBool>[] = [];
    if (actor.id) allowed.push(eb('users.id', '=', actor.id));
    if (hasRole(actor, 'poc') && actor.party) allowed.push(eb('users.party_code', '=', actor.party));
    return allowed.length > 0 ? eb.or(allowed) : eb.lit(false);
  };
}

/** API tokens: their owner sees them; admins see all (to revoke a leaked one). */
export function tokensVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'api_tokens'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin')) return eb.lit(true);
    return actor.id ? eb('api_tokens.user_id', '=', actor.id) : eb.lit(false);
  };
}
