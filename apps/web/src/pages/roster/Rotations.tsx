import { Button, Card, Group, Modal, Table, Title } from '@mantine/core';
import type { Responder, Rotation } from '@vytis/contracts';
import { useState } from 'react';
import { useDeleteRotation, useRotations } from '../../api/roster.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Problem } from '../../components/Problem.tsx';
import { RotationForm } from './RotationForm.tsx';

/** The rotations the viewer may see, with edit and end where `can` allows. */
export function RotationsCard({ responders }: { responders: Responder[] }) {
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
