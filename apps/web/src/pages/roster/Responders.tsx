// The responders the viewer may see, filtered by party and skill, with adding, editing, leave and the
// link to each one's user where the server's `can` allows.
import { Badge, Button, Group, Modal, Select, Stack, Table, Text } from '@mantine/core';
import { type Responder, SKILLS } from '@vytis/contracts';
import { useState } from 'react';
import { useParties } from '../../api/queries.ts';
import { useLinkableUsers, useLinkResponderUser, useResponders } from '../../api/roster.ts';
import { humanize } from '../../components/format.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { LeaveEditor } from './LeaveEditor.tsx';
import { ResponderForm } from './ResponderForm.tsx';

export interface ResponderFilters {
  party: string | null;
  skill: string | null;
}

export function Responders({
  filters,
  onFilters,
}: {
  filters: ResponderFilters;
  onFilters: (filters: ResponderFilters) => void;
}) {
  const parties = useParties();
  const [editing, setEditing] = useState<Responder | 'new' | null>(null);
  const [leaveOf, setLeaveOf] = useState<string | null>(null);
  const responders = useResponders(filters.party, filters.skill);
  const items = responders.data?.pages.flatMap((p) => p.items) ?? [];
  // The parties whose roster the server says the viewer keeps.
  const createFor = responders.data?.pages[0]?.can.createFor ?? [];
  const leaveResponder = items.find((r) => r.id === leaveOf) ?? null;

  // Whoever may edit a responder links them to the user who is that person, so they find their
  // deployments and open their own pass.
  const usersParty = createFor.length === 1 ? createFor[0] : undefined;
  const users = useLinkableUsers(usersParty, createFor.length > 0);
  const userById = new Map((users.data?.items ?? []).map((u) => [u.id, u]));
  const linkedTo = new Map(items.flatMap((r) => (r.userId ? [[r.userId, r] as const] : [])));
  const link = useLinkResponderUser();
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

  // A fragment: these sit in the page's stack, spaced like its other sections.
  return (
    <>
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
          value={filters.party}
          onChange={(party) => onFilters({ ...filters, party })}
          clearable
          searchable
          w={220}
        />
        <Select
          label="Skill"
          placeholder="any"
          data={SKILLS.map((s) => ({ value: s, label: humanize(s) }))}
          value={filters.skill}
          onChange={(skill) => onFilters({ ...filters, skill })}
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
    </>
  );
}
