import { Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CalendarFeed } from '@vytis/contracts';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { fmtDate } from '../components/format.ts';
import { Problem } from '../components/Problem.tsx';

interface IssuedFeed {
  url: string;
  path: string;
  token: string;
  info: CalendarFeed;
}

/**
 * Secret subscription URLs for duty calendars, for calendar apps that cannot log in: created here,
 * shown once, listed without their secret, revoked with one click (the URL then answers 404).
 */
export function CalendarSubscriptions({ parties }: { parties: string[] }) {
  const queryClient = useQueryClient();
  const [party, setParty] = useState<string | null>(parties[0] ?? null);
  const [issued, setIssued] = useState<IssuedFeed | null>(null);
  const feeds = useQuery({
    queryKey: ['calendar-feeds'],
    queryFn: () => api<{ items: CalendarFeed[] }>('/calendar-feeds'),
  });
  const create = useMutation({
    mutationFn: (code: string) =>
      api<IssuedFeed>('/calendar-feeds', {
        method: 'POST',
        body: { kind: 'party', party: code, label: 'from the roster page' },
      }),
    onSuccess: (feed) => {
      setIssued(feed);
      void queryClient.invalidateQueries({ queryKey: ['calendar-feeds'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api<CalendarFeed>(`/calendar-feeds/${id}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['calendar-feeds'] }),
  });
  const live = (feeds.data?.items ?? []).filter((f) => !f.revokedAt);
  return (
    <Card withBorder data-testid="calendar-feeds">
      <Title order={2} size="h4" mb="xs">
        Calendar subscriptions
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        A secret URL your calendar app polls with no login. Anyone holding it sees that roster: keep it like a
        password, and revoke it when a device is lost.
      </Text>
      <Group align="flex-end" mb="sm">
        <Select
          label="Party roster"
          data={parties}
          value={party}
          onChange={setParty}
          w={160}
          allowDeselect={false}
        />
        <Button onClick={() => party && create.mutate(party)} loading={create.isPending} disabled={!party}>
          Create subscription URL
        </Button>
      </Group>
      <Problem error={create.error} title="No subscription URL was made" />
      {issued ? (
        <Stack gap={4} mb="sm">
          <TextInput
            label="Your new subscription URL (shown once: copy it into your calendar app now)"
            value={issued.url}
            readOnly
            onFocus={(e) => e.currentTarget.select()}
          />
        </Stack>
      ) : null}
      <Problem error={feeds.error ?? revoke.error} />
      {live.length === 0 ? (
        <Text size="sm" c="dimmed">
          You have no subscription URL.
        </Text>
      ) : (
        <Table>
          <Table.Tbody>
            {live.map((f) => (
              <Table.Tr key={f.id}>
                <Table.Td>
                  <Code>{f.kind === 'party' ? `${f.party} roster` : `responder ${f.responderId}`}</Code>
                </Table.Td>
                <Table.Td>{f.label ?? ''}</Table.Td>
                <Table.Td>
                  <Text size="sm">
                    made {fmtDate(f.createdAt)}
                    {f.lastUsedAt ? `, last fetched ${fmtDate(f.lastUsedAt)}` : ', not fetched yet'}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    onClick={() => revoke.mutate(f.id)}
                    loading={revoke.isPending && revoke.variables === f.id}
                  >
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
