import { Badge, type MantineColor } from '@mantine/core';
import type { PartyStatus, RequestStatus, Severity, Tlp } from '@vytis/contracts';
import { humanize } from './format.ts';

/** Badges keep their whole word in a narrow table column. */
const WHOLE = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible' } } as const;

/** FIRST's TLP 2.0 colours: the label in its colour on black. */
export const TLP_COLOURS: Record<Tlp, string> = {
  red: '#FF2B2B',
  amber: '#FFC000',
  'amber+strict': '#FFC000',
  green: '#33FF00',
  clear: '#FFFFFF',
};

export function TlpBadge({ tlp }: { tlp: Tlp | string }) {
  const colour = TLP_COLOURS[tlp as Tlp] ?? '#FFFFFF';
  return (
    <span className="tlp" style={{ color: colour }} data-tlp={tlp}>
      TLP:{tlp.toUpperCase()}
    </span>
  );
}

export function PapBadge({ pap }: { pap: string }) {
  return (
    <span className="tlp" style={{ color: TLP_COLOURS[pap as Tlp] ?? '#FFFFFF' }}>
      PAP:{pap.toUpperCase()}
    </span>
  );
}

const STATUS_COLOURS: Partial<Record<RequestStatus, MantineColor>> = {
  draft: 'gray',
  submitted: 'blue',
  voting: 'violet',
  activated: 'teal',
  partially_activated: 'teal',
  declined: 'red',
  assembling: 'orange',
  deployed: 'green',
  stood_down: 'gray',
  reported: 'gray',
  closed: 'dark',
  withdrawn: 'gray',
  ineligible: 'red',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge
      color={STATUS_COLOURS[status as RequestStatus] ?? 'gray'}
      variant="light"
      data-status={status}
      styles={WHOLE}
    >
      {humanize(status)}
    </Badge>
  );
}

const SEVERITY_COLOURS: Record<Severity, MantineColor> = {
  low: 'gray',
  medium: 'yellow',
  high: 'orange',
  critical: 'red',
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge
      color={SEVERITY_COLOURS[severity as Severity] ?? 'gray'}
      variant="filled"
      autoContrast
      styles={WHOLE}
    >
      {severity}
    </Badge>
  );
}

export const PARTY_STATUS_COLOURS: Record<PartyStatus | 'none', string> = {
  member: '#1c7ed6',
  observer: '#63c5b5',
  eu_institution: '#7950f2',
  partner: '#f59f00',
  external: '#ced4da',
  none: '#eef0f2',
};

export function ExerciseBadge({ exercise }: { exercise: boolean }) {
  return exercise ? (
    <Badge color="grape" variant="outline">
      Exercise
    </Badge>
  ) : null;
}
