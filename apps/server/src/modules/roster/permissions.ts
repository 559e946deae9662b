import { type Actor, hasRole } from '../../context.ts';

/**
 * Who keeps a party's standby roster (its responders, their leave, its duty rotations): the
 * party's PoC, and admins. Enforcement (the services' requireKeeper) and the API's `can` both use
 * these, so a button the app shows is one the server accepts.
 */
export const keepsRoster = (actor: Actor, party: string): boolean =>
  hasRole(actor, 'admin') || (hasRole(actor, 'poc') && actor.party === party);

/** What the caller may do with a responder. */
export function responderPermissions(actor: Actor, responder: { party_code: string }) {
  const keeps = keepsRoster(actor, responder.party_code);
  return { edit: keeps, setAvailability: keeps };
}

export function rotationPermissions(actor: Actor, rotation: { party_code: string }) {
  const keeps = keepsRoster(actor, rotation.party_code);
  return { edit: keeps, delete: keeps };
}

/** The parties among `parties` whose roster the caller may add to. */
export const partiesKeptBy = (actor: Actor, parties: readonly string[]): string[] =>
  parties.filter((party) => keepsRoster(actor, party));
