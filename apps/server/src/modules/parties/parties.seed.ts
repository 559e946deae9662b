import type { PartyKind, PartyStatus } from '@vytis/contracts';

/**
 * The seeds' membership of the PESCO Cyber Rapid Response Teams project, as first loaded into a
 * new node. Later changes are made through the API with effective dates, never here.
 */
export const SEED_EFFECTIVE_FROM = '2018-03-06'; // Council Decision (CFSP) 2018/340: the first PESCO projects

export const SEED_PARTIES: ReadonlyArray<{
  code: string;
  name: string;
  kind: PartyKind;
  status: PartyStatus;
}> = [
  { code: 'LT', name: 'Lithuania', kind: 'state', status: 'member' },
  { code: 'EE', name: 'Estonia', kind: 'state', status: 'member' },
  { code: 'HR', name: 'Croatia', kind: 'state', status: 'member' },
  { code: 'PL', name: 'Poland', kind: 'state', status: 'member' },
  { code: 'NL', name: 'Netherlands', kind: 'state', status: 'member' },
  { code: 'RO', name: 'Romania', kind: 'state', status: 'member' },
  { code: 'BE', name: 'Belgium', kind: 'state', status: 'observer' },
  { code: 'GR', name: 'Greece', kind: 'state', status: 'observer' },
  { code: 'ES', name: 'Spain', kind: 'state', status: 'observer' },
  { code: 'IT', name: 'Italy', kind: 'state', status: 'observer' },
  { code: 'FR', name: 'France', kind: 'state', status: 'observer' },
  { code: 'SI', name: 'Slovenia', kind: 'state', status: 'observer' },
  { code: 'FI', name: 'Finland', kind: 'state', status: 'observer' },
  {
    code: 'EU',
    name: 'EU institutions, bodies and agencies (via CERT-EU)',
    kind: 'eu_institution',
    status: 'eu_institution',
  },
  { code: 'UA', name: 'Ukraine', kind: 'state', status: 'partner' },
  { code: 'MD', name: 'Moldova', kind: 'state', status: 'partner' },
  { code: 'AT', name: 'Austria', kind: 'state', status: 'external' },
  { code: 'BG', name: 'Bulgaria', kind: 'state', status: 'external' },
  { code: 'CY', name: 'Cyprus', kind: 'state', status: 'external' },
  { code: 'CZ', name: 'Czechia', kind: 'state', status: 'external' },
  { code: 'DE', name: 'Germany', kind: 'state', status: 'external' },
  { code: 'DK', name: 'Denmark', kind: 'state', status: 'external' },
  { code: 'HU', name: 'Hungary', kind: 'state', status: 'external' },
  { code: 'IE', name: 'Ireland', kind: 'state', status: 'external' },
  { code: 'LU', name: 'Luxembourg', kind: 'state', status: 'external' },
  { code: 'LV', name: 'Latvia', kind: 'state', status: 'external' },
  { code: 'MT', name: 'Malta', kind: 'state', status: 'external' },
  { code: 'PT', name: 'Portugal', kind: 'state', status: 'external' },
  { code: 'SE', name: 'Sweden', kind: 'state', status: 'external' },
  { code: 'SK', name: 'Slovakia', kind: 'state', status: 'external' },
];
