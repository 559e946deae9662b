import { Anchor, Badge, Card, Group, Select, Stack, Tabs, Text, Title } from '@mantine/core';
import { CASE_STATUSES, type CaseStatus } from '@vytis/contracts';
import { Link, useParams } from 'react-router';
import { useCase, useUpdateCase } from '../api/cases.ts';
import { ExerciseBadge, PapBadge, SeverityBadge, TlpBadge } from '../components/badges.tsx';
import { humanize } from '../components/format.ts';
import { Markdown } from '../components/Markdown.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';
import { CaseMisp, MispDownload } from './CaseMisp.tsx';
import { Intelligence, StixDownload, StixImport } from './CaseStix.tsx';
import { EvidenceTab } from './case/EvidenceTab.tsx';
import { NotesTab } from './case/NotesTab.tsx';
import { ObservablesTab } from './case/ObservablesTab.tsx';
import { SharingTab } from './case/SharingTab.tsx';
import { TasksTab } from './case/TasksTab.tsx';
import { TimelineTab } from './case/TimelineTab.tsx';

/**
 * A case: its header and one tab per part (each in `pages/case/`). What the viewer may do comes from
 * the case's `can` (and each item's), computed by the node: this page decides no rule itself.
 */
export function CasePage() {
  const { id = '' } = useParams();
  const kase = useCase(id);
  const patch = useUpdateCase(id);
  if (kase.isPending) return <Loading />;
  if (kase.error) return <Problem error={kase.error} title="This case cannot be shown" page />;
  const c = kase.data;
  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Case of {c.ownerParty} · opened <Time at={c.createdAt} /> by {c.createdBy}
          {c.requestId ? (
            <>
              {' · '}
              <Anchor component={Link} to={`/requests/${c.requestId}`}>
                the request
              </Anchor>
            </>
          ) : null}
        </Text>
        <Title order={1} size="h2" className="wrap-anywhere" data-testid="case-title">
          {c.title}
        </Title>
        <Group gap="xs" mt={4}>
          <TlpBadge tlp={c.tlp} />
          <PapBadge pap={c.pap} />
          <SeverityBadge severity={c.severity} />
          <ExerciseBadge exercise={c.exercise} />
          <Badge variant="outline" tt="none">
            {c.incidentClass}
          </Badge>
          <Select
            aria-label="Case status"
            size="xs"
            w={150}
            data={CASE_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
            value={c.status}
            onChange={(v) => v && patch.mutate({ patch: { status: v as CaseStatus }, version: c.version })}
            disabled={!c.can.changeStatus}
          />
          <StixDownload kase={c} />
          <MispDownload kase={c} />
        </Group>
        {c.mirroredFrom ? (
          <Text size="sm" mt="xs" data-testid="case-mirror">
            A read-only copy from {c.mirroredFrom}'s node: the case, its label, tasks and timeline are changed
            there. What you add here (notes, observables, sightings) is your party's own and is sent back to{' '}
            {c.mirroredFrom}.
          </Text>
        ) : null}
      </div>
      <Problem error={patch.error} />
      <Tabs defaultValue="observables" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="tasks">Tasks ({c.counts.openTasks} open)</Tabs.Tab>
          <Tabs.Tab value="observables">Observables ({c.counts.observables})</Tabs.Tab>
          <Tabs.Tab value="notes">Notes ({c.counts.notes})</Tabs.Tab>
          <Tabs.Tab value="timeline">Timeline ({c.counts.timeline})</Tabs.Tab>
          <Tabs.Tab value="evidence">Evidence ({c.counts.evidence})</Tabs.Tab>
          <Tabs.Tab value="intelligence">Intelligence (STIX)</Tabs.Tab>
          <Tabs.Tab value="misp">MISP events</Tabs.Tab>
          <Tabs.Tab value="sharing">Sharing</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <Card withBorder>
            {c.description ? <Markdown>{c.description}</Markdown> : <Text c="dimmed">No description.</Text>}
            <Text size="sm" mt="sm">
              Assignees: {c.assignees.map((a) => `${a.name} (${a.party})`).join(', ') || 'none'}
            </Text>
          </Card>
        </Tabs.Panel>
        <Tabs.Panel value="tasks" pt="md">
          <TasksTab caseId={id} canAdd={c.can.addTask} />
        </Tabs.Panel>
        <Tabs.Panel value="observables" pt="md">
          <ObservablesTab kase={c} />
        </Tabs.Panel>
        <Tabs.Panel value="notes" pt="md">
          <NotesTab caseId={id} canAdd={c.can.addNote} />
        </Tabs.Panel>
        <Tabs.Panel value="timeline" pt="md">
          <TimelineTab caseId={id} canAdd={c.can.addTimelineEntry} />
        </Tabs.Panel>
        <Tabs.Panel value="evidence" pt="md">
          <EvidenceTab caseId={id} canAdd={c.can.addEvidence} />
        </Tabs.Panel>
        <Tabs.Panel value="intelligence" pt="md">
          <Stack>
            {c.can.addObservable ? <StixImport caseId={id} /> : null}
            <Intelligence caseId={id} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="misp" pt="md">
          <CaseMisp caseId={id} works={c.can.addObservable} />
        </Tabs.Panel>
        <Tabs.Panel value="sharing" pt="md">
          <SharingTab caseId={id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
