import { type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool, sql } from 'kysely';
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

/**
 * Who is looking at requests: the actor, the UTC day on which their party's place in the community
 * is read (as for cases), plus whether their party sits on the council today (read from the party's
 * status and the framework in force, so it cannot be claimed by a role alone).
 */
export interface RequestViewer {
  actor: Actor;
  /** 'YYYY-MM-DD' */
  day: string;
  councilVoter: boolean;
}

const FALSE = sql<SqlBool>`false`;

/** The statuses whose parties form the community that GREEN reaches. */
export const COMMUNITY_STATUSES = ['member', 'observer', 'eu_institution', 'partner'] as const;

/**
 * TLP 2.0's community, the one audience GREEN has on everything Vytis labels (requests, cases,
 * their items, their events, webhooks): the parties of the framework — member, observer, EU
 * institution or partner — by their status on `day`. An external state, a party with no status yet
 * and a user of no party are outside it. For a fixed party this is one subquery that does not
 * depend on the row, so the database evaluates it once per statement.
 */
function inCommunity(party: string | RawBuilder<unknown> | null, day: string): RawBuilder<SqlBool> {
  if (party === null) return FALSE;
  return sql<SqlBool>`(select s.status in (${sql.join([...COMMUNITY_STATUSES])}) from party_statuses s
    where s.party_code = ${party} and s.effective_from <= ${day}::date
    order by s.effective_from desc limit 1) is true`;
}

/**
 * Who a submitted request's own label lets in, beyond the parties the request concerns: CLEAR,
 * anyone; GREEN, the community on `day` (exactly as for cases, `labelAllows`); AMBER and stricter,
 * nobody.
 */
