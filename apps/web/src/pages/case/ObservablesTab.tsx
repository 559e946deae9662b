import {
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  Pagination,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import {
  type Case,
  OBSERVABLE_SORTS,
  type Observable,
  type ObservableSort,
  type Tlp,
} from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import {
  type ObservableQuery,
  useAddObservable,
  useObservableBulk,
  useObservables,
  useRecordSighting,
} from '../../api/cases.ts';
import { ApiError } from '../../api/client.ts';
import { TlpBadge } from '../../components/badges.tsx';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { WarningListFlag } from '../../components/WarningLists.tsx';
import { BulkImport } from '../Cases.tsx';
import { Correlations } from './Correlations.tsx';
import { fieldError, OBSERVABLE_TYPES, tlpOptions } from './shared.ts';

const PAGE = 50;
const SORT_LABELS: Record<ObservableSort, string> = {
  type: 'Type',
  value: 'Value',
  firstSeen: 'First seen',
  lastSeen: 'Last seen',
  tlp: 'Label',
};

/** The observables of a case for analysts: filters, sorting, pages, tags and acts on a selection. */
export function ObservablesTab({ kase }: { kase: Case }) {
  const caseId = kase.id;
  const [query, setQuery] = useState<ObservableQuery>({ sort: 'type', order: 'asc', offset: 0, limit: PAGE });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [correlating, setCorrelating] = useState<Observable | null>(null);
  const list = useObservables(caseId, query);
  const sight = useRecordSighting(caseId);
  const filter = (change: Partial<ObservableQuery>) => {
    setQuery({ ...query, ...change, offset: 0 });
    setSelected(new Set());
  };
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const allOnPage = items.length > 0 && items.every((o) => selected.has(o.id));
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  return (
    <Stack>
      {kase.can.addObservable ? <AddObservable caseId={caseId} /> : null}
      <Group align="flex-end" wrap="wrap" role="search" aria-label="Filter the observables">
        <Select
          label="Filter by type"
          data={OBSERVABLE_TYPES}
          value={query.type ?? null}
          onChange={(v) => filter({ type: v ?? undefined })}
          clearable
          searchable
          w={140}
        />
        <Select
          label="Filter by label"
          data={tlpOptions}
          value={query.tlp ?? null}
          onChange={(v) => filter({ tlp: (v as Tlp | null) ?? undefined })}
          clearable
          w={180}
        />
        <TextInput
          label="Contains text"
          value={query.q ?? ''}
          onChange={(e) => filter({ q: e.currentTarget.value || undefined })}
          w={200}
        />
        <TextInput
          label="Filter by tag"
          value={query.tag ?? ''}
          onChange={(e) => filter({ tag: e.currentTarget.value.trim() || undefined })}
          w={150}
        />
        <Select
          label="Warning lists"
          data={[
            { value: 'only', label: 'On a warning list' },
            { value: 'exclude', label: 'Not on a warning list' },
          ]}
          value={query.warninglisted ?? null}
          onChange={(v) => filter({ warninglisted: (v as 'only' | 'exclude' | null) ?? undefined })}
          clearable
          w={200}
        />
        <Select
          label="Sort by"
          data={OBSERVABLE_SORTS.map((s) => ({ value: s, label: SORT_LABELS[s] }))}
          value={query.sort}
          onChange={(v) => v && filter({ sort: v as ObservableSort })}
          w={140}
        />
        <Select
          label="Order"
          data={[
            { value: 'asc', label: 'Ascending' },
            { value: 'desc', label: 'Descending' },
          ]}
          value={query.order}
          onChange={(v) => v && filter({ order: v as 'asc' | 'desc' })}
          w={140}
        />
      </Group>
      <Problem error={list.error ?? sight.error} />
      {selected.size > 0 ? (
        <BulkBar
          caseId={caseId}
          exercise={kase.exercise}
          items={items}
          selected={selected}
          onDone={() => setSelected(new Set())}
        />
      ) : null}
      <Table.ScrollContainer minWidth={760}>
        <Table striped data-testid="observables">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>
                <Checkbox
                  aria-label="Select all on this page"
                  checked={allOnPage}
                  indeterminate={!allOnPage && items.some((o) => selected.has(o.id))}
                  onChange={(e) =>
                    setSelected(e.currentTarget.checked ? new Set(items.map((o) => o.id)) : new Set())
                  }
                />
              </Table.Th>
              <Table.Th>TLP</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Value</Table.Th>
              <Table.Th>Tags</Table.Th>
              <Table.Th>First seen</Table.Th>
              <Table.Th>Last seen</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Sightings</Table.Th>
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td>
                  <Checkbox
                    aria-label={`Select ${o.value}`}
                    checked={selected.has(o.id)}
                    onChange={(e) => toggle(o.id, e.currentTarget.checked)}
                  />
                </Table.Td>
                <Table.Td>
                  <TlpBadge tlp={o.tlp} />
                </Table.Td>
                <Table.Td>{o.type}</Table.Td>
                <Table.Td className="wrap-anywhere" ff="monospace" maw={320}>
                  {o.value}
                  {o.toIds ? (
                    <Badge ml={6} size="xs" variant="outline">
                      IDS
                    </Badge>
                  ) : null}
                  <WarningListFlag warnings={o.warnings} />
                  {o.comment ? (
                    <Text size="xs" c="dimmed" ff="body">
                      {o.comment}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {o.tags.map((t) => (
                      <Badge key={t} size="xs" variant="light" tt="none">
                        {t}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td title={o.firstSeen ?? undefined}>
                  <Time at={o.firstSeen} />
                </Table.Td>
                <Table.Td title={o.lastSeen ?? undefined}>
                  <Time at={o.lastSeen} />
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
                    {o.can.edit ? (
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
      </Table.ScrollContainer>
      <Group justify="space-between">
        <Text size="sm" data-testid="observables-total">
          {total} observable{total === 1 ? '' : 's'} you may see
        </Text>
        {total > PAGE ? (
          <Pagination
            total={Math.ceil(total / PAGE)}
            value={Math.floor(query.offset / PAGE) + 1}
            onChange={(page) => {
              setQuery({ ...query, offset: (page - 1) * PAGE });
              setSelected(new Set());
            }}
            getControlProps={(control) => ({ 'aria-label': `${control} page` })}
            getItemProps={(page) => ({ 'aria-label': `Page ${page}` })}
          />
        ) : null}
      </Group>
      {list.data && items.length === 0 ? <Text c="dimmed">No observable you may see matches.</Text> : null}
      <Modal
        opened={correlating !== null}
        onClose={() => setCorrelating(null)}
        title="Also seen in"
        size="xl"
      >
        {correlating ? <Correlations caseId={caseId} o={correlating} /> : null}
      </Modal>
      {kase.can.addObservable ? <BulkImport caseId={caseId} /> : null}
    </Stack>
  );
}

/** Acts on the selected rows: relabel and delete (confirmed, with a reason), tag, export as CSV. */
function BulkBar({
  caseId,
  exercise,
  items,
  selected,
  onDone,
}: {
  caseId: string;
  exercise: boolean;
  items: Observable[];
  selected: Set<string>;
  onDone: () => void;
}) {
  const bulk = useObservableBulk(caseId);
  const [tlp, setTlp] = useState<Tlp>('amber+strict');
  const [tag, setTag] = useState('');
  const chosen = items.filter((o) => selected.has(o.id));
  const ids = chosen.map((o) => o.id);
  const n = ids.length;
  const them = `${n} observable${n === 1 ? '' : 's'}`;
  const mayRelabel = chosen.some((o) => o.can.relabel || o.can.relax);
  const mayDelete = chosen.some((o) => o.can.delete);
  const mayTag = chosen.some((o) => o.can.edit);
  const outcome = bulk.data
    ? `${bulk.data.done} done${bulk.data.results.some((r) => r.outcome !== 'done') ? `, ${bulk.data.results.filter((r) => r.outcome !== 'done').length} not yours to change` : ''}`
    : null;
  const run = async (body: Parameters<typeof bulk.mutateAsync>[0]) => {
    await bulk.mutateAsync(body);
    onDone();
  };
  return (
    <Group
      align="flex-end"
      wrap="wrap"
      data-testid="bulk-bar"
      aria-label="Act on the selected observables"
      role="group"
    >
      <Text size="sm" fw={500}>
        {them} selected
      </Text>
      {mayRelabel ? (
        <>
          <Select
            label="New label"
            data={tlpOptions}
            value={tlp}
            onChange={(v) => v && setTlp(v as Tlp)}
            w={190}
            size="xs"
          />
          <ConfirmAction
            label="Relabel selected"
            title={`Relabel ${them} TLP:${tlp.toUpperCase()}?`}
            consequence={`${them} will be labelled TLP:${tlp.toUpperCase()}: who may read them follows the new label. Those you may not relabel are left as they are.`}
            reason="required"
            buttonProps={{ size: 'xs' }}
            onConfirm={(reason) => run({ action: 'relabel', ids, tlp, ...(reason ? { reason } : {}) })}
          />
        </>
      ) : null}
      {mayDelete ? (
        <ConfirmAction
          label="Delete selected"
          title={`Delete ${them}?`}
          consequence={`${them} will be removed from the case for everyone (and from the nodes they were sent to). Those you may not remove are left.`}
          reason="required"
          danger
          buttonProps={{ size: 'xs' }}
          onConfirm={(reason) => run({ action: 'delete', ids, ...(reason ? { reason } : {}) })}
        />
      ) : null}
      {mayTag ? (
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            const t = tag.trim();
            if (t) void run({ action: 'tag', ids, tags: [t] }).then(() => setTag(''));
          }}
        >
          <Group gap="xs" align="flex-end">
            <TextInput
              label="Tag"
              size="xs"
              value={tag}
              maxLength={64}
              onChange={(e) => setTag(e.currentTarget.value)}
              w={140}
            />
            <Button type="submit" size="xs" variant="default" disabled={!tag.trim()}>
              Add tag
            </Button>
            <Button
              size="xs"
              variant="default"
              disabled={!tag.trim()}
              onClick={() => void run({ action: 'untag', ids, tags: [tag.trim()] })}
            >
              Remove tag
            </Button>
          </Group>
        </form>
      ) : null}
      <Button
        size="xs"
        variant="default"
        component="a"
        href={selectedExportHref(caseId, ids, exercise)}
        download={`case-${caseId}-selected${exercise ? '-exercise' : ''}.csv`}
        title="The node's export of the selected rows: what may not be passed on (RED, another party's AMBER+STRICT) is left out"
      >
        Export selected (CSV)
      </Button>
      {outcome ? (
        <Text size="sm" role="status">
          {outcome}
        </Text>
      ) : null}
      <Problem error={bulk.error} />
    </Group>
  );
}

/** The node's export of these observables, under its rules for what may be passed on. */
function selectedExportHref(caseId: string, ids: string[], exercise: boolean): string {
  const query = new URLSearchParams(ids.map((id) => ['ids', id]));
  if (exercise) query.set('exercise', 'include');
  return `/api/v1/cases/${caseId}/observables/export?${query}`;
}

function AddObservable({ caseId }: { caseId: string }) {
  const [f, setF] = useState({ type: 'domain', value: '', tlp: 'amber', toIds: true, comment: '' });
  const add = useAddObservable(caseId);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate(
      { ...f, tlp: f.tlp as Tlp, comment: f.comment || undefined },
      { onSuccess: () => setF({ ...f, value: '', comment: '' }) },
    );
  };
  return (
    <>
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
      {add.error && !(add.error instanceof ApiError && add.error.details.length) ? (
        <Problem error={add.error} title="Not added" />
      ) : null}
    </>
  );
}
