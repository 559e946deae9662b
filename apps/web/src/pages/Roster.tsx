import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type InfiniteData, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  CLEARANCES,
  type Responder,
  type ResponderList,
  type Rotation,
  type ShiftList,
  SKILLS,
  type User,
} from '@vytis/contracts';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useParties } from '../api/queries.ts';
import {
  useCreateResponder,
  useCreateRotation,
  useDeleteRotation,
  useResponders,
  useRotations,
  useSetAvailability,
  useUpdateResponder,
  useUpdateRotation,
} from '../api/roster.ts';
import { useMe } from '../auth.tsx';
import { ConfirmAction } from '../components/Confirm.tsx';
import { fmtDate, fmtTime, humanize, localInputToIso, viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';
import { CalendarSubscriptions } from './CalendarFeeds.tsx';

/** Monday 00:00 of this week in the viewer's zone, and the Monday after. */
function thisWeek(): { from: string; to: string } {
  const now = new Date();
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const next = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 7);
  return { from: monday.toISOString(), to: next.toISOString() };
}

type ResponderPage = ResponderList;

export function RosterPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const parties = useParties();
  const [party, setParty] = useState<string | null>(null);
  const [skill, setSkill] = useState<string | null>(null);
  const [editing, setEditing] = useState<Responder | 'new' | null>(null);
  const [leaveOf, setLeaveOf] = useState<string | null>(null);
  const responders = useResponders(party, skill);
  const rotations = useRotations();
  const week = thisWeek();
  const dutyParties = [...new Set([me.party, ...(rotations.data?.items ?? []).map((r) => r.party)])].sort();
  const duty = useQueries({
    queries: dutyParties.map((code) => ({
      queryKey: ['duty-week', code, week.from],
      queryFn: () => api<ShiftList>(`/parties/${code}/duty`, { query: week }),
      enabled: rotations.isSuccess,
    })),
  });
  const items = responders.data?.pages.flatMap((p) => p.items) ?? [];
  // The parties whose roster the server says the viewer keeps.
  const createFor = responders.data?.pages[0]?.can.createFor ?? [];
  const leaveResponder = items.find((r) => r.id === leaveOf) ?? null;

  // Whoever may edit a responder links them to the user who is that person, so they find their
  // deployments and open their own pass.
  const usersParty = createFor.length === 1 ? createFor[0] : undefined;
  const users = useQuery({
    queryKey: ['users', usersParty ?? 'all'],
    queryFn: () =>
      api<{ items: User[]; nextCursor: string | null }>('/users', {
        query: { party: usersParty, limit: 500 },
      }),
    enabled: createFor.length > 0,
    staleTime: 60_000,
  });
  const userById = new Map((users.data?.items ?? []).map((u) => [u.id, u]));
  const linkedTo = new Map(items.flatMap((r) => (r.userId ? [[r.userId, r] as const] : [])));
  const link = useMutation({
    mutationFn: ({ responder, userId }: { responder: Responder; userId: string | null }) =>
      api<Responder>(`/responders/${responder.id}`, {
        method: 'PATCH',
        body: { userId },
        ifMatch: responder.version,
      }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['responder', updated.id], updated);
      queryClient.setQueriesData<InfiniteData<ResponderPage>>({ queryKey: ['responders'] }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((r) => (r.id === updated.id ? updated : r)),
              })),
            }
          : data,
      );
    },
  });
  const userCell = (r: Responder) => {
    if (!r.can.edit) {
      return r.userId ? (
        <Badge variant="light" color="teal" size="sm">
          linked
        </Badge>
      ) : (
        <Text size="sm" c="dimmed">
          —
        </Text>
      );
    }
    const linked = r.userId ? userById.get(r.userId) : undefined;
    const options = (users.data?.items ?? [])
      .filter((u) => u.party === r.party && (!u.disabledAt || u.id === r.userId))
      .sort(
        (a, b) =>
          Number(b.roles.includes('responder')) - Number(a.roles.includes('responder')) ||
          a.name.localeCompare(b.name),
      )
      .map((u) => {
        const other = linkedTo.get(u.id);
        return {
          value: u.id,
          label: u.roles.includes('responder') ? u.name : `${u.name} (not a responder)`,
          disabled: Boolean(other && other.id !== r.id),
        };
      });
    return (
      <Stack gap={2}>
        <Select
          aria-label={`User of ${r.name}`}
          placeholder="not linked"
          data={options}
          value={r.userId}
          onChange={(userId) => {
            if (userId !== r.userId) link.mutate({ responder: r, userId });
          }}
          clearable
          searchable
          size="xs"
          w={180}
          disabled={link.isPending && link.variables?.responder.id === r.id}
          nothingFoundMessage={`No user of ${r.party}`}
        />
        {linked && !linked.roles.includes('responder') ? (
          <Text size="xs" c="orange">
            has no responder role: cannot open passes
          </Text>
        ) : null}
      </Stack>
    );
  };

  return (
    <Stack>
      <Title order={1} size="h2">
        Standby roster
      </Title>
      <Card withBorder>
        <Group justify="space-between" mb="xs">
          <Title order={2} size="h4">
            On duty this week
          </Title>
          <Text size="sm" c="dimmed">
            {fmtDate(week.from)} – {fmtDate(new Date(new Date(week.to).getTime() - 1).toISOString())}, in your
            zone ({viewerZone()})
          </Text>
        </Group>
        <Problem error={rotations.error} />
        <Table.ScrollContainer minWidth={640}>
          <Table data-testid="duty">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Party</Table.Th>
                <Table.Th>Who, when</Table.Th>
                <Table.Th>Calendar</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {dutyParties.map((code, i) => {
                const shifts = duty[i]?.data?.items ?? [];
                return (
                  <Table.Tr key={code}>
                    <Table.Td fw={700}>{code}</Table.Td>
                    <Table.Td>
                      {duty[i]?.error ? (
                        <Text c="dimmed" size="sm">
                          not visible to you
                        </Text>
                      ) : shifts.length === 0 ? (
                        <Text c="dimmed" size="sm">
                          no shift this week
                        </Text>
                      ) : (
                        <Stack gap={2}>
                          {shifts.map((s) => (
                            <Text key={`${s.rotationId}:${s.index}`} size="sm">
                              <b>{s.responderName}</b> — <Time at={s.start} /> → <Time at={s.end} /> (
                              {s.rotationName})
                              {s.unavailable ? (
                                <Badge ml="xs" color="red" size="xs">
                                  unavailable part of it
                                </Badge>
                              ) : null}
                            </Text>
                          ))}
                        </Stack>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Anchor href={`/api/v1/parties/${code}/duty.ics`} download={`duty-${code}.ics`}>
                        {code} duty (.ics)
                      </Anchor>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      <CalendarSubscriptions parties={dutyParties} />
      <RotationsCard responders={items} />
      {createFor.length > 0 ? (
        <Button w="fit-content" onClick={() => setEditing('new')}>
          Add responder
        </Button>
      ) : null}
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? 'Add a responder' : `Edit ${editing?.name ?? ''}`}
        size="xl"
      >
        {editing !== null ? (
          <ResponderForm
            responder={editing === 'new' ? null : editing}
            parties={createFor}
            onDone={() => setEditing(null)}
          />
        ) : null}
      </Modal>
      <Modal
        opened={leaveResponder !== null}
        onClose={() => setLeaveOf(null)}
        title={`Leave and unavailability of ${leaveResponder?.name ?? ''}`}
        size="xl"
      >
        {leaveResponder ? <LeaveEditor responder={leaveResponder} /> : null}
      </Modal>
      <Group align="flex-end">
        <Select
          label="Party"
          placeholder="all you may see"
          data={(parties.data?.items ?? []).map((p) => ({ value: p.code, label: `${p.code} — ${p.name}` }))}
          value={party}
          onChange={setParty}
          clearable
          searchable
          w={220}
        />
        <Select
          label="Skill"
          placeholder="any"
          data={SKILLS.map((s) => ({ value: s, label: humanize(s) }))}
          value={skill}
          onChange={setSkill}
          clearable
          w={240}
        />
        <Text size="sm" c="dimmed" aria-live="polite">
          {responders.data?.pages[0]?.total ?? '…'} responders
        </Text>
      </Group>
      <Problem error={responders.error ?? users.error} />
      <Problem error={link.error} title="The link to a user was not saved" />
      {responders.isPending ? (
        <Loading />
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table striped data-testid="responders">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Party</Table.Th>
                <Table.Th>Skills (level)</Table.Th>
                <Table.Th>Languages</Table.Th>
                <Table.Th>Clearance</Table.Th>
                <Table.Th>Base</Table.Th>
                <Table.Th>Ready in</Table.Th>
                <Table.Th>User</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    {r.name}
                    <Text size="xs" c="dimmed">
                      {r.affiliation}
                    </Text>
                  </Table.Td>
                  <Table.Td>{r.party}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {r.skills.map((s) => (
                        <Badge key={s.skill} variant="light" size="sm" tt="none">
                          {s.skill} {s.level}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>{r.languages.join(', ')}</Table.Td>
                  <Table.Td>{humanize(r.clearance)}</Table.Td>
                  <Table.Td>
                    {r.base.city}
                    <Text size="xs" c="dimmed">
                      {r.base.timeZone}
                    </Text>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <Text size="sm">remote {r.readiness.remoteHours} h</Text>
                    <Text size="sm">on site {r.readiness.onsiteHours} h</Text>
                  </Table.Td>
                  <Table.Td>{userCell(r)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      {r.can.edit ? (
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => setEditing(r)}
                          aria-label={`Edit ${r.name}`}
                        >
                          Edit
                        </Button>
                      ) : null}
                      {r.can.setAvailability ? (
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => setLeaveOf(r.id)}
                          aria-label={`Leave of ${r.name}`}
                        >
                          Leave{r.unavailability.length > 0 ? ` (${r.unavailability.length})` : ''}
                        </Button>
                      ) : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {responders.hasNextPage ? (
        <Button
          variant="default"
          onClick={() => void responders.fetchNextPage()}
          loading={responders.isFetchingNextPage}
          w="fit-content"
        >
          Show more
        </Button>
      ) : null}
    </Stack>
  );
}

// --- editing the roster: shown only where the server's `can` says so ---------------------------------

interface ResponderDraft {
  name: string;
  party: string;
  affiliation: string;
  skills: string[];
  level: string;
  languages: string;
  clearance: string;
  city: string;
  country: string;
  lat: number;
  lon: number;
  timeZone: string;
  remoteHours: number;
  onsiteHours: number;
}

const draftOf = (r: Responder | null, party: string): ResponderDraft => ({
  name: r?.name ?? '',
  party: r?.party ?? party,
  affiliation: r?.affiliation ?? 'civilian',
  skills: r?.skills.map((s) => s.skill) ?? [],
  level: String(r?.skills[0]?.level ?? 2),
  languages: r?.languages.join(', ') ?? 'en',
  clearance: r?.clearance ?? 'secret',
  city: r?.base.city ?? '',
  country: r?.base.country ?? party,
  lat: r?.base.lat ?? 0,
  lon: r?.base.lon ?? 0,
  timeZone: r?.base.timeZone ?? viewerZone(),
  remoteHours: r?.readiness.remoteHours ?? 2,
  onsiteHours: r?.readiness.onsiteHours ?? 24,
});

function fieldsOf(d: ResponderDraft) {
  const kept = new Map(d.skills.map((s) => [s, Number(d.level)]));
  return {
    name: d.name.trim(),
    affiliation: d.affiliation as Responder['affiliation'],
    skills: [...kept].map(([skill, level]) => ({ skill, level })) as Responder['skills'],
    languages: d.languages
      .split(/[\s,]+/)
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean),
    clearance: d.clearance as Responder['clearance'],
    base: { city: d.city.trim(), country: d.country, lat: d.lat, lon: d.lon, timeZone: d.timeZone.trim() },
    readiness: { remoteHours: d.remoteHours, onsiteHours: d.onsiteHours },
  };
}

/** Register or edit a responder: skills and level, languages, clearance, base and time zone, readiness. */
function ResponderForm({
  responder,
  parties,
  onDone,
}: {
  responder: Responder | null;
  parties: string[];
  onDone: () => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(responder, parties[0] ?? ''));
  const create = useCreateResponder();
  const update = useUpdateResponder();
  const set = <K extends keyof ResponderDraft>(key: K, value: ResponderDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  const mutation = responder ? update : create;
  const submit = async () => {
    if (responder) await update.mutateAsync({ responder, patch: fieldsOf(draft) });
    else await create.mutateAsync({ ...fieldsOf(draft), party: draft.party });
    onDone();
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit().catch(() => {});
      }}
    >
      <Stack gap="xs">
        <Group grow align="flex-start">
          <TextInput
            label="Name"
            required
            value={draft.name}
            onChange={(e) => set('name', e.currentTarget.value)}
          />
          {responder ? null : (
            <Select
              label="Party"
              data={parties}
              value={draft.party}
              onChange={(v) => v && set('party', v)}
              allowDeselect={false}
            />
          )}
          <Select
            label="Affiliation"
            data={['civilian', 'military']}
            value={draft.affiliation}
            onChange={(v) => v && set('affiliation', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <MultiSelect
            label="Skills"
            data={SKILLS.map((s) => ({ value: s, label: humanize(s) }))}
            value={draft.skills}
            onChange={(v) => set('skills', v)}
            searchable
          />
          <Select
            label="Skill level"
            description="1 basic, 2 skilled, 3 expert"
            data={['1', '2', '3']}
            value={draft.level}
            onChange={(v) => v && set('level', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Languages"
            description="ISO 639-1 codes, comma-separated"
            value={draft.languages}
            onChange={(e) => set('languages', e.currentTarget.value)}
          />
          <Select
            label="Clearance"
            data={CLEARANCES.map((c) => ({ value: c, label: humanize(c) }))}
            value={draft.clearance}
            onChange={(v) => v && set('clearance', v)}
            allowDeselect={false}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Base city"
            required
            value={draft.city}
            onChange={(e) => set('city', e.currentTarget.value)}
          />
          <TextInput
            label="Country"
            value={draft.country}
            onChange={(e) => set('country', e.currentTarget.value.toUpperCase())}
          />
          <TextInput
            label="Time zone"
            description="IANA, e.g. Europe/Vilnius"
            value={draft.timeZone}
            onChange={(e) => set('timeZone', e.currentTarget.value)}
          />
        </Group>
        <Group grow align="flex-start">
          <NumberInput
            label="Latitude"
            value={draft.lat}
            onChange={(v) => set('lat', Number(v))}
            decimalScale={4}
          />
          <NumberInput
            label="Longitude"
            value={draft.lon}
            onChange={(v) => set('lon', Number(v))}
            decimalScale={4}
          />
          <NumberInput
            label="Ready remotely in (h)"
            value={draft.remoteHours}
            min={0}
            onChange={(v) => set('remoteHours', Number(v))}
          />
          <NumberInput
            label="Ready on site in (h)"
            value={draft.onsiteHours}
            min={0}
            onChange={(v) => set('onsiteHours', Number(v))}
          />
        </Group>
        <Problem error={mutation.error} title="Not saved" />
        <Group>
          <Button type="submit" loading={mutation.isPending}>
            {responder ? 'Save responder' : 'Add responder'}
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** A responder's leave and unavailability: add a period, remove one (confirmed). */
function LeaveEditor({ responder }: { responder: Responder }) {
  const save = useSetAvailability();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [kind, setKind] = useState<string>('leave');
  const [note, setNote] = useState('');
  const periods = responder.unavailability;
  const add = async () => {
    const period = {
      from: localInputToIso(from) ?? '',
      to: localInputToIso(to) ?? '',
      kind: kind as (typeof periods)[number]['kind'],
      ...(note.trim() ? { note: note.trim() } : {}),
    };
    await save.mutateAsync({ responder, body: { unavailability: [...periods, period] } });
    setFrom('');
    setTo('');
    setNote('');
  };
  return (
    <Stack gap="xs">
      {periods.length === 0 ? <Text size="sm">No leave recorded.</Text> : null}
      {periods.map((p, i) => (
        <Group key={`${p.from}-${p.to}`} justify="space-between">
          <Text size="sm">
            {humanize(p.kind)}: <Time at={p.from} /> → <Time at={p.to} />
            {p.note ? ` (${p.note})` : ''}
          </Text>
          <ConfirmAction
            label="Remove"
            title={`Remove this ${p.kind} of ${responder.name}?`}
            consequence={`${responder.name} counts as available again from ${fmtTime(p.from)} to ${fmtTime(p.to)}.`}
            danger
            buttonProps={{
              size: 'xs',
              variant: 'default',
              'aria-label': `Remove ${p.kind} from ${fmtTime(p.from)}`,
            }}
            onConfirm={() =>
              save.mutateAsync({ responder, body: { unavailability: periods.filter((_, j) => j !== i) } })
            }
          />
        </Group>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add().catch(() => {});
        }}
      >
        <Group align="flex-end">
          <TextInput
            type="datetime-local"
            label="From (your zone)"
            required
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            type="datetime-local"
            label="To (your zone)"
            required
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
          <Select
            label="Kind"
            data={['leave', 'unavailable', 'training']}
            value={kind}
            onChange={(v) => v && setKind(v)}
            allowDeselect={false}
            w={140}
          />
          <TextInput label="Note" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
          <Button type="submit" loading={save.isPending}>
            Add period
          </Button>
        </Group>
      </form>
      <Problem error={save.error} title="Leave not saved" />
    </Stack>
  );
}

interface RotationDraft {
  name: string;
  party: string;
  timeZone: string;
  startsOn: string;
  shiftStart: string;
  shiftDays: number;
  shiftHours: number;
  responderIds: string[];
}

/** Create or change a rotation: who takes the shifts in turn, and when they run (in the party's zone). */
function RotationForm({
  rotation,
  parties,
  responders,
  onDone,
}: {
  rotation: Rotation | null;
  parties: string[];
  responders: Responder[];
  onDone: () => void;
}) {
  const [draft, setDraft] = useState<RotationDraft>(() => ({
    name: rotation?.name ?? '',
    party: rotation?.party ?? parties[0] ?? '',
    timeZone: rotation?.timeZone ?? viewerZone(),
    startsOn: rotation?.startsOn ?? new Date().toISOString().slice(0, 10),
    shiftStart: rotation?.shiftStart ?? '08:00',
    shiftDays: rotation?.shiftDays ?? 1,
    shiftHours: rotation?.shiftHours ?? 24,
    responderIds: rotation?.responderIds ?? [],
  }));
  const set = <K extends keyof RotationDraft>(key: K, value: RotationDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  const create = useCreateRotation();
  const update = useUpdateRotation();
  const mutation = rotation ? update : create;
  const { party, ...fields } = draft;
  const submit = async () => {
    if (rotation) await update.mutateAsync({ rotation, patch: fields });
    else await create.mutateAsync({ ...fields, party });
    onDone();
  };
  const people = responders
    .filter((r) => r.party === draft.party)
    .map((r) => ({ value: r.id, label: r.name }));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit().catch(() => {});
      }}
    >
      <Stack gap="xs">
        <Group grow align="flex-start">
          <TextInput
            label="Rotation name"
            required
            value={draft.name}
            onChange={(e) => set('name', e.currentTarget.value)}
          />
          {rotation ? null : (
            <Select
              label="Party"
              data={parties}
              value={draft.party}
              onChange={(v) => v && set('party', v)}
              allowDeselect={false}
            />
          )}
          <TextInput
            label="Time zone"
            value={draft.timeZone}
            onChange={(e) => set('timeZone', e.currentTarget.value)}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            type="date"
            label="First shift on"
            value={draft.startsOn}
            onChange={(e) => set('startsOn', e.currentTarget.value)}
          />
          <TextInput
            label="Shift starts at (HH:MM)"
            value={draft.shiftStart}
            onChange={(e) => set('shiftStart', e.currentTarget.value)}
          />
          <NumberInput
            label="Days between shifts"
            min={1}
            max={28}
            value={draft.shiftDays}
            onChange={(v) => set('shiftDays', Number(v))}
          />
          <NumberInput
            label="Shift length (h)"
            min={1}
            value={draft.shiftHours}
            onChange={(v) => set('shiftHours', Number(v))}
          />
        </Group>
        <MultiSelect
          label="Responders, in the order they take the shifts"
          data={people}
          value={draft.responderIds}
          onChange={(v) => set('responderIds', v)}
          searchable
        />
        <Problem error={mutation.error} title="Rotation not saved" />
        <Group>
          <Button type="submit" loading={mutation.isPending}>
            {rotation ? 'Save rotation' : 'Create rotation'}
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The rotations the viewer may see, with edit and end where `can` allows. */
function RotationsCard({ responders }: { responders: Responder[] }) {
  const rotations = useRotations();
  const remove = useDeleteRotation();
  const [editing, setEditing] = useState<Rotation | 'new' | null>(null);
  const createFor = rotations.data?.can.createFor ?? [];
  const nameOf = new Map(responders.map((r) => [r.id, r.name]));
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Duty rotations
        </Title>
        {createFor.length > 0 ? (
          <Button size="xs" onClick={() => setEditing('new')}>
            New rotation
          </Button>
        ) : null}
      </Group>
      <Problem error={rotations.error} />
      <Table.ScrollContainer minWidth={640}>
        <Table data-testid="rotations">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Party</Table.Th>
              <Table.Th>Rotation</Table.Th>
              <Table.Th>Shifts</Table.Th>
              <Table.Th>People, in turn</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(rotations.data?.items ?? []).map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.party}</Table.Td>
                <Table.Td>{r.name}</Table.Td>
                <Table.Td>
                  from {r.startsOn}, {r.shiftStart} ({r.timeZone}), {r.shiftHours} h every {r.shiftDays}{' '}
                  day(s)
                </Table.Td>
                <Table.Td>{r.responderIds.map((id) => nameOf.get(id) ?? 'someone').join(' → ')}</Table.Td>
                <Table.Td>
                  <Group gap="xs">
                    {r.can.edit ? (
                      <Button
                        size="xs"
                        variant="default"
                        onClick={() => setEditing(r)}
                        aria-label={`Edit rotation ${r.name}`}
                      >
                        Edit
                      </Button>
                    ) : null}
                    {r.can.delete ? (
                      <ConfirmAction
                        label="End"
                        title={`End the rotation “${r.name}”?`}
                        consequence={`Its shifts disappear from ${r.party}'s duty roster and calendar feeds; ${r.responderIds.length} people stop being on call through it.`}
                        confirmLabel="End rotation"
                        danger
                        buttonProps={{
                          size: 'xs',
                          variant: 'default',
                          'aria-label': `End rotation ${r.name}`,
                        }}
                        onConfirm={() => remove.mutateAsync(r)}
                      />
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? 'New duty rotation' : `Edit ${editing?.name ?? ''}`}
        size="xl"
      >
        {editing !== null ? (
          <RotationForm
            rotation={editing === 'new' ? null : editing}
            parties={createFor}
            responders={responders}
            onDone={() => setEditing(null)}
          />
        ) : null}
      </Modal>
    </Card>
  );
}