function requestLabelAllows(party: string | RawBuilder<unknown> | null, day: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(requests.submitted_at is not null
    and (requests.tlp = 'clear' or (requests.tlp = 'green' and ${inCommunity(party, day)})))`;
}

/**
 * Requests: a draft is seen by its own party (and admins) only. After submission a request is seen
 * by its party, the council members (the `council` users of parties that vote today, or that sat
 * on that request's council), coordinators and admins, and the home states of the people on its
 * deployment; everyone else sees it only as its label allows: CLEAR, or GREEN while their party is
 * in the community (`inCommunity`, the same rule as for cases).
 */
export function requestsVisibleTo(viewer: RequestViewer) {
  const byRules = requestsVisibleByRules(viewer);
  // A copy its origin no longer shows this node is kept only for what this node's own work refers to.
  return (eb: ExpressionBuilder<Database, 'requests'>): Expression<SqlBool> =>
    eb.and([eb('requests.mirror_retracted', '=', false), byRules(eb)]);
}

function requestsVisibleByRules(viewer: RequestViewer) {
  const { actor } = viewer;
  return (eb: ExpressionBuilder<Database, 'requests'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin')) return eb.lit(true);
    const own = actor.party ? eb('requests.party_code', '=', actor.party) : eb.lit(false);
    // Never submitted (a draft, or a draft withdrawn) stays with its party.
    const submitted = eb('requests.submitted_at', 'is not', null);
    if (hasRole(actor, 'coordinator') || (viewer.councilVoter && hasRole(actor, 'council'))) {
      return eb.or([own, submitted]);
    }
    const byLabel = requestLabelAllows(actor.party ?? null, viewer.day);
    const peopleOnIt = actor.party ? homePartyOf(actor.party) : FALSE;
    if (hasRole(actor, 'council') && actor.party) {
      // A party that sat on a request's council keeps seeing it, even after it stopped being a member.
      const onItsCouncil = sql<SqlBool>`(requests.council -> 'electorate') @> ${JSON.stringify([actor.party])}::jsonb`;
      return eb.or([own, byLabel, peopleOnIt, onItsCouncil]);
    }
    return eb.or([own, byLabel, peopleOnIt]);
  };
}

/**
 * A state whose people are (or were proposed) on a request's deployment sees the request it sends
 * them to, whatever its label: its PoC releases them and must know what for.
 */
function homePartyOf(party: string | RawBuilder<unknown>) {
  return sql<SqlBool>`exists (select 1 from deployments d join deployment_members dm on dm.deployment_id = d.id
    where d.request_id = requests.id and dm.party_code = ${party})`;
}

/**
 * Events about requests: those of requests the viewer may see now, except that what happened to a
 * request while it was a draft stays with its party (and admins) even after it is submitted.
 */
export function notificationsVisibleTo(viewer: RequestViewer) {
  const visibleRequest = requestsVisibleTo(viewer);
  return (eb: ExpressionBuilder<Database, 'requests' | 'notifications'>): Expression<SqlBool> => {
    const request = visibleRequest(eb as unknown as ExpressionBuilder<Database, 'requests'>);
    if (hasRole(viewer.actor, 'admin')) return request;
    const ownParty = viewer.actor.party ? eb('requests.party_code', '=', viewer.actor.party) : eb.lit(false);
    return eb.and([request, eb.or([eb('notifications.party_only', '=', false), ownParty])]);
  };
}

/**
 * What a party's webhooks receive: what the party's own PoC sees, with the party taken from the
 * webhook row and its place in the community read on `day` (the event's), so a delivery is only
 * ever queued for a party that may see the request.
 */
export function requestsVisibleToWebhookParty(day: string) {
  return (eb: ExpressionBuilder<Database, 'requests' | 'webhooks'>): Expression<SqlBool> =>
    eb.and([
      eb('requests.mirror_retracted', '=', false),
      eb.or([
        eb('requests.party_code', '=', eb.ref('webhooks.party_code')),
        homePartyOf(sql.ref('webhooks.party_code')),
        requestLabelAllows(sql.ref('webhooks.party_code'), day),
      ]),
    ]);
}

/**
 * A peer node looking at requests (design §5: the same policy, the node seen as its party's users):
 * a coordinating node as the force's coordinators; a national node as its party's council members
 * and PoC, its party voting today as `councilVoter` says (read from its status and the framework).
 */
export function peerRequestViewer(
  peer: { party: string; role: 'coordinator' | 'national'; day: string },
  councilVoter: boolean,
): RequestViewer {
  return {
    actor: peerNodeActor(peer),
    day: peer.day,
    councilVoter: peer.role === 'national' && councilVoter,
  };
}

/**
 * A peer node as the viewer of what the loop sends it: its party's users together — a coordinating
 * node as a coordinator, a national node as its party's council members and PoC (design §5).
 */
export function peerNodeActor(peer: { party: string; role: 'coordinator' | 'national' }): Actor {
  return {
    type: 'user',
    id: null,
    name: `node of ${peer.party}`,
    party: peer.party,
    roles: peer.role === 'coordinator' ? ['coordinator'] : ['council', 'poc'],
  };
}

/**
 * Responders: their own party's users see them (its PoC keeps them); coordinators, who assemble
 * teams, and admins see everyone. Another state's PoC does not see them at all.
 */
export function respondersVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'responders'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin', 'coordinator')) return eb.lit(true);
    return actor.party ? eb('responders.party_code', '=', actor.party) : eb.lit(false);
  };
}

/**
 * Deployments: coordinators and admins see all; the host party sees its own; a home party sees the
 * deployments its people are (or were proposed) on.
 */
export function deploymentsVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'deployments'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin', 'coordinator')) return eb.lit(true);
    if (!actor.party) return eb.lit(false);
    return eb.or([
      eb('deployments.host_party', '=', actor.party),
      eb.exists(
        eb
          .selectFrom('deployment_members as dm')
          .select('dm.responder_id')
          .whereRef('dm.deployment_id', '=', 'deployments.id')
          .where('dm.party_code', '=', actor.party),
      ),
    ]);
  };
}

/**
 * How much a viewer of a deployment sees of one of its members. Coordinators, admins and the
 * member's home party see all of it; the host sees who comes and why they were picked, not the
 * home state's own reasons for its decision; another home state on the same team sees only that a
 * responder of that party holds a place (its own roster rule, `respondersVisibleTo`, stops there).
 */
export type DeploymentMemberView = 'full' | 'host' | 'place';
export function deploymentMemberView(
  actor: Actor,
  hostParty: string,
  memberParty: string,
): DeploymentMemberView {
  if (hasRole(actor, 'admin', 'coordinator') || actor.party === memberParty) return 'full';
  return actor.party === hostParty ? 'host' : 'place';
}

/**
 * A party's duty roster (its rotations, and so its duty and feeds) is seen by whoever sees its
 * responders: the party's own users, coordinators and admins (as `respondersVisibleTo`), applied in SQL.
 */
export function rotationsVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'duty_rotations'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin', 'coordinator')) return eb.lit(true);
    return actor.party ? eb('duty_rotations.party_code', '=', actor.party) : eb.lit(false);
  };
}

/** The same rule for a party itself: whether the viewer may see its roster, duty and feeds. */
export function partyRosterVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'parties'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin', 'coordinator')) return eb.lit(true);
    return actor.party ? eb('parties.code', '=', actor.party) : eb.lit(false);
  };
}

/** Calendar feeds (the subscriptions themselves): their owner sees theirs; admins see all (to revoke a leaked one). */
export function calendarFeedsVisibleTo(actor: Actor) {
  return (eb: ExpressionBuilder<Database, 'calendar_feeds'>): Expression<SqlBool> => {
    if (hasRole(actor, 'admin')) return eb.lit(true);
    return actor.id ? eb('calendar_feeds.user_id', '=', actor.id) : eb.lit(false);
  };
}

/**
 * What a secret feed URL may serve, judged at each fetch for its owner as they are now (`owner`,
 * read with the feed): the feed is not revoked, it is the owner's, the owner's account is not
 * disabled, and the owner still sees its target — a responder by `respondersVisibleTo`, a party's
 * roster by `partyRosterVisibleTo`. Anything else is the same 404 ("invisible looks like absent").
 */
export function calendarFeedsServableFor(owner: Actor) {
  return (eb: ExpressionBuilder<Database, 'calendar_feeds'>): Expression<SqlBool> => {
    if (!owner.id) return eb.lit(false);
    return eb.and([
      eb('calendar_feeds.revoked_at', 'is', null),
      eb('calendar_feeds.user_id', '=', owner.id),
      eb.exists(
        eb
          .selectFrom('users')
          .select('users.id')
          .where('users.id', '=', owner.id)
          .where('users.disabled_at', 'is', null),
      ),
      eb.or([
        eb.and([
          eb('calendar_feeds.kind', '=', 'responder'),
          eb.exists(
            eb
              .selectFrom('responders')
              .select('responders.id')
              // The target is text; a responder feed's target is a UUID (checked at creation). The
              // CASE keeps the cast away from a party feed's code whatever order the planner picks.
              .where(
                sql<SqlBool>`responders.id = (case when calendar_feeds.kind = 'responder' then calendar_feeds.target::uuid end)`,
              )
              .where(respondersVisibleTo(owner)),
          ),
        ]),
        eb.and([
          eb('calendar_feeds.kind', '=', 'party'),
          eb.exists(
            eb
              .selectFrom('parties')
              .select('parties.code')
              .whereRef('parties.code', '=', 'calendar_feeds.target')
              .where(partyRosterVisibleTo(owner)),
          ),
        ]),
      ]),
    ]);
  };
}

/**
 * Who is looking at cases and indicators: the actor, and the UTC day on which their party's
 * membership of the framework's community (member, observer, EU institution or partner) is read —
 * in the same statement, from the party's status, so GREEN reaches exactly the community.
 */
export interface CaseViewer {
  actor: Actor;
  /** 'YYYY-MM-DD' */
  day: string;
}

const orAll = (parts: RawBuilder<SqlBool>[]) =>
  parts.length === 0 ? FALSE : sql<SqlBool>`(${sql.join(parts, sql` or `)})`;

/**
 * TLP 2.0 as one SQL condition: may the viewer read something labelled `tlp` that belongs to the
 * case `caseId` (owned by `owner`) and was created by one of `creators`?
 * CLEAR: anyone signed in. GREEN: the community (`inCommunity`, as for requests), the owner and
 * the parties it is shared with.
 * AMBER and AMBER+STRICT: the owner and the parties it is shared with, directly or through a
 * sharing group (AMBER+STRICT differs in what may be passed on: see `passableOnward`). RED: nobody
 * by party — only the people named on the case and whoever created it. Named people read every label.
 * Whatever the label, the PoCs and coordinators of the party the object came from (`origin`: the
 * case's owner, an item's originating party) read it: a narrowing limits who else reads an object,
 * never takes it from its own party, which can then always relax it again. Beyond that, roles never
 * widen this: an admin reads what their party and name allow.
 */
function labelAllows(
  viewer: CaseViewer,
  tlp: RawBuilder<unknown>,
  caseId: string,
  owner: string,
  creators: string[],
  origin: string,
): RawBuilder<SqlBool> {
  const { party, id } = viewer.actor;
  const own = party ? sql<SqlBool>`${sql.ref(owner)} = ${party}` : FALSE;
  const shared = party ? sharedWithParty(caseId, party) : FALSE;
  const named = id
    ? orAll([
        ...creators.map((creator) => sql<SqlBool>`${sql.ref(creator)} = ${id}`),
        sql<SqlBool>`exists (select 1 from case_recipients r where r.case_id = ${sql.ref(caseId)} and r.user_id = ${id})`,
      ])
    : FALSE;
  const community = inCommunity(party ?? null, viewer.day);
  const originStaff =
    party && hasRole(viewer.actor, ...ORIGIN_STAFF) ? sql<SqlBool>`${sql.ref(origin)} = ${party}` : FALSE;
  return sql<SqlBool>`(${tlp} = 'clear'
    or (${tlp} = 'green' and (${community} or ${own} or ${shared}))
    or (${tlp} in ('amber', 'amber+strict') and (${own} or ${shared}))
    or ${named}
    or ${originStaff})`;
}

/**
 * Whether the case `caseId` is shared with `party` by party: directly (`case_shares`) or through a
 * sharing group it is a member of now (`case_group_shares`, `sharing_group_members`).
 */
function sharedWithParty(caseId: string, party: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(exists (select 1 from case_shares s where s.case_id = ${sql.ref(caseId)} and s.party_code = ${party})
        or exists (select 1 from case_group_shares g join sharing_group_members m on m.group_id = g.group_id
                   where g.case_id = ${sql.ref(caseId)} and m.party_code = ${party}))`;
}

