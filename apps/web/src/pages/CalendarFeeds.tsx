import { Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import type { IssuedCalendarFeed } from '@vytis/contracts';
import { useState } from 'react';
import { useCalendarFeeds, useCreatePartyCalendarFeed, useRevokeCalendarFeed } from '../api/calendar.ts';
import { fmtDate } from '../components/format.ts';
import { Problem } from '../components/Problem.tsx';

/**
 * Secret subscription URLs for duty calendars, for calendar apps that cannot log in: created here,
 * shown once, listed without their secret, revoked with one click (the URL then answers 404).
 */
export function CalendarSubscriptions({ parties }: { parties: string[] }) {
  const [party, setParty] = useState<string | null>(parties[0] ?? null);
  const [issued, setIssued] = useState<IssuedCalendarFeed | null>(null);
  const feeds = useCalendarFeeds();
  const create = useCreatePartyCalendarFeed();
  const revoke = useRevokeCalendarFeed();
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
        <Button
          onClick={() => party && create.mutate(party, { onSuccess: (feed) => setIssued(feed) })}
          loading={create.isPending}
          disabled={!party}
        >
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
