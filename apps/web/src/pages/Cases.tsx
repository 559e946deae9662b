import {
  Anchor,
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import {
  type BatchLookupItem,
  type BulkResult,
  CASE_STATUSES,
  type Correlation,
  type ExerciseScope,
  type NewCase as NewCaseBody,
  PAPS,
  type Pap,
  type RelatedValue,
  SEVERITIES,
  type Severity,
  TLPS,
  type Tlp,
} from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useCases, useCreateCase, usePickableCases, useRefreshImported } from '../api/cases.ts';
import { ApiError } from '../api/client.ts';
import { useBatchLookup } from '../api/search.ts';
import { uploadFile } from '../api/upload.ts';
import { ExerciseBadge, SeverityBadge, TlpBadge } from '../components/badges.tsx';
import { humanize } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';
import { WarningListFlag } from '../components/WarningLists.tsx';

export function CasesPage() {
  const [status, setStatus] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [creating, setCreating] = useState(false);
  const cases = useCases({ status, q });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Cases
        </Title>
        <Button onClick={() => setCreating(true)}>New case</Button>
      </Group>
      <Group align="flex-end" role="search" aria-label="Filter cases">
        <Select
          label="Status"
          placeholder="any"
          data={CASE_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
          value={status}
          onChange={setStatus}
          clearable
          w={180}
        />
        <TextInput label="Title contains" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={260} />
        <Text size="sm" c="dimmed" aria-live="polite">
          {cases.data ? `${cases.data.total} case${cases.data.total === 1 ? '' : 's'}` : ''}
        </Text>
      </Group>
      <Problem error={cases.error} />
      {cases.isPending ? (
        <Loading />
      ) : (
        <Table striped highlightOnHover data-testid="cases">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Title</Table.Th>
              <Table.Th>Owner</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Severity</Table.Th>
              <Table.Th>TLP</Table.Th>
              <Table.Th>Tasks</Table.Th>
              <Table.Th>Observables</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {cases.data?.items.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td className="wrap-anywhere" maw={380}>
                  <Anchor component={Link} to={`/cases/${c.id}`}>
                    {c.title}
                  </Anchor>{' '}
                  <ExerciseBadge exercise={c.exercise} />
                </Table.Td>
                <Table.Td>
                  {c.ownerParty}
                  {c.mirroredFrom ? (
                    <Text span size="xs" c="dimmed">
                      {' '}
                      (copy from its node)
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>{humanize(c.status)}</Table.Td>
                <Table.Td>
                  <SeverityBadge severity={c.severity} />
                </Table.Td>
                <Table.Td>
                  <TlpBadge tlp={c.tlp} />
                </Table.Td>
                <Table.Td>
                  {c.counts.openTasks} open / {c.counts.tasks}
                </Table.Td>
                <Table.Td>{c.counts.observables}</Table.Td>
                <Table.Td>
                  <Time at={c.updatedAt} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <NewCase opened={creating} onClose={() => setCreating(false)} />
    </Stack>
  );
}

function NewCase({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const [f, setF] = useState<NewCaseBody & { description: string }>({
    title: '',
    description: '',
    incidentClass: 'rsit:malicious-code="infected-system"',
    severity: 'high',
    tlp: 'amber',
    pap: 'amber',
  });
  const create = useCreateCase();
  const err = (field: string) =>
    create.error instanceof ApiError ? create.error.forField(`body/${field}`) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { ...f, description: f.description || undefined },
      {
        onSuccess: (c) => {
          onClose();
          navigate(`/cases/${c.id}`);
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New case" size="lg">
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label="Title"
            required
            value={f.title}
            onChange={(e) => setF({ ...f, title: e.currentTarget.value })}
            error={err('title')}
          />
          <Textarea
            label="Description"
            description="Markdown; links only http(s)"
            autosize
            minRows={3}
            value={f.description}
            onChange={(e) => setF({ ...f, description: e.currentTarget.value })}
            error={err('description')}
          />
          <TextInput
            label="Incident class (RSIT tag)"
            value={f.incidentClass}
            onChange={(e) => setF({ ...f, incidentClass: e.currentTarget.value })}
            error={err('incidentClass')}
            classNames={{ input: 'mono' }}
          />
          <SimpleGrid cols={3}>
            <Select
              label="Severity"
              data={SEVERITIES.map((s) => ({ value: s, label: s }))}
              value={f.severity}
              onChange={(v) => setF({ ...f, severity: (v as Severity | null) ?? 'high' })}
              error={err('severity')}
            />
            <Select
              label="TLP"
              data={TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }))}
              value={f.tlp}
              onChange={(v) => setF({ ...f, tlp: (v as Tlp | null) ?? 'amber' })}
              error={err('tlp')}
            />
            <Select
              label="PAP"
              data={PAPS.map((t) => ({ value: t, label: `PAP:${t.toUpperCase()}` }))}
              value={f.pap}
              onChange={(v) => setF({ ...f, pap: (v as Pap | null) ?? 'amber' })}
              error={err('pap')}
            />
          </SimpleGrid>
          <Problem error={create.error} title="The case was not created" />
          <Button type="submit" loading={create.isPending} w="fit-content">
            Create the case
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

/** Which cases a lookup searches: exercises only when asked for (the server's default leaves them out). */
const EXERCISE_SCOPE_OPTIONS: { value: ExerciseScope; label: string }[] = [
  { value: 'exclude', label: 'Real cases' },
  { value: 'include', label: 'Real cases and exercises' },
  { value: 'only', label: 'Exercises only' },
];

export function CorrelationTable({ items }: { items: Correlation[] }) {
  return (
    <Table data-testid="correlations">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Value</Table.Th>
          <Table.Th>Type</Table.Th>
          <Table.Th>TLP</Table.Th>
          <Table.Th>Case</Table.Th>
          <Table.Th>Owner</Table.Th>
          <Table.Th>Sightings</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {items.map((c) => (
          <Table.Tr key={c.observableId}>
            <Table.Td className="wrap-anywhere" ff="monospace">
              {c.value}
              <WarningListFlag warnings={c.warnings} />
            </Table.Td>
            <Table.Td>{c.type}</Table.Td>
            <Table.Td>
              <TlpBadge tlp={c.tlp} />
            </Table.Td>
            <Table.Td className="wrap-anywhere">
              <Anchor component={Link} to={`/cases/${c.caseId}`}>
                {c.caseTitle}
              </Anchor>{' '}
              <ExerciseBadge exercise={c.exercise} />
            </Table.Td>
            <Table.Td>{c.ownerParty}</Table.Td>
            <Table.Td>{c.sightings}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The lines of a lookup as the URL keeps them (`?v=…&v=…`), so a link opens the same lookup. */
const linesOf = (text: string) =>
  text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

const EXERCISE_SCOPES_SET = new Set<string>(EXERCISE_SCOPE_OPTIONS.map((o) => o.value));

export function IndicatorsPage() {
  const [params, setParams] = useSearchParams();
  const asked = params.getAll('v');
  const exerciseParam = params.get('exercise') ?? 'exclude';
  const exercises = (EXERCISE_SCOPES_SET.has(exerciseParam) ? exerciseParam : 'exclude') as ExerciseScope;
  const [text, setText] = useState(() => asked.join('\n'));
  const [copied, setCopied] = useState<string | null>(null);
  const lookup = useBatchLookup(asked, exercises);
  // A link followed from a related value (or the browser's back button) shows its own values.
  const askedKey = asked.join('\n');
  const [shownKey, setShownKey] = useState(askedKey);
  if (shownKey !== askedKey) {
    setShownKey(askedKey);
    setText(askedKey);
  }
  const ask = (lines: string[], scope: ExerciseScope) => {
    const next = new URLSearchParams();
    for (const line of lines) next.append('v', line);
    if (scope !== 'exclude') next.set('exercise', scope);
    setParams(next);
    setCopied(null);
  };
  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied('Link copied.');
    } catch {
      setCopied(`Copy this link: ${window.location.href}`);
    }
  };
  return (
    <Stack>
      <Title order={1} size="h2">
        Indicator lookup
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          ask(linesOf(text), exercises);
        }}
      >
        <Stack gap="sm">
          <Textarea
            label="Values"
            description="Paste one or many: IPs, domains, URLs, hashes, e-mail addresses…, one per line or separated by spaces; defanged values (hxxp, [.]) are understood"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            autosize
            minRows={3}
            maxRows={12}
            maw={720}
            classNames={{ input: 'mono' }}
          />
          <Group align="flex-end">
            <Select
              label="Search in"
              data={EXERCISE_SCOPE_OPTIONS}
              value={exercises}
              onChange={(v) => ask(asked, (v as ExerciseScope | null) ?? 'exclude')}
              allowDeselect={false}
              w={230}
            />
            <Button type="submit" disabled={linesOf(text).length === 0}>
              Look up
            </Button>
            {asked.length > 0 ? (
              <Button variant="default" onClick={copyLink}>
                Copy link
              </Button>
            ) : null}
          </Group>
          {copied ? (
            <Text size="sm" role="status" className="wrap-anywhere">
              {copied}
            </Text>
          ) : null}
        </Stack>
      </form>
      <Problem error={lookup.error} />
      {asked.length > 0 && lookup.isPending ? <Loading /> : null}
      {lookup.data && asked.length > 0 ? (
        <Stack gap="sm" data-testid="lookup-results">
          <Text size="sm" c="dimmed">
            {lookup.data.items.length} value{lookup.data.items.length === 1 ? '' : 's'}
            {lookup.data.exercises === 'exclude'
              ? '; exercises left out'
              : lookup.data.exercises === 'only'
                ? ', in exercises only'
                : ', exercises included (marked)'}
          </Text>
          {lookup.data.items.map((item) => (
            <LookupRow key={item.query} item={item} cap={lookup.data.cap} exercises={exercises} />
          ))}
        </Stack>
      ) : null}
      <BulkImport />
    </Stack>
  );
}

const RELATION_LABELS: Record<RelatedValue['relation'], string> = {
  'host-of-url': 'host of the URL',
  'url-on-host': 'URL on this host',
  'ip-of-domain': 'IP it was seen with',
  'domain-of-ip': 'domain seen with it',
};

/** One looked-up value: what it is, where it is seen, and what it is related to (each a lookup of its own). */
function LookupRow({
  item,
  cap,
  exercises,
}: {
  item: BatchLookupItem;
  cap: number;
  exercises: ExerciseScope;
}) {
  const scope = exercises === 'exclude' ? '' : `&exercise=${exercises}`;
  return (
    <Paper withBorder p="sm" data-testid="lookup-row">
      <Group gap="xs" wrap="wrap">
        <Text fw={700} ff="monospace" className="wrap-anywhere">
          {item.value}
        </Text>
        {item.type ? (
          <Badge variant="light" color="gray" tt="none">
            {item.type}
          </Badge>
        ) : null}
        <Text size="sm" c="dimmed">
          {item.items.length === 0
            ? 'not seen in any case you may see'
            : `seen in ${item.items.length}${item.overCorrelating ? ` of more than ${cap}` : ''} place${item.items.length === 1 ? '' : 's'} you may see`}
        </Text>
      </Group>
      {item.query !== item.value ? (
        <Text size="xs" c="dimmed" className="wrap-anywhere">
          as typed: {item.query}
        </Text>
      ) : null}
      <WarningListFlag warnings={item.warnings} />
      {item.items.length ? <CorrelationTable items={item.items} /> : null}
      {item.related.length ? (
        <Stack gap={4} mt="xs" data-testid="related">
          <Text size="sm" fw={600}>
            Related
          </Text>
          {item.related.map((r) => (
            <Group key={`${r.relation} ${r.value}`} gap="xs" wrap="wrap">
              <Text size="sm" c="dimmed">
                {RELATION_LABELS[r.relation]}:
              </Text>
              <Anchor
                component={Link}
                to={`/indicators?v=${encodeURIComponent(r.value)}${scope}`}
                ff="monospace"
                size="sm"
                className="wrap-anywhere"
                aria-label={`Look up ${r.value}`}
              >
                {r.value}
              </Anchor>
              <Text size="sm" c="dimmed">
                ({r.places} place{r.places === 1 ? '' : 's'})
              </Text>
              <WarningListFlag warnings={r.warnings} />
            </Group>
          ))}
        </Stack>
      ) : null}
    </Paper>
  );
}

const FORMATS = [
  { value: 'text/csv', label: 'CSV: type,value[,comment]' },
  { value: 'application/x-ndjson', label: 'NDJSON: one {"type","value"} per line' },
  { value: 'text/plain', label: 'Plain list: one value per line (give the type)' },
];

/** Bulk import into a case, with the upload's progress (XMLHttpRequest reports it; fetch does not). */
export function BulkImport({ caseId: fixedCase }: { caseId?: string }) {
  const cases = usePickableCases(!fixedCase);
  const refreshImported = useRefreshImported();
  const [caseId, setCaseId] = useState<string | null>(fixedCase ?? null);
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<string | null>('text/csv');
  const [type, setType] = useState('');
  const [partial, setPartial] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<BulkResult | null>(null);
  const [error, setError] = useState<unknown>(null);

  const start = () => {
    if (!file || !caseId || !format) return;
    setResult(null);
    setError(null);
    setProgress(0);
    const params = new URLSearchParams({ caseId, partial: String(partial) });
    if (format === 'text/plain' && type) params.set('type', type);
    uploadFile<BulkResult>(`/api/v1/indicators/bulk?${params}`, file, format, setProgress).then(
      (answer) => {
        setProgress(null);
        setResult(answer);
        refreshImported(caseId);
      },
      (failure: unknown) => {
        setProgress(null);
        setError(failure);
      },
    );
  };

  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Bulk import indicators
      </Title>
      <Stack>
        <Group align="flex-end" wrap="wrap">
          {!fixedCase ? (
            <Select
              label="Into case"
              data={(cases.data?.items ?? []).map((c) => ({ value: c.id, label: c.title }))}
              value={caseId}
              onChange={setCaseId}
              searchable
              w={320}
            />
          ) : null}
          <Select label="Format" data={FORMATS} value={format} onChange={setFormat} w={340} />
          {format === 'text/plain' ? (
            <TextInput
              label="Type of every line"
              placeholder="e.g. ip-dst"
              value={type}
              onChange={(e) => setType(e.currentTarget.value)}
            />
          ) : null}
        </Group>
        <Group align="flex-end">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor="bulk-file">
              File
            </Text>
            <input
              id="bulk-file"
              type="file"
              accept=".csv,.txt,.ndjson,.jsonl,text/csv,text/plain"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          <label style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
            <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.currentTarget.checked)} />
            <Text size="sm">Import the good lines even if some are bad</Text>
          </label>
          <Button onClick={start} disabled={!file || !caseId || progress !== null}>
            Import
          </Button>
        </Group>
        {progress !== null ? (
          <div>
            <Text size="sm">
              {progress < 100
                ? `Uploading… ${progress}%`
                : 'Uploaded; the node is checking and storing the lines…'}
            </Text>
            <Progress value={progress} animated={progress === 100} aria-label="Import progress" />
          </div>
        ) : null}
        {result ? (
          <Text role="status" data-testid="bulk-result">
            Imported {result.imported}, duplicates {result.duplicates}, rejected {result.rejected}
            {result.warninglisted ? `, on a warning list ${result.warninglisted} (kept, not correlated)` : ''}
            {result.problems.length
              ? ` — ${result.problems
                  .slice(0, 5)
                  .map((p) => `line ${p.line}: ${p.message}`)
                  .join('; ')}`
              : ''}
          </Text>
        ) : null}
        <Problem error={error} title="Nothing was imported" />
      </Stack>
    </Paper>
  );
}