/**
 * The case (table `cases`) is shared with `party` by party, directly or through a sharing group:
 * the audience by party that TLP's AMBER reaches, and one of the ways to work on a case.
 */
export function caseSharedWithParty(party: string | null) {
  return (_eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> =>
    party ? sharedWithParty('cases.id', party) : FALSE;
}

/**
 * Sharing groups (table `sharing_groups`) are seen by their owner party and their member parties;
 * nobody without a party sees any.
 */
export function sharingGroupsVisibleTo(party: string | null) {
  return (eb: ExpressionBuilder<Database, 'sharing_groups'>): Expression<SqlBool> => {
    if (!party) return FALSE;
    return eb.or([
      eb('sharing_groups.owner_party', '=', party),
      eb.exists(
        eb
          .selectFrom('sharing_group_members as m')
          .select('m.group_id')
          .whereRef('m.group_id', '=', 'sharing_groups.id')
          .where('m.party_code', '=', party),
      ),
    ]);
  };
}

/** Those of a party who always read what their party originated, however it was narrowed. */
export const ORIGIN_STAFF = ['poc', 'coordinator'] as const;

/** Local operators (the CLI, the node itself) work on the database directly and see everything. */
const seesAll = (viewer: CaseViewer) =>
  viewer.actor.type === 'system' && viewer.actor.roles.includes('admin');
/** Nobody who is not signed in as someone reads a case, whatever its label. */
const nobody = (viewer: CaseViewer) => !seesAll(viewer) && !viewer.actor.id;

/** Cases the viewer may see (table `cases`). */
export function casesVisibleTo(viewer: CaseViewer) {
  return (_eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> => {
    if (seesAll(viewer)) return sql<SqlBool>`true`;
    if (nobody(viewer)) return FALSE;
    // A copy its origin withdrew from this node's party is kept for what was added to it here, and shown to nobody.
    return sql<SqlBool>`(not cases.mirror_retracted and ${labelAllows(
      viewer,
      sql.ref('cases.tlp'),
      'cases.id',
      'cases.owner_party',
      ['cases.created_by_id'],
      'cases.owner_party',
    )})`;
  };
}

/**
 * An item of a case that carries its own label (an observable, a note, a piece of evidence): seen
 * when its case is seen and its own label lets the viewer in, with the case's audience. So an item
 * is never seen more widely than its case, and a narrower item label hides it within the case.
 * Needs `cases` joined.
 */
export function caseItemsVisibleTo(
  viewer: CaseViewer,
  item: 'observables' | 'case_notes' | 'evidence' | 'case_intel_objects' | 'misp_events' | 'misp_event_parts',
) {
  return (eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> => {
    if (seesAll(viewer)) return sql<SqlBool>`true`;
    if (nobody(viewer)) return FALSE;
    return eb.and([
      casesVisibleTo(viewer)(eb),
      labelAllows(
        viewer,
        sql.ref(`${item}.tlp`),
        'cases.id',
        'cases.owner_party',
        [`${item}.created_by_id`],
        `${item}.origin_party`,
      ),
    ]);
  };
}

/**
 * What the viewer may pass on (exports): what they see, except what is RED (named people only,
 * never forwarded) or AMBER+STRICT held by another party (its recipients may not share it onward)
 * — judged by the item's label and its case's, whichever is stricter.
 */
export function passableOnward(
  viewer: CaseViewer,
  item: 'observables' | 'case_notes' | 'case_intel_objects' | 'misp_events' | 'misp_event_parts',
) {
  return (eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> => {
    if (seesAll(viewer)) return sql<SqlBool>`true`;
    const own = viewer.actor.party ? sql<SqlBool>`cases.owner_party = ${viewer.actor.party}` : FALSE;
    const labels = [sql.ref(`${item}.tlp`), sql.ref('cases.tlp')];
    return eb.and([
      caseItemsVisibleTo(viewer, item)(eb),
      ...labels.map((tlp) => sql<SqlBool>`${tlp} <> 'red'`),
      ...labels.map((tlp) => sql<SqlBool>`(${tlp} <> 'amber+strict' or ${own})`),
    ]);
  };
}

/**
 * The case's own label in `passableOnward`, for a case row already read through `casesVisibleTo`:
 * whether the viewer may pass the case itself on (a STIX grouping of it, its title) — not RED, and
 * AMBER+STRICT only from its own party. The same rule as the SQL above, on one row.
 */
export function casePassableOnward(viewer: CaseViewer, row: { tlp: string; owner_party: string }): boolean {
  if (seesAll(viewer)) return true;
  if (row.tlp === 'red') return false;
  return row.tlp !== 'amber+strict' || (viewer.actor.party ?? null) === row.owner_party;
}

/**
 * What the viewer's party contributed to a case (an item's origin is their party) and the viewer
 * sees: the party's own to pass on, whatever the labels of the case it sits in, since a label
 * limits who receives an object, never its source. RED and AMBER+STRICT items stay with whoever of
 * that party may read them (`caseItemsVisibleTo`).
 */
export function ownContributions(viewer: CaseViewer, item: 'observables') {
  return (eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> => {
    const { party } = viewer.actor;
    if (!party) return FALSE;
    return eb.and([
      caseItemsVisibleTo(viewer, item)(eb),
      sql<SqlBool>`${sql.ref(`${item}.origin_party`)} = ${party}`,
    ]);
  };
}

/**
 * Events about a case: seen by who sees the case and, for an item's event, by the item's own
 * audience — its label, its creator and its originating party, stored with the event — exactly as
 * `caseItemsVisibleTo` judges the item itself (not by the case's creator, who may not read an item
 * someone else narrowed).
 */
export function caseEventsVisibleTo(viewer: CaseViewer) {
  return (eb: ExpressionBuilder<Database, 'cases' | 'notifications'>): Expression<SqlBool> => {
    if (seesAll(viewer)) return sql<SqlBool>`true`;
    if (nobody(viewer)) return FALSE;
    return eb.and([
      casesVisibleTo(viewer)(eb as unknown as ExpressionBuilder<Database, 'cases'>),
      sql<SqlBool>`(notifications.tlp is null or ${labelAllows(
        viewer,
        sql.ref('notifications.tlp'),
        'cases.id',
        'cases.owner_party',
        ['notifications.item_created_by_id'],
        'notifications.item_origin_party',
      )})`,
    ]);
  };
}

/**
 * A peer node, judged as its party (design §5: the same policy, with the peer's party as the
 * viewer) and as nobody in particular: what TLP lets that party read — CLEAR, GREEN within the
 * community, AMBER and AMBER+STRICT when shared with it — and never RED, which names people, and
 * people are not federated.
 */
export interface PeerViewer {
  party: string;
  /** 'YYYY-MM-DD' */
  day: string;
}

const asPartyOnly = (viewer: PeerViewer): CaseViewer => ({
  actor: { type: 'user', id: null, name: `node of ${viewer.party}`, party: viewer.party, roles: [] },
  day: viewer.day,
});

/** Cases a peer node may receive (table `cases`). */
export function casesVisibleToPeer(viewer: PeerViewer) {
  // The condition reads only `cases` columns by name: it needs no expression builder.
  // A copy withdrawn from this node still belongs to its owner: what this node's party added to it
  // stays visible to the owner's node (which it was given to), and nothing is retracted from it.
  return (_eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> =>
    sql<SqlBool>`((not cases.mirror_retracted or cases.owner_party = ${viewer.party}) and ${labelAllows(
      asPartyOnly(viewer),
      sql.ref('cases.tlp'),
      'cases.id',
      'cases.owner_party',
      [],
      'cases.owner_party',
    )})`;
}

/** Items of a case a peer node may receive: its case, and the item's own label. Needs `cases` joined. */
export function caseItemsVisibleToPeer(
  viewer: PeerViewer,
  item: 'observables' | 'case_notes' | 'case_intel_objects' | 'misp_events' | 'misp_event_parts' | null,
): RawBuilder<SqlBool> {
  const caseVisible = casesVisibleToPeer(viewer)(
    {} as ExpressionBuilder<Database, 'cases'>,
  ) as RawBuilder<SqlBool>;
  if (item === null) return caseVisible;
  const label = labelAllows(
    asPartyOnly(viewer),
    sql.ref(`${item}.tlp`),
    'cases.id',
    'cases.owner_party',
    [],
    `${item}.origin_party`,
  );
  return sql<SqlBool>`(${caseVisible} and ${label})`;
}
