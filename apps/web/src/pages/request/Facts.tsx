import { Card, SimpleGrid, Text, Title } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import type { ReactNode } from 'react';
import { humanize } from '../../components/format.ts';
import { Markdown } from '../../components/Markdown.tsx';
import { Time } from '../../components/Time.tsx';

const fact = (label: string, value: ReactNode) => (
  <div>
    <Text size="xs" c="dimmed" tt="uppercase">
      {label}
    </Text>
    <Text component="div" className="wrap-anywhere">
      {value}
    </Text>
  </div>
);

/** What was asked, in the Cyber Solidarity Act's template, and the post-action report once filed. */
export function RequestFacts({ r }: { r: AssistanceRequest }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        The request
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
        {fact(
          'Affected entity',
          `${r.affectedEntity.name} (${humanize(r.affectedEntity.sector)}${r.affectedEntity.essential ? ', essential' : ''})`,
        )}
        {fact('Incident class', <code>{r.incidentClass}</code>)}
        {fact('Mode', humanize(r.mode))}
        {fact('Location', `${r.location.city ? `${r.location.city}, ` : ''}${r.location.country}`)}
        {fact(
          'Mission window',
          <>
            <Time at={r.window.from} /> – <Time at={r.window.to} />
          </>,
        )}
        {fact('Aware since', <Time at={r.awareAt} />)}
        {fact('Skills', r.needs.map((n) => `${n.count}× ${n.skill} (level ≥ ${n.minLevel})`).join(', '))}
        {fact('Languages', r.languages.join(', ') || '—')}
        {fact('Clearance', humanize(r.clearance))}
        {fact('Legal instrument', humanize(r.legalInstrument))}
        {fact('Likely impact', r.impactLevel ? humanize(r.impactLevel) : '—')}
        {fact(
          'Cross-border risk',
          r.crossBorder
            ? `${r.crossBorder.risk}${r.crossBorder.countries?.length ? ` (${r.crossBorder.countries.join(', ')})` : ''}`
            : '—',
        )}
      </SimpleGrid>
      {(
        [
          ['Likely impact', r.impact],
          ['Help needed', r.helpNeeded],
          ['Measures already taken', r.measuresTaken],
          ['Other help available', r.otherHelp],
        ] as const
      ).map(([label, text]) =>
        text ? (
          <div key={label} style={{ marginTop: 12 }}>
            <Text size="xs" c="dimmed" tt="uppercase">
              {label}
            </Text>
            <Markdown>{text}</Markdown>
          </div>
        ) : null,
      )}
      {r.report ? (
        <div style={{ marginTop: 12 }}>
          <Text size="xs" c="dimmed" tt="uppercase">
            Post-action report (<Time at={r.report.reportedAt} />, {r.report.reportedBy})
          </Text>
          <Markdown>{r.report.summary}</Markdown>
        </div>
      ) : null}
    </Card>
  );
}
