// MISP feeds pulled into cases: the feeds of the cases the viewer sees with their last run (counts
// and error), a form to add one (into a case, or a case it opens), "Pull now" with what the pull did,
// enabling and disabling the scheduled pull, and removing a feed (what it imported stays).
import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  Group,
  List,
  Modal,
  NumberInput,
  PasswordInput,
  Radio,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import {
  type Case,
  type MispFeed,
  type MispFeedRun,
  type NewMispFeed,
  TLPS,
  type Tlp,
} from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { usePickableCases } from '../api/cases.ts';
import { ApiError, errorText } from '../api/client.ts';
import {
  useAddMispFeed,
  useChangeMispFeed,
  useMispFeeds,
  usePullMispFeed,
  useRemoveMispFeed,
} from '../api/misp.ts';
import { fmtTime } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));

/** What a run did, said in a line. */
export const runSummary = (run: MispFeedRun) =>
  `${run.listed} event(s) listed: ${run.unchanged} unchanged, ${run.fetched} fetched, ${run.imported} imported, ` +
  `${run.failed} failed${run.left ? `, ${run.left} left for the next run` : ''}; ${run.attributesAdded} attributes ` +
  `and objects added, ${run.observablesAdded} observables added, ${run.rejected} refused`;

export function MispFeedsPage() {
  const feeds = useMispFeeds();
  const cases = usePickableCases();
  const caseTitles = new Map((cases.data?.items ?? []).map((c) => [c.id, c.title]));
  return (
    <Stack maw={1100}>
      <Title order={1} size="h2">
        MISP feeds
      </Title>
      <Text>
        A MISP feed is a directory of MISP events (a <Code>manifest.json</Code> and one file per event) that a
        MISP instance or a feed generator publishes. The node pulls each feed into a case on a schedule, as
        the person who added it: it fetches only the events that are new or changed since the last pull and
        imports them, re-importing none twice. Addresses on private networks are refused unless the node
        allows them.
      </Text>
      <AddFeed cases={cases.data?.items ?? []} />
      <Card withBorder component="section" aria-labelledby="misp-feeds-title">
        <Title order={2} size="h4" id="misp-feeds-title" mb="xs">
          Feeds
        </Title>
        <Problem error={feeds.error} title="The feeds cannot be shown" />
        {feeds.isPending ? <Loading label="Reading the feeds" /> : null}
        {feeds.data && feeds.data.length === 0 ? (
          <Text c="dimmed">No feed is pulled into a case you see.</Text>
        ) : null}
        {feeds.data?.length ? <FeedTable feeds={feeds.data} caseTitles={caseTitles} /> : null}
      </Card>
    </Stack>
  );
}

