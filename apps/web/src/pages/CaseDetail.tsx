import {
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Modal,
  MultiSelect,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  CASE_STATUSES,
  type Case,
  type CaseShares,
  type CaseTimelineEntry,
  type Correlation,
  type Evidence,
  type Note,
  type Observable,
  TASK_STATUSES,
  type Task,
  TLPS,
} from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import { useParties } from '../api/queries.ts';
import { useMe } from '../auth.tsx';
import { ExerciseBadge, PapBadge, SeverityBadge, TlpBadge } from '../components/badges.tsx';
import { fmtTime, humanize, localInputToIso } from '../components/format.ts';
import { Markdown } from '../components/Markdown.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { WarningListFlag } from '../components/WarningLists.tsx';
import { CaseMisp, MispDownload } from './CaseMisp.tsx';
import { Intelligence, StixDownload, StixImport } from './CaseStix.tsx';
import { BulkImport, CorrelationTable } from './Cases.tsx';

const OBSERVABLE_TYPES = [
  'ip-dst',
  'ip-src',
  'domain',
  'hostname',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'filename',
  'vulnerability',
  'AS',
];
const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));
type Items<T> = { items: T[] };
/** The roles that work cases (the node decides; this only hides forms that would be refused). */
const CASE_WORKERS: string[] = ['analyst', 'responder', 'coordinator', 'poc'];

export function CasePage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const me = useMe();
  const kase = useQuery({ queryKey: ['case', id], queryFn: () => api<Case>(`/cases/${id}`) });
  const shares = useQuery({
    queryKey: ['shares', id],
    queryFn: () => api<CaseShares>(`/cases/${id}/shares`),
  });
  const patch = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<Case>(`/cases/${id}`, { method: 'PATCH', body, ifMatch: kase.data?.version }),
    onSuccess: (c) => queryClient.setQueryData(['case', id], c),
  });
  if (kase.isPending) return <Loading />;
  if (kase.error) return <Problem error={kase.error} title="This case cannot be shown" page />;
  const c = kase.data;
  // Who works on the case adds to it (its party and the parties it is shared with); others read.
  const works =
    me.roles.some((r) => CASE_WORKERS.includes(r)) &&
    (me.party === c.ownerParty || (shares.data?.parties ?? []).includes(me.party));
  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Case of {c.ownerParty} · opened {fmtTime(c.createdAt)} by {c.createdBy}
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
            onChange={(v) => v && patch.mutate({ status: v })}
          />
          <StixDownload kase={c} />
          <MispDownload kase={c} />
        </Group>
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
          <Tasks caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="observables" pt="md">
          <Observables caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="notes" pt="md">
          <Notes caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="timeline" pt="md">
          <CaseTimeline caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="evidence" pt="md">
          <EvidencePanel caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="intelligence" pt="md">
          <Stack>
            {works ? <StixImport caseId={id} /> : null}
            <Intelligence caseId={id} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="misp" pt="md">
          <CaseMisp caseId={id} works={works} />
        </Tabs.Panel>
        <Tabs.Panel value="sharing" pt="md">
          <Sharing caseId={id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** Refreshes the case (its counts) and one of its lists after a write. */
function useCaseWrite<T>(caseId: string, list: string, fn: (input: T) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: [list, caseId] });
      void queryClient.invalidateQueries({ queryKey: ['case', caseId] });
    },
  });
}

const fieldError = (error: unknown, field: string) =>
  error instanceof ApiError ? error.forField(`body/${field}`) : undefined;

