import { Badge, Button, Card, Modal, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import type { AssistanceRequest, DeadlineKind } from '@vytis/contracts';
import { useState } from 'react';
import { useRequestAct } from '../../api/requests.ts';
import { Countdown } from '../../components/Countdown.tsx';
import { humanize, isoToLocalInput, localInputToIso, viewerZone } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

const NIS2_KINDS = ['nis2_early_warning', 'nis2_notification', 'nis2_final_report'];

/** The request's clocks; the requesting PoC records the entity's NIS2 filings (when `can.fileNis2`). */
export function RequestDeadlines({ r }: { r: AssistanceRequest }) {
  const action = useRequestAct(r);
  const canFile = r.can.fileNis2;
  const [filing, setFiling] = useState<{ kind: string; at: string } | null>(null);
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Clocks
      </Title>
      <Text size="xs" c="dimmed" mb="xs">
        In your zone, {viewerZone()}
      </Text>
      {r.deadlines.length === 0 ? (
        <Text c="dimmed">No clock runs yet.</Text>
      ) : (
        <Table data-testid="deadlines">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Clock</Table.Th>
              <Table.Th>Due</Table.Th>
              <Table.Th>Left</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {r.deadlines.map((d) => {
              const done = d.state === 'met' || d.state === 'cancelled';
              return (
                <Table.Tr key={d.kind}>
                  <Table.Td>{humanize(d.kind)}</Table.Td>
                  <Table.Td>
                    <Time at={d.dueAt} />
                  </Table.Td>
                  <Table.Td>
                    {done ? (
                      <Badge variant="light" color={d.late ? 'orange' : 'gray'}>
                        {d.state}
                        {d.late ? ' (late)' : ''}
                      </Badge>
                    ) : (
                      <Countdown dueAt={d.dueAt} />
                    )}
                    {NIS2_KINDS.includes(d.kind) && d.metAt ? (
                      <Text size="xs" c="dimmed">
                        filed <Time at={d.metAt} />
                      </Text>
                    ) : null}
                    {canFile && NIS2_KINDS.includes(d.kind) && !done ? (
                      <Button
                        size="compact-xs"
                        variant="light"
                        mt={4}
                        onClick={() => setFiling({ kind: d.kind, at: isoToLocalInput(new Date()) })}
                      >
                        Record filing
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Problem error={action.error} title="The filing was not recorded" />
      <Modal
        opened={filing !== null}
        onClose={() => setFiling(null)}
        title={`Filed: ${humanize(filing?.kind ?? '')}`}
      >
        <Stack>
          <TextInput
            type="datetime-local"
            label="When the entity filed it"
            description={`In your zone (${viewerZone()}); not when you record it`}
            value={filing?.at ?? ''}
            onChange={(e) => {
              const at = e.currentTarget.value;
              setFiling((old) => (old ? { ...old, at } : old));
            }}
          />
          <Button
            disabled={!filing?.at}
            onClick={() => {
              if (!filing) return;
              action.mutate({
                kind: 'fileNis2',
                deadline: filing.kind as DeadlineKind,
                filedAt: localInputToIso(filing.at) ?? '',
              });
              setFiling(null);
            }}
          >
            Record the filing
          </Button>
        </Stack>
      </Modal>
    </Card>
  );
}
