import type { NewRequest, Priority } from '@vytis/contracts';

type Criteria = Pick<
  NewRequest,
  'severity' | 'affectedEntity' | 'impactLevel' | 'crossBorder' | 'measuresTaken'
>;

const SEVERITY_POINTS = { low: 5, medium: 15, high: 30, critical: 40 } as const;
const IMPACT_POINTS = { minor: 3, significant: 9, severe: 15 } as const;
const SPREAD_POINTS = { none: 0, possible: 8, likely: 15 } as const;

/**
 * The Cyber Solidarity Act's criteria for ranking requests for assistance:
 * severity, the kind of entity, the impact, the risk of cross-border spread, and the measures the
 * requester already took. Out of 100, each point with its reason.
 */
export function assessPriority(request: Criteria): Priority {
  const reasons: Priority['reasons'] = [];
  const add = (criterion: string, points: number, reason: string) =>
    reasons.push({ criterion, points, reason });

  add('severity', SEVERITY_POINTS[request.severity], `severity is ${request.severity}`);
  add(
    'entity',
    request.affectedEntity.essential ? 20 : 5,
    request.affectedEntity.essential
      ? `${request.affectedEntity.name} is an essential entity (${request.affectedEntity.sector})`
      : `${request.affectedEntity.name} is not an essential entity`,
  );
  if (request.impactLevel)
    add('impact', IMPACT_POINTS[request.impactLevel], `likely impact is ${request.impactLevel}`);
  else add('impact', 0, 'likely impact not rated');
  const spread = request.crossBorder?.risk;
  if (spread) {
    const countries = request.crossBorder?.countries ?? [];
    add(
      'cross-border',
      SPREAD_POINTS[spread],
      spread === 'none'
        ? 'no risk of cross-border spread'
        : `cross-border spread ${spread}${countries.length ? ` (${countries.join(', ')})` : ''}`,
    );
  } else add('cross-border', 0, 'cross-border spread not assessed');
  const acted = (request.measuresTaken ?? '').trim().length > 0;
  add(
    'measures',
    acted ? 10 : 0,
    acted ? 'the requester has already taken measures to limit the damage' : 'no measures taken reported',
  );
  return { score: reasons.reduce((sum, r) => sum + r.points, 0), reasons };
}