function Tasks({ caseId, works }: { caseId: string; works: boolean }) {
  const tasks = useQuery({
    queryKey: ['tasks', caseId],
    queryFn: () => api<Items<Task>>(`/cases/${caseId}/tasks`),
  });
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const add = useCaseWrite(caseId, 'tasks', () =>
    api(`/cases/${caseId}/tasks`, { body: { title, ...(due ? { dueAt: localInputToIso(due) } : {}) } }),
  );
  const update = useCaseWrite(caseId, 'tasks', (v: { task: Task; status: string }) =>
    api(`/cases/${caseId}/tasks/${v.task.id}`, {
      method: 'PATCH',
      body: { status: v.status },
      ifMatch: v.task.version,
    }),
  );
  return (
    <Stack>
      {works ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(undefined, { onSuccess: () => setTitle('') });
          }}
        >
          <Group align="flex-end">
            <TextInput
              label="New task"
              value={title}
              onChange={(e) => setTitle(e.currentTarget.value)}
              w={420}
              error={fieldError(add.error, 'title')}
            />
            <TextInput
              type="datetime-local"
              label="Due"
              value={due}
              onChange={(e) => setDue(e.currentTarget.value)}
            />
            <Button type="submit" disabled={!title.trim()} loading={add.isPending}>
              Add task
            </Button>
          </Group>
        </form>
      ) : null}
      <Problem error={tasks.error ?? update.error} />
      <Table data-testid="tasks">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Task</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Assignee</Table.Th>
            <Table.Th>Due</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tasks.data?.items.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td className="wrap-anywhere">{t.title}</Table.Td>
              <Table.Td>
                <Select
                  aria-label={`Status of ${t.title}`}
                  size="xs"
                  w={140}
                  data={TASK_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
                  value={t.status}
                  onChange={(v) => v && update.mutate({ task: t, status: v })}
                />
              </Table.Td>
              <Table.Td>{t.assignee ? `${t.assignee.name} (${t.assignee.party})` : '—'}</Table.Td>
              <Table.Td>
                {fmtTime(t.dueAt)}{' '}
                {t.clock === 'overdue' || t.clock === 'missed' ? (
                  <Badge color="red" size="xs">
                    {t.clock}
                  </Badge>
                ) : t.clock === 'due-soon' ? (
                  <Badge color="orange" size="xs">
                    due soon
                  </Badge>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

function Observables({ caseId, works }: { caseId: string; works: boolean }) {
  const list = useQuery({
    queryKey: ['observables', caseId],
    queryFn: () =>
      api<{ items: Observable[]; total: number }>(`/cases/${caseId}/observables`, { query: { limit: 500 } }),
  });
  const [f, setF] = useState({ type: 'domain', value: '', tlp: 'amber', toIds: true, comment: '' });
  const [correlating, setCorrelating] = useState<Observable | null>(null);
  const add = useCaseWrite(caseId, 'observables', () =>
    api(`/cases/${caseId}/observables`, { body: { ...f, comment: f.comment || undefined } }),
  );
  const sight = useCaseWrite(caseId, 'observables', (o: Observable) =>
    api(`/cases/${caseId}/observables/${o.id}/sightings`, { body: {} }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate(undefined, { onSuccess: () => setF({ ...f, value: '', comment: '' }) });
  };
  return (
    <Stack>
      {works ? (
        <form onSubmit={submit} aria-label="Add an observable">
          <Group align="flex-start" wrap="wrap">
            <Select
              label="Type"
              data={OBSERVABLE_TYPES}
              value={f.type}
              onChange={(v) => setF({ ...f, type: v ?? 'domain' })}
              w={140}
              searchable
              error={fieldError(add.error, 'type')}
            />
            <TextInput
              label="Value"
              value={f.value}
              onChange={(e) => setF({ ...f, value: e.currentTarget.value })}
              w={320}
              classNames={{ input: 'mono' }}
              error={fieldError(add.error, 'value')}
            />
            <Select
              label="TLP"
              data={tlpOptions}
              value={f.tlp}
              onChange={(v) => setF({ ...f, tlp: v ?? 'amber' })}
              w={170}
            />
            <TextInput
              label="Comment"
              value={f.comment}
              onChange={(e) => setF({ ...f, comment: e.currentTarget.value })}
              w={240}
            />
            <Checkbox
              mt={32}
              label="For detection (IDS)"
              checked={f.toIds}
              onChange={(e) => setF({ ...f, toIds: e.currentTarget.checked })}
            />
            <Button mt={25} type="submit" disabled={!f.value.trim()} loading={add.isPending}>
              Add observable
            </Button>
          </Group>
        </form>
      ) : null}
      {add.error && !(add.error instanceof ApiError && add.error.details.length) ? (
        <Problem error={add.error} title="Not added" />
      ) : null}
      <Problem error={list.error ?? sight.error} />
      <Table striped data-testid="observables">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>TLP</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Comment</Table.Th>
            <Table.Th>From</Table.Th>
            <Table.Th>Sightings</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.data?.items.map((o) => (
            <Table.Tr key={o.id}>
              <Table.Td>
                <TlpBadge tlp={o.tlp} />
              </Table.Td>
              <Table.Td>{o.type}</Table.Td>
              <Table.Td className="wrap-anywhere" ff="monospace" maw={360}>
                {o.value}
                {o.toIds ? (
                  <Badge ml={6} size="xs" variant="outline">
                    IDS
                  </Badge>
                ) : null}
                <WarningListFlag warnings={o.warnings} />
              </Table.Td>
              <Table.Td className="wrap-anywhere" maw={260}>
                {o.comment}
              </Table.Td>
              <Table.Td>{o.originParty}</Table.Td>
              <Table.Td>{o.sightings}</Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <Button
                    size="xs"
                    variant="light"
                    onClick={() => setCorrelating(o)}
                    aria-label={`Correlations of ${o.value}`}
                  >
                    Correlations
                  </Button>
                  {works ? (
                    <Button
                      size="xs"
                      variant="default"
                      onClick={() => sight.mutate(o)}
                      aria-label={`Seen: record a sighting of ${o.value}`}
                    >
                      Seen
                    </Button>
                  ) : null}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {list.data && list.data.items.length === 0 ? <Text c="dimmed">No observable you may see.</Text> : null}
      <Modal
        opened={correlating !== null}
        onClose={() => setCorrelating(null)}
        title="Also seen in"
        size="xl"
      >
        {correlating ? <Correlations caseId={caseId} o={correlating} /> : null}
      </Modal>
      {works ? <BulkImport caseId={caseId} /> : null}
    </Stack>
  );
}

function Correlations({ caseId, o }: { caseId: string; o: Observable }) {
  // An exercise correlates with exercises only; a real case with exercises only when asked.
  const [withExercises, setWithExercises] = useState(false);
  // A value on a warning list is not correlated unless asked for (the server's default).
  const [warninglisted, setWarninglisted] = useState(false);
  const list = useQuery({
    queryKey: ['correlations', o.id, withExercises, warninglisted],
    queryFn: () =>
      api<{
        items: Correlation[];
        overCorrelating: boolean;
        cap: number;
        warnings: string[];
        warninglisted: boolean;
      }>(`/cases/${caseId}/observables/${o.id}/correlations`, {
        query: {
          exercise: !o.exercise && withExercises ? 'include' : undefined,
          warninglisted: warninglisted ? 'include' : undefined,
        },
      }),
  });
  if (list.isPending) return <Loading />;
  if (list.error) return <Problem error={list.error} />;
  return (
    <Stack>
      <Text size="sm" className="wrap-anywhere">
        <code>{o.value}</code> in other {o.exercise ? 'exercises' : 'cases'} you may see
        {list.data.overCorrelating ? ` (more than ${list.data.cap}: a very common value)` : ''}:
      </Text>
      {o.exercise ? (
        <Text size="xs" c="dimmed">
          This case is an exercise: it is compared with other exercises only.
        </Text>
      ) : (
        <Checkbox
          label="Include exercises (marked)"
          checked={withExercises}
          onChange={(e) => setWithExercises(e.currentTarget.checked)}
        />
      )}
      {list.data.warnings.length ? (
        <Stack gap={4}>
          <WarningListFlag warnings={list.data.warnings} />
          <Checkbox
            label="It is on a warning list (a known-benign value): correlate it all the same"
            checked={warninglisted}
            onChange={(e) => setWarninglisted(e.currentTarget.checked)}
          />
        </Stack>
      ) : null}
      {list.data.warninglisted ? (
        <Text c="dimmed">Not correlated: the value is on a warning list.</Text>
      ) : list.data.items.length ? (
        <CorrelationTable items={list.data.items} />
      ) : (
        <Text c="dimmed">Nowhere else.</Text>
      )}
    </Stack>
  );
}

function Notes({ caseId, works }: { caseId: string; works: boolean }) {
  const notes = useQuery({
    queryKey: ['notes', caseId],
    queryFn: () => api<Items<Note>>(`/cases/${caseId}/notes`),
  });
  const [body, setBody] = useState('');
  const [tlp, setTlp] = useState<string | null>(null);
  const add = useCaseWrite(caseId, 'notes', () =>
    api(`/cases/${caseId}/notes`, { body: { body, ...(tlp ? { tlp } : {}) } }),
  );
  return (
    <Stack>
      <Problem error={notes.error} />
      {notes.data?.items.map((n) => (
        <Card withBorder key={n.id} data-testid="note">
          <Group gap="xs" mb={4}>
            <TlpBadge tlp={n.tlp} />
            <Text size="xs" c="dimmed">
              {n.createdBy} ({n.originParty}), {fmtTime(n.createdAt)}
            </Text>
          </Group>
          <Markdown>{n.body}</Markdown>
        </Card>
      ))}
      {works ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(undefined, { onSuccess: () => setBody('') });
          }}
        >
          <Stack gap="xs">
            <Textarea
              label="New note"
              description="Markdown; raw HTML is shown as text, links only http(s)"
              autosize
              minRows={3}
              value={body}
              onChange={(e) => setBody(e.currentTarget.value)}
              error={fieldError(add.error, 'body')}
            />
            <Group align="flex-end">
              <Select
                label="TLP (default: the case's)"
                data={tlpOptions}
                value={tlp}
                onChange={setTlp}
                clearable
                w={220}
              />
              <Button type="submit" disabled={!body.trim()} loading={add.isPending}>
                Add note
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
    </Stack>
  );
}

function CaseTimeline({ caseId, works }: { caseId: string; works: boolean }) {
  const entries = useQuery({
    queryKey: ['case-timeline', caseId],
    queryFn: () => api<Items<CaseTimelineEntry>>(`/cases/${caseId}/timeline`),
  });
  const [text, setText] = useState('');
  const [at, setAt] = useState('');
  const add = useCaseWrite(caseId, 'case-timeline', () =>
    api(`/cases/${caseId}/timeline`, {
      body: { text, happenedAt: localInputToIso(at) ?? new Date().toISOString() },
    }),
  );
  return (
    <Stack>
      {works ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(undefined, { onSuccess: () => setText('') });
          }}
        >
          <Group align="flex-end">
            <TextInput
              type="datetime-local"
              label="When it happened"
              value={at}
              onChange={(e) => setAt(e.currentTarget.value)}
            />
            <TextInput
              label="What happened"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              w={420}
              error={fieldError(add.error, 'text')}
            />
            <Button type="submit" disabled={!text.trim()} loading={add.isPending}>
              Add to the timeline
            </Button>
          </Group>
        </form>
      ) : null}
      <Problem error={entries.error} />
      <Timeline bulletSize={12}>
        {entries.data?.items.map((t) => (
          <Timeline.Item key={t.id} title={fmtTime(t.happenedAt)}>
            <Text size="sm" className="wrap-anywhere">
              {t.text}
            </Text>
            <Text size="xs" c="dimmed">
              recorded by {t.recordedBy}, {fmtTime(t.recordedAt)}
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </Stack>
  );
}

function EvidencePanel({ caseId, works }: { caseId: string; works: boolean }) {
  const list = useQuery({
    queryKey: ['evidence', caseId],
    queryFn: () => api<Items<Evidence>>(`/cases/${caseId}/evidence`),
  });
  const [file, setFile] = useState<File | null>(null);
  const [tlp, setTlp] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const upload = useCaseWrite(caseId, 'evidence', () =>
    api(`/cases/${caseId}/evidence`, {
      query: { filename: file!.name, tlp: tlp ?? undefined },
      raw: { body: file!, type: file!.type || 'application/octet-stream' },
    }),
  );
  return (
    <Stack>
      {works ? (
        <Group align="flex-end">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor="evidence-file">
              Evidence file
            </Text>
            <input
              id="evidence-file"
              type="file"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          <Select
            label="TLP (default: the case's)"
            data={tlpOptions}
            value={tlp}
            onChange={setTlp}
            clearable
            w={220}
          />
          <Button onClick={() => upload.mutate(undefined)} disabled={!file} loading={upload.isPending}>
            Upload
          </Button>
        </Group>
      ) : null}
      <Problem error={upload.error ?? list.error} />
      <Table data-testid="evidence">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>File</Table.Th>
            <Table.Th>TLP</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>SHA-256</Table.Th>
            <Table.Th>Custodian</Table.Th>
            <Table.Th>Added</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.data?.items.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td className="wrap-anywhere">
                <Anchor component="button" onClick={() => setOpen(e.id)}>
                  {e.filename}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <TlpBadge tlp={e.tlp} />
              </Table.Td>
              <Table.Td>{e.size.toLocaleString('en-GB')} B</Table.Td>
              <Table.Td>
                <code title={e.sha256}>{e.sha256.slice(0, 16)}…</code>
              </Table.Td>
              <Table.Td>{e.custodian}</Table.Td>
              <Table.Td>{fmtTime(e.createdAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        title="Evidence and its chain of custody"
        size="xl"
      >
        {open ? <Custody caseId={caseId} id={open} /> : null}
      </Modal>
    </Stack>
  );
}

function Custody({ caseId, id }: { caseId: string; id: string }) {
  const item = useQuery({
    queryKey: ['evidence-item', id],
    queryFn: () => api<Evidence>(`/cases/${caseId}/evidence/${id}`),
  });
  if (item.isPending) return <Loading />;
  if (item.error) return <Problem error={item.error} />;
  const e = item.data;
  return (
    <Stack>
      <Text className="wrap-anywhere">
        <b>{e.filename}</b> ({e.mediaType}, {e.size.toLocaleString('en-GB')} bytes) — SHA-256{' '}
        <code>{e.sha256}</code>
      </Text>
      <Anchor href={`/api/v1/cases/${caseId}/evidence/${id}/content`} download={e.filename}>
        Download (recorded in the chain of custody)
      </Anchor>
      <Table data-testid="custody">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Step</Table.Th>
            <Table.Th>By</Table.Th>
            <Table.Th>Custodian after</Table.Th>
            <Table.Th>Note</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {e.custody?.map((c) => (
            <Table.Tr key={`${c.at}:${c.action}:${c.actor}`}>
              <Table.Td>{fmtTime(c.at)}</Table.Td>
              <Table.Td>{c.action}</Table.Td>
              <Table.Td>
                {c.actor}
                {c.party ? ` (${c.party})` : ''}
              </Table.Td>
              <Table.Td>{c.custodian}</Table.Td>
              <Table.Td className="wrap-anywhere">{c.note}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

function Sharing({ caseId }: { caseId: string }) {
  const queryClient = useQueryClient();
  const parties = useParties();
  const shares = useQuery({
    queryKey: ['shares', caseId],
    queryFn: () => api<CaseShares>(`/cases/${caseId}/shares`),
  });
  const [draft, setDraft] = useState<{ tlp: string; parties: string[] } | null>(null);
  const save = useMutation({
    mutationFn: () =>
      api<CaseShares>(`/cases/${caseId}/shares`, {
        method: 'PUT',
        body: draft,
        ifMatch: shares.data?.version,
      }),
    onSuccess: (s) => {
      queryClient.setQueryData(['shares', caseId], s);
      void queryClient.invalidateQueries({ queryKey: ['case', caseId] });
      setDraft(null);
    },
  });
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
        <Group align="flex-end">
          <Select
            label="TLP"
            data={tlpOptions}
            value={current.tlp}
            onChange={(v) => v && setDraft({ ...current, tlp: v })}
            w={200}
          />
          <MultiSelect
            label="Shared with parties"
            data={(parties.data?.items ?? []).map((p) => ({ value: p.code, label: `${p.code} — ${p.name}` }))}
            value={current.parties}
            onChange={(v) => setDraft({ ...current, parties: v })}
            searchable
            w={420}
          />
          <Button onClick={() => save.mutate()} disabled={!draft || !s.can.change} loading={save.isPending}>
            Save sharing
          </Button>
        </Group>
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
        <Problem error={save.error} title="Not saved" />
      </Stack>
    </Card>
  );
}
