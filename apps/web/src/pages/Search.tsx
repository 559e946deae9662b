import { Anchor, Badge, Button, Group, Paper, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { SEARCH_KINDS, type SearchHit, type SearchKind } from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSearch } from '../api/search.ts';
import { ExerciseBadge } from '../components/badges.tsx';
import { LoadMore } from '../components/LoadMore.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

const KIND_LABELS: Record<SearchKind, string> = {
  request: 'Requests',
  case: 'Cases',
  observable: 'Observables',
  task: 'Tasks',
  note: 'Notes',
  responder: 'Responders',
};

const KIND_OPTIONS = [
  { value: '', label: 'Everything' },
  ...SEARCH_KINDS.map((kind) => ({ value: kind, label: KIND_LABELS[kind] })),
];

/** Where a hit is shown in the app. */
function hrefOf(hit: SearchHit): string {
  switch (hit.kind) {
    case 'request':
      return `/requests/${hit.id}`;
    case 'case':
      return `/cases/${hit.id}`;
    case 'responder':
      return '/roster';
    default:
      return hit.caseId ? `/cases/${hit.caseId}` : '/cases';
  }
}

/** One search across what I may see; the query in the URL, so it can be shared and reopened. */
export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const kindParam = params.get('kind') ?? '';
  const kind = (SEARCH_KINDS as readonly string[]).includes(kindParam) ? (kindParam as SearchKind) : null;
  const [text, setText] = useState(q);
  const [shownQ, setShownQ] = useState(q);
  if (shownQ !== q) {
    setShownQ(q);
    setText(q);
  }
  const search = useSearch(q, kind);
  const go = (query: string, scope: SearchKind | null) => {
    const next = new URLSearchParams();
    if (query.trim()) next.set('q', query.trim());
    if (scope) next.set('kind', scope);
    setParams(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(text, kind);
  };
  const hits = search.data?.pages.flatMap((page) => page.items) ?? [];
  const groups = SEARCH_KINDS.map((k) => ({ kind: k, hits: hits.filter((hit) => hit.kind === k) })).filter(
    (group) => group.hits.length > 0,
  );
  return (
    <Stack>
      <Title order={1} size="h2">
        Search
      </Title>
      <form onSubmit={submit}>
        <Group align="flex-end">
          <TextInput
            label="Search for"
            description="Words, an id, or a value (an IP, a domain, a URL — defanged is fine)"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            maxLength={200}
            w={480}
          />
          <Select
            label="In"
            data={KIND_OPTIONS}
            value={kind ?? ''}
            onChange={(v) => go(text, v ? (v as SearchKind) : null)}
            allowDeselect={false}
            w={180}
          />
          <Button type="submit" disabled={!text.trim()}>
            Search
          </Button>
        </Group>
      </form>
      <Problem error={search.error} />
      {q && search.isPending ? <Loading /> : null}
      {q && search.data && hits.length === 0 ? <Text>Nothing you may see matches “{q}”.</Text> : null}
      {groups.map((group) => (
        <Stack key={group.kind} gap="xs" data-testid={`search-${group.kind}`}>
          <Title order={2} size="h4">
            {KIND_LABELS[group.kind]}
          </Title>
          {group.hits.map((hit) => (
            <Paper key={`${hit.kind}:${hit.id}`} withBorder p="xs">
              <Group gap="xs" wrap="wrap">
                <Anchor
                  component={Link}
                  to={hrefOf(hit)}
                  className="wrap-anywhere"
                  ff={hit.kind === 'observable' ? 'monospace' : undefined}
                >
                  {hit.title}
                </Anchor>
                {hit.match === 'exact' ? (
                  <Badge size="sm" variant="light" color="green">
                    exact match
                  </Badge>
                ) : null}
                <ExerciseBadge exercise={hit.exercise} />
              </Group>
              <Text size="sm" c="dimmed" className="wrap-anywhere">
                {hit.detail} · <Time at={hit.at} />
              </Text>
            </Paper>
          ))}
        </Stack>
      ))}
      <LoadMore list={search} label="More results" />
    </Stack>
  );
}
