import { Badge, List, Paper, Stack, Text, Title } from '@mantine/core';
import type { ForwardedAction } from '@vytis/contracts';
import { useParties } from '../api/queries.ts';
import { useMe } from '../auth.tsx';
import { fmtTime, humanize } from './format.ts';
import { Time } from './Time.tsx';

// Federation: a request or deployment kept by another party's node is a read-only copy here; what
// people do on it is sent to that node, which applies or refuses it. These say so in words.

/** What each kind of forwarded action is, as people say it. */
const ACTION_NOUNS: Record<string, string> = {
  vote: 'vote',
  transition: 'change of status',
  release: 'release decision',
  accept: 'acceptance of the team',
  'deployment-status': 'move of the deployment',
  'revoke-pass': 'pass revocation',
  carry: 'related change',
};

const STATE_COLOURS: Record<ForwardedAction['state'], string> = {
  pending: 'yellow',
  applied: 'teal',
  refused: 'red',
};

const STATE_WORDS: Record<ForwardedAction['state'], string> = {
  pending: 'waiting',
  applied: 'applied',
  refused: 'refused',
};

/** "RO's node" — the words every sentence here uses for the node that speaks for the copy. */
export const nodeOf = (party: string) => `${party}'s node`;

/** One forwarded action in a sentence: whose, what, and what the other node did with it. */
export function forwardedSentence(action: ForwardedAction, myName: string): string {
  const noun = ACTION_NOUNS[action.kind] ?? humanize(action.kind);
  const whose = action.by === myName ? 'Your' : `${action.by}'s`;
  const node = nodeOf(action.to);
  switch (action.state) {
    case 'pending':
      return `${whose} ${noun} was sent to ${node} — waiting for it`;
    case 'applied':
      return `${whose} ${noun} was applied by ${node}${action.outcome ? `: ${action.outcome}` : ''}`;
    case 'refused':
      return `${whose} ${noun} was refused by ${node}: ${action.outcome ?? 'no reason given'}`;
  }
}

/**
 * The notice at the top of a copy: where it comes from and that actions go there, then what this
 * node has sent about it (newest first), refreshed with the page. Nothing for this node's own.
 */
export function CopyNotice({
  origin,
  what,
  actions,
  forwarded,
}: {
  origin: string | null | undefined;
  /** "request" or "deployment" */
  what: string;
  /** The actions people take on this kind of object, e.g. "Votes and other actions". */
  actions: string;
  forwarded: ForwardedAction[] | undefined;
}) {
  const me = useMe();
  const parties = useParties();
  if (!origin) return null;
  const name = parties.data?.items.find((p) => p.code === origin)?.name;
  return (
    <Paper
      withBorder
      p="sm"
      component="section"
      aria-labelledby="copy-notice-title"
      data-testid="copy-notice"
      style={{ borderLeft: '4px solid var(--mantine-color-blue-7)' }}
    >
      <Title order={2} size="h5" id="copy-notice-title">
        Copy from {nodeOf(origin)}
      </Title>
      <Text size="sm">
        {name ?? origin} keeps this {what} on its own node; this node holds a read-only copy. {actions} you
        take here are sent to {nodeOf(origin)}, which applies them.
      </Text>
      <Stack gap={4} mt={forwarded?.length ? 'xs' : 0} aria-live="polite" data-testid="forwarded-actions">
        {forwarded?.length ? (
          <>
            <Text size="sm" fw={600}>
              Sent from this node
            </Text>
            <List size="sm" spacing={4}>
              {forwarded.map((action) => (
                <List.Item key={action.id} data-state={action.state}>
                  <Badge size="sm" variant="light" color={STATE_COLOURS[action.state]} mr={6}>
                    {STATE_WORDS[action.state]}
                  </Badge>
                  <Text span size="sm" className="wrap-anywhere">
                    {forwardedSentence(action, me.name)}
                  </Text>
                  <Text span size="xs" c="dimmed">
                    {' '}
                    · sent <Time at={action.at} />
                    {action.decidedAt ? `, answered ${fmtTime(action.decidedAt)}` : ''}
                  </Text>
                </List.Item>
              ))}
            </List>
          </>
        ) : null}
      </Stack>
    </Paper>
  );
}

/** The small tag a list puts by a copy: "from RO". */
export function CopyTag({ origin }: { origin: string | null | undefined }) {
  if (!origin) return null;
  return (
    <Badge
      size="sm"
      variant="outline"
      color="blue"
      title={`A copy from ${nodeOf(origin)}: actions on it are sent there`}
      data-testid="copy-tag"
    >
      from {origin}
    </Badge>
  );
}