function AddFeed({ cases }: { cases: Case[] }) {
  const add = useAddMispFeed();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [into, setInto] = useState<'case' | 'new'>('case');
  const [caseId, setCaseId] = useState<string | null>(null);
  const [title, setTitle] = useState('');
  const [tlp, setTlp] = useState<string | null>('amber');
  const [headerName, setHeaderName] = useState('');
  const [headerValue, setHeaderValue] = useState('');
  const [interval, setIntervalMinutes] = useState<number | string>(60);
  const [added, setAdded] = useState<MispFeed | null>(null);
  const error = add.error instanceof ApiError ? add.error : null;
  const fieldError = (...fields: string[]) =>
    fields.map((f) => error?.forField(f)).find((m) => m !== undefined);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const feed: NewMispFeed = {
      name: name.trim(),
      url: url.trim(),
      intervalMinutes: typeof interval === 'number' ? interval : Number(interval),
      ...(into === 'case'
        ? caseId
          ? { caseId }
          : {}
        : { newCase: { title: title.trim(), tlp: (tlp ?? 'amber') as Tlp } }),
      ...(headerName.trim() || headerValue
        ? { header: { name: headerName.trim(), value: headerValue } }
        : {}),
    };
    add.mutate(feed, {
      onSuccess: (created) => {
        setAdded(created);
        setName('');
        setUrl('');
        setTitle('');
        setHeaderName('');
        setHeaderValue('');
      },
    });
  };

  return (
    <Card withBorder component="section" aria-labelledby="misp-feed-add-title">
      <Title order={2} size="h4" id="misp-feed-add-title" mb="xs">
        Add a feed
      </Title>
      <form onSubmit={submit}>
        <Stack>
          <Group align="flex-start" wrap="wrap">
            <TextInput
              label="Name"
              description="Letters, digits, dot, dash and underscore"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={fieldError('name')}
              w={260}
            />
            <TextInput
              label="Feed URL"
              description="The directory holding manifest.json"
              placeholder="https://misp.example/feeds/circl/"
              required
              value={url}
              onChange={(e) => setUrl(e.currentTarget.value)}
              error={fieldError('url')}
              style={{ flex: 1, minWidth: 320 }}
            />
          </Group>
          <Radio.Group label="Pull into" value={into} onChange={(v) => setInto(v === 'new' ? 'new' : 'case')}>
            <Group mt={4}>
              <Radio value="case" label="A case you work on" />
              <Radio value="new" label="A new case" />
            </Group>
          </Radio.Group>
          {into === 'case' ? (
            <Select
              label="Case"
              placeholder="Choose a case"
              data={cases.map((c) => ({ value: c.id, label: c.title }))}
              value={caseId}
              onChange={setCaseId}
              searchable
              required
              error={fieldError('caseId')}
              w={420}
            />
          ) : (
            <Group align="flex-start">
              <TextInput
                label="Title of the new case"
                required
                value={title}
                onChange={(e) => setTitle(e.currentTarget.value)}
                error={fieldError('newCase/title', 'newCase')}
                w={420}
              />
              <Select
                label="TLP of the new case"
                data={tlpOptions}
                value={tlp}
                onChange={setTlp}
                allowDeselect={false}
                error={fieldError('newCase/tlp')}
                w={220}
              />
            </Group>
          )}
          <Group align="flex-start" wrap="wrap">
            <TextInput
              label="Header sent with each request (optional)"
              placeholder="Authorization"
              value={headerName}
              onChange={(e) => setHeaderName(e.currentTarget.value)}
              error={fieldError('header/name', 'header')}
              w={300}
            />
            <PasswordInput
              label="Its value"
              description="Kept by the node and never shown again"
              value={headerValue}
              onChange={(e) => setHeaderValue(e.currentTarget.value)}
              error={fieldError('header/value')}
              w={320}
            />
            <NumberInput
              label="Pull every (minutes)"
              min={5}
              max={10080}
              value={interval}
              onChange={setIntervalMinutes}
              error={fieldError('intervalMinutes')}
              w={200}
            />
          </Group>
          {add.error ? (
            <Alert color="red" role="alert" title="The feed was not added">
              {errorText(add.error)}
            </Alert>
          ) : null}
          {added && !add.error ? (
            <Text role="status" size="sm" data-testid="misp-feed-added">
              Feed {added.name} added: pull it now below, or it is pulled with the node's next round.
            </Text>
          ) : null}
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add feed
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function FeedTable({ feeds, caseTitles }: { feeds: MispFeed[]; caseTitles: ReadonlyMap<string, string> }) {
  const pull = usePullMispFeed();
  const change = useChangeMispFeed();
  const [pulled, setPulled] = useState<{ feed: string; run: MispFeedRun } | null>(null);
  const [removing, setRemoving] = useState<MispFeed | null>(null);
  const pullNow = (feed: MispFeed) => {
    setPulled(null);
    pull.mutate(feed, { onSuccess: (run) => setPulled({ feed: feed.name, run }) });
  };
  return (
    <Stack>
      <Table.ScrollContainer minWidth={900}>
        <Table data-testid="misp-feeds" fz="sm" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Feed</Table.Th>
              <Table.Th>Into case</Table.Th>
              <Table.Th>Scheduled</Table.Th>
              <Table.Th>Last run</Table.Th>
              <Table.Th>Last error</Table.Th>
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {feeds.map((feed) => (
              <Table.Tr key={feed.id} data-feed={feed.name}>
                <Table.Td maw={280}>
                  <Text fw={500} size="sm">
                    {feed.name}
                  </Text>
                  <Text size="xs" ff="monospace" className="wrap-anywhere">
                    {feed.url}
                  </Text>
                  <Text size="xs" c="dimmed">
                    by {feed.owner}
                    {feed.header ? ` · sends ${feed.header}` : ''} · {feed.events} event(s) pulled
                  </Text>
                </Table.Td>
                <Table.Td className="wrap-anywhere" maw={220}>
                  <Anchor component={Link} to={`/cases/${feed.caseId}`}>
                    {caseTitles.get(feed.caseId) ?? 'the case'}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Switch
                    aria-label={`Pull ${feed.name} on schedule`}
                    label={`every ${feed.intervalMinutes} min`}
                    checked={feed.enabled}
                    disabled={!feed.can.change || change.isPending}
                    onChange={(e) => change.mutate({ feed, patch: { enabled: e.currentTarget.checked } })}
                  />
                  <Text size="xs" c="dimmed" mt={2}>
                    {feed.enabled ? `next ${fmtTime(feed.nextPullAt)}` : 'disabled'}
                  </Text>
                </Table.Td>
                <Table.Td maw={320} data-testid="misp-feed-last-run">
                  {feed.lastResult ? (
                    <>
                      <Text size="sm">
                        <Time at={feed.lastRunAt} /> ({feed.lastResult.trigger})
                      </Text>
                      <Text size="xs">{runSummary(feed.lastResult)}</Text>
                    </>
                  ) : (
                    <Text size="sm" c="dimmed">
                      Not pulled yet
                    </Text>
                  )}
                </Table.Td>
                <Table.Td maw={260} className="wrap-anywhere" data-testid="misp-feed-last-error">
                  {feed.lastError ? (
                    <Text size="sm" c="red">
                      {feed.lastError}
                    </Text>
                  ) : (
                    <Text size="sm" c="dimmed">
                      none
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    {feed.can.pull ? (
                      <Button
                        size="xs"
                        onClick={() => pullNow(feed)}
                        loading={pull.isPending && pull.variables?.id === feed.id}
                        disabled={pull.isPending}
                        aria-label={`Pull now: ${feed.name}`}
                      >
                        Pull now
                      </Button>
                    ) : null}
                    {feed.can.change ? (
                      <Button
                        size="xs"
                        variant="default"
                        onClick={() => setRemoving(feed)}
                        aria-label={`Remove ${feed.name}`}
                      >
                        Remove
                      </Button>
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Problem error={change.error} title="The feed was not changed" />
      <Problem error={pull.error} title="The feed was not pulled" />
      {pulled ? <PullResult feed={pulled.feed} run={pulled.run} /> : null}
      {removing ? <RemoveDialog feed={removing} onClose={() => setRemoving(null)} /> : null}
    </Stack>
  );
}

/** What "Pull now" did: the counts, why it stopped (if it did), and each event refused. */
function PullResult({ feed, run }: { feed: string; run: MispFeedRun }) {
  return (
    <Alert
      color={run.error || run.failed ? 'red' : 'green'}
      title={`Pulled ${feed} in ${run.durationMs} ms`}
      data-testid="misp-feed-pull-result"
    >
      <Text size="sm" role="status">
        {runSummary(run)}
      </Text>
      {run.error ? (
        <Text size="sm" mt={4}>
          Stopped: {run.error}
        </Text>
      ) : null}
      {run.failures.length ? (
        <List size="sm" mt={4}>
          {run.failures.map((f) => (
            <List.Item key={f.uuid} className="wrap-anywhere">
              <Code>{f.uuid}</Code>: {f.message}
            </List.Item>
          ))}
        </List>
      ) : null}
    </Alert>
  );
}

function RemoveDialog({ feed, onClose }: { feed: MispFeed; onClose: () => void }) {
  const remove = useRemoveMispFeed();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    remove.mutate(feed, { onSuccess: onClose });
  };
  return (
    <Modal opened onClose={onClose} title={`Stop pulling the feed “${feed.name}”?`} centered>
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm">
            The node stops pulling it. What it has imported stays in the case; adding the feed again would
            fetch its events once more and find them unchanged.
          </Text>
          {remove.error ? (
            <Alert color="red" role="alert" title="Not removed">
              {errorText(remove.error)}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose} data-autofocus>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={remove.isPending}>
              Remove feed
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
