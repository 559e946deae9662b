// My notifications: what was addressed to me (newest first, the unread marked), read one by one or
// all at once, live as events arrive; and what I choose to get, per kind, in the app and by e-mail.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { InboxItem, NotificationSettings } from '@vytis/contracts';
import { type FormEvent, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client.ts';
import {
  useMarkRead,
  useNotificationSettings,
  useNotifications,
  useSaveNotificationSettings,
} from '../api/notifications.ts';
import { LoadMore } from '../components/LoadMore.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

export function NotificationsPage() {
  return (
    <Stack>
      <Title order={1} size="h2">
        Notifications
      </Title>
      <NotificationList />
      <NotificationSettingsCard />
    </Stack>
  );
}

function NotificationList() {
  const [show, setShow] = useState<'all' | 'unread'>('all');
  const list = useNotifications(show === 'unread');
  const markRead = useMarkRead();
  const unread = list.data?.pages[0]?.unreadCount ?? 0;
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Stack component="section" aria-labelledby="inbox-title">
      <Group justify="space-between" wrap="wrap">
        <Title order={2} size="h4" id="inbox-title">
          {unread > 0 ? `${unread} unread` : 'All read'}
        </Title>
        <Group wrap="wrap">
          <SegmentedControl
            aria-label="Which notifications"
            value={show}
            onChange={(value) => setShow(value as 'all' | 'unread')}
            data={[
              { value: 'all', label: 'All' },
              { value: 'unread', label: 'Unread' },
            ]}
          />
          <Button
            variant="light"
            disabled={unread === 0}
            loading={markRead.isPending}
            onClick={() => markRead.mutate({ all: true })}
          >
            Mark all read
          </Button>
        </Group>
      </Group>
      <Problem error={markRead.error} title="Could not mark read" />
      {list.isPending ? (
        <Loading label="Loading notifications" />
      ) : list.error ? (
        <Problem error={list.error} title="Could not load notifications" />
      ) : items.length === 0 ? (
        <Text c="dimmed">
          {show === 'unread'
            ? 'Nothing unread.'
            : 'Nothing yet. Votes, releases, acceptances, decisions, clocks, tasks and passes addressed to you show here.'}
        </Text>
      ) : (
        <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} data-testid="notifications">
          {items.map((item) => (
            <NotificationRow key={item.id} item={item} onRead={() => markRead.mutate({ ids: [item.id] })} />
          ))}
        </Stack>
      )}
      <LoadMore list={list} label="Older notifications" />
    </Stack>
  );
}

function NotificationRow({ item, onRead }: { item: InboxItem; onRead: () => void }) {
  return (
    <Paper
      component="li"
      withBorder
      p="sm"
      data-unread={!item.read || undefined}
      style={
        item.read
          ? undefined
          : {
              borderLeft: '4px solid var(--mantine-color-indigo-filled)',
              background: 'var(--mantine-color-indigo-light)',
            }
      }
    >
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Stack gap={2} style={{ flex: '1 1 20rem', minWidth: 0 }}>
          <Group gap="xs" wrap="wrap">
            {!item.read && (
              <Badge size="sm" variant="filled" color="indigo">
                Unread
              </Badge>
            )}
            {item.exercise && (
              <Badge size="sm" variant="outline" color="grape">
                Exercise
              </Badge>
            )}
            <Anchor
              component={Link}
              to={item.href}
              fw={item.read ? 400 : 700}
              style={{ overflowWrap: 'anywhere' }}
              onClick={() => {
                if (!item.read) onRead();
              }}
            >
              {item.title}
            </Anchor>
          </Group>
          <Text size="sm" c="dimmed">
            <Time at={item.at} />
          </Text>
        </Stack>
        {!item.read && (
          <Button size="xs" variant="default" onClick={onRead} aria-label={`Mark read: ${item.title}`}>
            Mark read
          </Button>
        )}
      </Group>
    </Paper>
  );
}

type Choices = NotificationSettings['kinds'];

function NotificationSettingsCard() {
  const settings = useNotificationSettings();
  const save = useSaveNotificationSettings();
  const [email, setEmail] = useState('');
  const [kinds, setKinds] = useState<Choices>([]);
  const [saved, setSaved] = useState(false);
  const loaded = settings.data;
  useEffect(() => {
    if (!loaded) return;
    setEmail(loaded.email ?? '');
    setKinds(loaded.kinds);
  }, [loaded]);

  const choose = (kind: string, channel: 'inApp' | 'email', on: boolean) => {
    setSaved(false);
    setKinds((all) => all.map((k) => (k.kind === kind ? { ...k, [channel]: on } : k)));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate(
      {
        email: email.trim() === '' ? null : email.trim(),
        kinds: kinds.map(({ kind, inApp, email: byMail }) => ({ kind, inApp, email: byMail })),
      },
      { onSuccess: () => setSaved(true) },
    );
  };
  const emailError = save.error instanceof ApiError ? save.error.forField('email') : undefined;

  return (
    <Card withBorder component="section" aria-labelledby="notification-settings-title">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={2} size="h4" id="notification-settings-title">
            What you get
          </Title>
          {settings.isPending ? (
            <Loading label="Loading your choices" />
          ) : settings.error ? (
            <Problem error={settings.error} title="Could not load your choices" />
          ) : (
            <>
              {!settings.data.mailConfigured && (
                <Alert color="gray">
                  This node sends no e-mail (no SMTP server is configured): your e-mail choices apply once it
                  does.
                </Alert>
              )}
              <TextInput
                label="E-mail address"
                description="Mails say only what happened and link here; the details stay in Vytis."
                type="email"
                autoComplete="email"
                value={email}
                onChange={(e) => {
                  setSaved(false);
                  setEmail(e.currentTarget.value);
                }}
                error={
                  emailError &&
                  'Enter an e-mail address such as name@cert.example, or leave it empty for none.'
                }
                maw={420}
              />
              <Table.ScrollContainer minWidth={480}>
                <Table data-testid="notification-settings">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Kind</Table.Th>
                      <Table.Th>In the app</Table.Th>
                      <Table.Th>By e-mail</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {kinds.map((k) => (
                      <Table.Tr key={k.kind}>
                        <Table.Td>{k.label}</Table.Td>
                        <Table.Td>
                          <Switch
                            aria-label={`${k.label}: in the app`}
                            checked={k.inApp}
                            onChange={(e) => choose(k.kind, 'inApp', e.currentTarget.checked)}
                          />
                        </Table.Td>
                        <Table.Td>
                          <Switch
                            aria-label={`${k.label}: by e-mail`}
                            checked={k.email}
                            onChange={(e) => choose(k.kind, 'email', e.currentTarget.checked)}
                          />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              {save.error && !emailError && (
                <Problem error={save.error} title="Could not save your choices" />
              )}
              <Group>
                <Button type="submit" loading={save.isPending}>
                  Save choices
                </Button>
                {saved && (
                  <Text size="sm" role="status">
                    Saved.
                  </Text>
                )}
              </Group>
            </>
          )}
        </Stack>
      </form>
    </Card>
  );
}
