// The affected entity's NIS2 reports (Directive (EU) 2022/2555, art. 23(4)), drafted from the
// request's record for its PoC: each in its tab, with the one report editor. The entity files them
// with its CSIRT or authority itself, and marks each submitted here.
import { Anchor, Badge, Stack, Tabs, Text, Title } from '@mantine/core';
import type { Nis2ReportKind } from '@vytis/contracts';
import { Link, useParams, useSearchParams } from 'react-router';
import { useNis2Reports } from '../../api/reports.ts';
import { useRequest } from '../../api/requests.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { ReportEditor } from './ReportEditor.tsx';
import { NIS2_NAMES, NIS2_ORDER, NIS2_WHEN } from './shared.tsx';

/** The two reports owed only on occasion, marked so in their tab. */
const OCCASIONAL: Partial<Record<Nis2ReportKind, string>> = {
  nis2_intermediate: 'when the CSIRT asks',
  nis2_progress: 'if still ongoing',
};

export function Nis2ReportsPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const list = useNis2Reports(id);
  const request = useRequest(id);
  if (list.isPending) return <Loading label="Drafting the reports" />;
  if (list.isError) return <Problem error={list.error} title="These reports cannot be shown" page />;
  const reports = NIS2_ORDER.flatMap((kind) => list.data.items.filter((r) => r.kind === kind));
  const asked = params.get('kind');
  const active = reports.some((r) => r.kind === asked) ? asked : (reports[0]?.kind ?? null);
  return (
    <Stack>
      <div>
        <Anchor component={Link} to={`/requests/${id}`} size="sm" className="wrap-anywhere">
          ← {request.data?.title ?? 'The request'}
        </Anchor>
        <Title order={1} size="h2">
          NIS2 reports
        </Title>
        <Text size="sm" c="dimmed">
          The affected entity's reports to its CSIRT or competent authority (NIS2, art. 23), drafted from this
          request's record. The entity files each one itself, then marks it submitted here: that freezes it
          and meets its clock.
        </Text>
      </div>
      <Tabs
        value={active}
        onChange={(kind) => kind && setParams({ kind }, { replace: true })}
        data-testid="nis2-tabs"
      >
        <Tabs.List>
          {reports.map((r) => (
            <Tabs.Tab
              key={r.kind}
              value={r.kind}
              rightSection={
                r.status === 'submitted' ? (
                  <Badge size="xs" color="teal" variant="light">
                    submitted
                  </Badge>
                ) : null
              }
            >
              {NIS2_NAMES[r.kind as Nis2ReportKind]}
              {OCCASIONAL[r.kind as Nis2ReportKind] ? (
                <Text span size="xs" c="dimmed">
                  {' '}
                  ({OCCASIONAL[r.kind as Nis2ReportKind]})
                </Text>
              ) : null}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {reports.map((r) => (
          <Tabs.Panel key={r.kind} value={r.kind} pt="md">
            <Stack>
              <Text size="sm">
                {NIS2_NAMES[r.kind as Nis2ReportKind]}: {NIS2_WHEN[r.kind as Nis2ReportKind]}.
              </Text>
              <ReportEditor report={r} />
            </Stack>
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}
