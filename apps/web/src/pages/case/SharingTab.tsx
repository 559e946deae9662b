import { Card, Group, MultiSelect, Select, Stack, Text } from '@mantine/core';
import { type CaseShares, TLPS, type Tlp } from '@vytis/contracts';
import { useState } from 'react';
import { useCaseShares, useSharesUpdate } from '../../api/cases.ts';
import { useParties } from '../../api/queries.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Loading, Problem } from '../../components/Problem.tsx';
import { tlpOptions } from './shared.ts';

/** What a change of the label and audience does, in a sentence: who gains or loses the case. */
export function sharingConsequence(s: CaseShares, tlp: Tlp, parties: string[]): string {
  const lost = s.parties.filter((p) => !parties.includes(p));
  const gained = parties.filter((p) => !s.parties.includes(p));
  const narrowing = TLPS.indexOf(tlp) > TLPS.indexOf(s.tlp);
  const parts: string[] = [];
  if (tlp !== s.tlp) {
    parts.push(`${narrowing ? 'Narrowing' : 'Relaxing'} to TLP:${tlp.toUpperCase()}`);
  }
  if (tlp === 'red') parts.push(`only the named people will see this case`);
  else if (lost.length) parts.push(`${lost.join(' and ')} will no longer see this case`);
  if (gained.length) parts.push(`${gained.join(' and ')} will see this case`);
  if (parts.length === 0) return 'The label and audience stay as they are.';
  return `${parts.join(': ')}.`;
}

export function SharingTab({ caseId }: { caseId: string }) {
  const parties = useParties();
  const shares = useCaseShares(caseId);
  const save = useSharesUpdate(caseId);
  const [draft, setDraft] = useState<{ tlp: Tlp; parties: string[] } | null>(null);
  if (shares.isPending) return <Loading />;
  if (shares.error) return <Problem error={shares.error} />;
  const s = shares.data;
  const current = draft ?? { tlp: s.tlp, parties: s.parties };
  return (
    <Card withBorder>
      <Stack>
        <Text size="sm">
          Owner: <b>{s.ownerParty}</b>. Only {s.ownerParty} changes the label and who the case is shared with;
          a party it is shared with may narrow only the items it added itself.
        </Text>
        {s.can.change ? (
          <Group align="flex-end">
            <Select
              label="TLP"
              data={tlpOptions}
              value={current.tlp}
              onChange={(v) => v && setDraft({ ...current, tlp: v as Tlp })}
              w={200}
            />
            <MultiSelect
              label="Shared with parties"
              data={(parties.data?.items ?? []).map((p) => ({
                value: p.code,
                label: `${p.code} — ${p.name}`,
              }))}
              value={current.parties}
              onChange={(v) => setDraft({ ...current, parties: v })}
              searchable
              w={420}
            />
            <ConfirmAction
              label="Save sharing"
              title="Change who may read this case?"
              consequence={sharingConsequence(s, current.tlp, current.parties)}
              reason="required"
              disabled={!draft}
              onConfirm={async (reason) => {
                await save.mutateAsync({
                  update: { tlp: current.tlp, parties: current.parties, ...(reason ? { reason } : {}) },
                  version: s.version,
                });
                setDraft(null);
              }}
            />
          </Group>
        ) : (
          <Text size="sm" data-testid="sharing-read-only">
            TLP:{s.tlp.toUpperCase()}; shared with{' '}
            {s.parties.length ? s.parties.join(', ') : 'no other party'}.
          </Text>
        )}
        {s.groups.length ? (
          <Text size="sm">
            Groups: {s.groups.map((g) => `${g.name} (${g.parties.join(', ')})`).join('; ')}
          </Text>
        ) : null}
        {s.recipients.length ? (
          <Text size="sm">
            Named people (RED): {s.recipients.map((r) => `${r.name} (${r.party})`).join(', ')}
          </Text>
        ) : null}
      </Stack>
    </Card>
  );
}
