import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  List,
  Modal,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AssistanceRequest, Case, Deployment, TeamProposal, VoteChoice } from '@vytis/contracts';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client.ts';
import { useRequest } from '../api/queries.ts';
import { useAuth, useMe } from '../auth.tsx';
import { ExerciseBadge, PapBadge, SeverityBadge, StatusBadge, TlpBadge } from '../components/badges.tsx';
import { Countdown } from '../components/Countdown.tsx';
import { fmtTime, humanize, isoToLocalInput, localInputToIso, viewerZone } from '../components/format.ts';
import { Markdown } from '../components/Markdown.tsx';
import { Loading, Problem } from '../components/Problem.tsx';

interface TimelineItem {
  at: string;
  kind: string;
  actor: string;
  party: string | null;
  fromStatus: string | null;
  toStatus: string | null;
  detail: Record<string, unknown>;
}

export function RequestPage() {
  const { id = '' } = useParams();
  const request = useRequest(id);
  if (request.isPending) return <Loading />;
  if (request.error) return <Problem error={request.error} title="This request cannot be shown" page />;
  return <RequestView r={request.data} />;
}

function useRequestAction(r: AssistanceRequest) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ path, body }: { path: string; body?: unknown }) =>
      api<AssistanceRequest>(`/requests/${r.id}/${path}`, {
        method: 'POST',
        body: body ?? {},
        ifMatch: r.version,
      }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['request', r.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['requests'] });
      void queryClient.invalidateQueries({ queryKey: ['timeline', r.id] });
    },
  });
}

function RequestView({ r }: { r: AssistanceRequest }) {
  const me = useMe();
  const { has } = useAuth();
  const action = useRequestAction(r);
  const own = r.party === me.party;
  const [report, setReport] = useState<string | null>(null);

  const fact = (label: string, value: React.ReactNode) => (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase">
        {label}
      </Text>
      <Text component="div" className="wrap-anywhere">
        {value}
      </Text>
    </div>
  );

  return (
    <Stack>
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div style={{ minWidth: 0, flex: 1 }}>
          <Text size="sm" c="dimmed">
            Request from {r.party} · filed {fmtTime(r.createdAt)} by {r.createdBy}
          </Text>
          <Title order={1} size="h2" className="wrap-anywhere" data-testid="request-title">
            {r.title}
          </Title>
          <Group gap="xs" mt={4}>
            <StatusBadge status={r.status} />
            <SeverityBadge severity={r.severity} />
            <TlpBadge tlp={r.tlp} />
            <PapBadge pap={r.pap} />
            <ExerciseBadge exercise={r.exercise} />
            <Badge variant="outline">Priority {r.priority.score}</Badge>
          </Group>
        </div>
        <Group gap="xs">
          {own && has('poc') && r.status === 'draft' ? (
            <>
              <Button component={Link} to={`/requests/${r.id}/edit`} variant="default">
                Edit draft
              </Button>
              <Button onClick={() => action.mutate({ path: 'submit' })} loading={action.isPending}>
                Submit to the force
              </Button>
            </>
          ) : null}
          {own &&
          has('poc') &&
          ['draft', 'submitted', 'voting', 'activated', 'partially_activated', 'assembling'].includes(
            r.status,
          ) ? (
            <Button variant="default" color="red" onClick={() => action.mutate({ path: 'withdraw' })}>
              Withdraw
            </Button>
          ) : null}
          {r.status === 'deployed' && (has('coordinator') || (own && has('poc'))) ? (
            <Button variant="default" onClick={() => action.mutate({ path: 'stand-down' })}>
              Stand down
            </Button>
          ) : null}
          {r.status === 'stood_down' && has('coordinator') ? (
            <Button variant="default" onClick={() => setReport('')}>
              Post-action report
            </Button>
          ) : null}
          {['reported', 'declined', 'ineligible', 'withdrawn'].includes(r.status) && has('coordinator') ? (
            <Button variant="default" onClick={() => action.mutate({ path: 'close' })}>
              Close
            </Button>
          ) : null}
        </Group>
      </Group>
      <Problem error={action.error} title="That did not work" />
      {r.status === 'draft' && r.missingForSubmission.length > 0 ? (
        <Alert color="orange" title="Not ready to submit" data-testid="missing-for-submission">
          <Text size="sm">
            The Cyber Solidarity Act's template still needs
            {own && has('poc') ? (
              <>
                {' '}
                (
                <Anchor component={Link} to={`/requests/${r.id}/edit`} size="sm">
                  edit the draft
                </Anchor>{' '}
                to fill them in)
              </>
            ) : null}
            :
          </Text>
          <List size="sm">
            {r.missingForSubmission.map((p) => (
              <List.Item key={p.field}>
                {p.field.replace(/^\/?body\//, '')}: {p.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      <Modal opened={report !== null} onClose={() => setReport(null)} title="Post-action report">
        <Stack>
          <Textarea
            label="Summary"
            autosize
            minRows={4}
            value={report ?? ''}
            onChange={(e) => setReport(e.currentTarget.value)}
          />
          <Button
            onClick={() => {
              action.mutate({ path: 'report', body: { summary: report } });
              setReport(null);
            }}
            disabled={!report?.trim()}
          >
            File the report
          </Button>
        </Stack>
      </Modal>

      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <Card withBorder>
              <Title order={2} size="h4" mb="sm">
                The request
              </Title>
              <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
                {fact(
                  'Affected entity',
                  `${r.affectedEntity.name} (${humanize(r.affectedEntity.sector)}${r.affectedEntity.essential ? ', essential' : ''})`,
                )}
                {fact('Incident class', <code>{r.incidentClass}</code>)}
                {fact('Mode', humanize(r.mode))}
                {fact('Location', `${r.location.city ? `${r.location.city}, ` : ''}${r.location.country}`)}
                {fact('Mission window', `${fmtTime(r.window.from)} – ${fmtTime(r.window.to)}`)}
                {fact('Aware since', fmtTime(r.awareAt))}
                {fact(
                  'Skills',
                  r.needs.map((n) => `${n.count}× ${n.skill} (level ≥ ${n.minLevel})`).join(', '),
                )}
                {fact('Languages', r.languages.join(', ') || '—')}
                {fact('Clearance', humanize(r.clearance))}
                {fact('Legal instrument', humanize(r.legalInstrument))}
                {fact('Likely impact', r.impactLevel ? humanize(r.impactLevel) : '—')}
                {fact(
                  'Cross-border risk',
                  r.crossBorder
                    ? `${r.crossBorder.risk}${r.crossBorder.countries?.length ? ` (${r.crossBorder.countries.join(', ')})` : ''}`
                    : '—',
                )}
              </SimpleGrid>
              {(
                [
                  ['Likely impact', r.impact],
                  ['Help needed', r.helpNeeded],
                  ['Measures already taken', r.measuresTaken],
                  ['Other help available', r.otherHelp],
                ] as const
              ).map(([label, text]) =>
                text ? (
                  <div key={label} style={{ marginTop: 12 }}>
                    <Text size="xs" c="dimmed" tt="uppercase">
                      {label}
                    </Text>
                    <Markdown>{text}</Markdown>
                  </div>
                ) : null,
              )}
              {r.report ? (
                <div style={{ marginTop: 12 }}>
                  <Text size="xs" c="dimmed" tt="uppercase">
                    Post-action report ({fmtTime(r.report.reportedAt)}, {r.report.reportedBy})
                  </Text>
                  <Markdown>{r.report.summary}</Markdown>
                </div>
              ) : null}
            </Card>
            <Council r={r} />
            <Team r={r} />
            <RequestCases r={r} />
            <RequestTimeline id={r.id} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <Deadlines r={r} canFile={own && has('poc')} />
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Eligibility
              </Title>
              {r.eligibility ? (
                <>
                  <Text fw={700} c={r.eligibility.eligible ? 'teal.9' : 'red.8'}>
                    {r.eligibility.eligible
                      ? `Eligible${r.eligibility.requires ? ` — the council decides by ${r.eligibility.requires}` : ''}`
                      : 'Not eligible'}
                  </Text>
                  <Text size="sm" c="dimmed">
                    {r.party} was {humanize(r.eligibility.partyStatus ?? 'no status')} on {r.eligibility.day}{' '}
                    (framework v{r.eligibility.frameworkVersion})
                  </Text>
                  <List size="sm" mt="xs">
                    {r.eligibility.reasons.map((reason) => (
                      <List.Item key={reason}>{reason}</List.Item>
                    ))}
                  </List>
                </>
              ) : (
                <Text c="dimmed">Decided when the request is submitted.</Text>
              )}
            </Card>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Priority {r.priority.score} / 100
              </Title>
              <Table>
                <Table.Tbody>
                  {r.priority.reasons.map((p) => (
                    <Table.Tr key={p.criterion}>
                      <Table.Td>{humanize(p.criterion)}</Table.Td>
                      <Table.Td fw={700}>{p.points}</Table.Td>
                      <Table.Td>{p.reason}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

const NIS2_KINDS = ['nis2_early_warning', 'nis2_notification', 'nis2_final_report'];

function Deadlines({ r, canFile }: { r: AssistanceRequest; canFile: boolean }) {
  const action = useRequestAction(r);
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
                  <Table.Td>{fmtTime(d.dueAt)}</Table.Td>
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
                        filed {fmtTime(d.metAt)}
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
                path: `deadlines/${filing.kind}/complete`,
                body: { filedAt: localInputToIso(filing.at) },
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

function Council({ r }: { r: AssistanceRequest }) {
  const me = useMe();
  const { has } = useAuth();
  const queryClient = useQueryClient();
  const mine = r.votes.find((v) => v.party === me.party);
  const [vote, setVote] = useState<VoteChoice>(mine?.vote ?? 'activate');
  const [comment, setComment] = useState('');
  const cast = useMutation({
    mutationFn: () =>
      api<AssistanceRequest>(`/requests/${r.id}/votes`, {
        body: { vote, ...(comment.trim() ? { comment } : {}) },
      }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['request', r.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['timeline', r.id] });
      setComment('');
    },
  });
  if (!r.council) return null;
  const canVote =
    has('council') && r.council.electorate.includes(me.party) && !r.decision && r.status === 'voting';
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Council ({r.council.rule})
        </Title>
        {!r.decision ? (
          <Text size="sm">
            Closes <Countdown dueAt={r.council.closesAt} />
          </Text>
        ) : null}
      </Group>
      {r.decision ? (
        <Alert
          color={r.decision.outcome === 'declined' ? 'red' : 'teal'}
          title={`Decision: ${humanize(r.decision.outcome)}`}
          mb="sm"
        >
          {r.decision.reason} — {fmtTime(r.decision.decidedAt)}
          {r.decision.closedEarly ? ' (the outcome was certain before the deadline)' : ''}
        </Alert>
      ) : null}
      <Table data-testid="votes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Party</Table.Th>
            <Table.Th>Vote</Table.Th>
            <Table.Th>Comment</Table.Th>
            <Table.Th>When</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {r.council.electorate.map((party) => {
            const v = r.votes.find((x) => x.party === party);
            return (
              <Table.Tr key={party}>
                <Table.Td>{party}</Table.Td>
                <Table.Td>
                  {v ? (
                    <Text fw={700} size="sm">
                      {humanize(v.vote)}
                    </Text>
                  ) : (
                    <Text c="dimmed" size="sm">
                      not yet
                    </Text>
                  )}
                </Table.Td>
                <Table.Td className="wrap-anywhere">{v?.comment ?? ''}</Table.Td>
                <Table.Td>{v ? `${fmtTime(v.castAt)} (${v.castBy})` : ''}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {canVote ? (
        <Stack mt="md" gap="xs">
          <Text fw={600} id="vote-label">
            {mine ? `Change ${me.party}'s vote` : `${me.party}'s vote`}
          </Text>
          <SegmentedControl
            aria-labelledby="vote-label"
            value={vote}
            onChange={(v) => setVote(v as VoteChoice)}
            data={['activate', 'partial', 'decline', 'abstain'].map((v) => ({
              value: v,
              label: humanize(v),
            }))}
          />
          <Textarea
            label="Comment"
            autosize
            minRows={1}
            value={comment}
            onChange={(e) => setComment(e.currentTarget.value)}
            maxLength={2000}
          />
          <Button w="fit-content" onClick={() => cast.mutate()} loading={cast.isPending}>
            Cast vote
          </Button>
          <Problem error={cast.error} title="The vote was not recorded" />
        </Stack>
      ) : null}
    </Card>
  );
}

function Team({ r }: { r: AssistanceRequest }) {
  const { has } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const coordinator = has('coordinator');
  const proposals = useQuery({
    queryKey: ['proposals', r.id],
    queryFn: () => api<{ items: TeamProposal[] }>(`/requests/${r.id}/team-proposals`),
    enabled:
      coordinator &&
      ['activated', 'partially_activated', 'assembling', 'deployed', 'stood_down'].includes(r.status),
  });
  // The request's deployments that the viewer may see (newest first): under the request's key, so
  // whatever refreshes the request (a live event, an adoption) refreshes them too.
  const deployments = useQuery({
    queryKey: ['request', r.id, 'deployments'],
    queryFn: () => api<{ items: Deployment[] }>('/deployments', { query: { requestId: r.id } }),
    enabled: !['draft', 'submitted', 'voting', 'declined', 'withdrawn', 'ineligible'].includes(r.status),
  });
  const [current, ...earlier] = deployments.data?.items ?? [];
  const propose = useMutation({
    mutationFn: () => api<TeamProposal>(`/requests/${r.id}/team-proposals`, { method: 'POST' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['proposals', r.id] }),
  });
  const adopt = useMutation({
    mutationFn: (pid: string) =>
      api<Deployment>(`/requests/${r.id}/team-proposals/${pid}/adopt`, { method: 'POST' }),
    onSuccess: (deployment) => {
      void queryClient.invalidateQueries({ queryKey: ['request', r.id] });
      navigate(`/deployments/${deployment.id}`);
    },
  });
  const latest = proposals.data?.items[0];
  const teamTime = ['activated', 'partially_activated', 'assembling', 'deployed', 'stood_down'].includes(
    r.status,
  );
  if (!current && !(coordinator && teamTime)) return null;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Team
        </Title>
        <Group gap="xs">
          {current ? (
            <Button component={Link} to={`/deployments/${current.id}`} variant="light">
              Open the deployment
            </Button>
          ) : null}
          {coordinator && ['activated', 'partially_activated', 'assembling'].includes(r.status) ? (
            <Button
              onClick={() => propose.mutate()}
              loading={propose.isPending}
              variant={latest ? 'default' : 'filled'}
            >
              {latest ? 'Solve again' : 'Propose a team'}
            </Button>
          ) : null}
        </Group>
      </Group>
      <Problem error={propose.error ?? adopt.error ?? proposals.error ?? deployments.error} />
      {current ? (
        <Text size="sm" data-testid="request-deployment">
          Deployment to {current.hostParty}: {humanize(current.status)} ·{' '}
          {current.members.filter((m) => m.status !== 'replaced').length} members · {humanize(current.mode)}
        </Text>
      ) : null}
      {earlier.length ? (
        <Text size="sm" c="dimmed">
          Earlier:{' '}
          {earlier.map((d, i) => (
            <span key={d.id}>
              {i ? ', ' : ''}
              <Anchor component={Link} to={`/deployments/${d.id}`}>
                {humanize(d.status)}, {fmtTime(d.createdAt)}
              </Anchor>
            </span>
          ))}
        </Text>
      ) : null}
      {latest ? (
        <ProposalView
          p={latest}
          onAdopt={
            latest.status === 'proposed' && latest.feasible ? () => adopt.mutate(latest.id) : undefined
          }
          adopting={adopt.isPending}
        />
      ) : null}
      {coordinator && !latest && !proposals.isPending ? <Text c="dimmed">No team proposed yet.</Text> : null}
    </Card>
  );
}

export function ProposalView({
  p,
  onAdopt,
  adopting,
}: {
  p: TeamProposal;
  onAdopt?: (() => void) | undefined;
  adopting?: boolean;
}) {
  return (
    <Stack gap="sm" data-testid="proposal">
      <Group gap="xs">
        <Badge color={p.feasible ? 'teal' : 'red'}>
          {p.feasible ? 'covers every need' : 'cannot cover every need'}
        </Badge>
        <Badge variant="outline">{p.status}</Badge>
        <Text size="sm" c="dimmed">
          {p.objective.size} people, all can start within {p.objective.startHours.toFixed(1)} h ·{' '}
          {p.stats.candidates} candidates · solved in {Math.round(p.stats.solveMs)} ms ·{' '}
          {fmtTime(p.createdAt)}
        </Text>
      </Group>
      {p.unmet.length ? (
        <Alert color="orange" title="Unmet needs">
          {p.unmet.map((u) => `${u.skill} (level ≥ ${u.minLevel}): ${u.covered} of ${u.needed}`).join('; ')}
        </Alert>
      ) : null}
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Member</Table.Th>
            <Table.Th>Party</Table.Th>
            <Table.Th>Covers</Table.Th>
            <Table.Th>Why</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {p.members.map((m) => (
            <Table.Tr key={m.responderId}>
              <Table.Td>{m.name}</Table.Td>
              <Table.Td>{m.party}</Table.Td>
              <Table.Td>{m.covers.join(', ')}</Table.Td>
              <Table.Td>
                <List size="xs">
                  {m.reasons.map((reason) => (
                    <List.Item key={reason}>{reason}</List.Item>
                  ))}
                </List>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {p.excluded.length ? (
        <div>
          <Text fw={600} size="sm">
            Nearest not chosen
          </Text>
          <List size="sm">
            {p.excluded.map((x) => (
              <List.Item key={x.responderId}>
                {x.name}: {x.reason}
              </List.Item>
            ))}
          </List>
        </div>
      ) : null}
      {onAdopt ? (
        <Button w="fit-content" onClick={onAdopt} loading={adopting ?? false}>
          Adopt this team
        </Button>
      ) : null}
    </Stack>
  );
}

function RequestCases({ r }: { r: AssistanceRequest }) {
  const { has } = useAuth();
  const navigate = useNavigate();
  const cases = useQuery({
    queryKey: ['cases', 'request', r.id],
    queryFn: () => api<{ items: Case[]; total: number }>('/cases', { query: { requestId: r.id, limit: 50 } }),
  });
  const open = useMutation({
    mutationFn: () =>
      api<Case>('/cases', {
        body: {
          title: r.title,
          incidentClass: r.incidentClass,
          severity: r.severity,
          tlp: r.tlp,
          pap: r.pap,
          requestId: r.id,
        },
      }),
    onSuccess: (c) => navigate(`/cases/${c.id}`),
  });
  const worker = has('analyst', 'responder', 'coordinator', 'poc');
  if (!cases.data?.items.length && !worker) return null;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Cases
        </Title>
        {worker && r.status !== 'draft' ? (
          <Button variant="default" onClick={() => open.mutate()} loading={open.isPending}>
            Open a case for it
          </Button>
        ) : null}
      </Group>
      <Problem error={cases.error ?? open.error} />
      {cases.data?.items.length ? (
        <List size="sm">
          {cases.data.items.map((c) => (
            <List.Item key={c.id}>
              <Anchor component={Link} to={`/cases/${c.id}`}>
                {c.title}
              </Anchor>{' '}
              ({c.ownerParty}, {humanize(c.status)}, {c.counts.observables} observables)
            </List.Item>
          ))}
        </List>
      ) : (
        <Text c="dimmed" size="sm">
          No case you may see works this request yet.
        </Text>
      )}
    </Card>
  );
}

function RequestTimeline({ id }: { id: string }) {
  const timeline = useQuery({
    queryKey: ['timeline', id],
    queryFn: () => api<{ items: TimelineItem[] }>(`/requests/${id}/timeline`),
  });
  const items = timeline.data?.items ?? [];
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        Timeline
      </Title>
      <Problem error={timeline.error} />
      <Timeline bulletSize={12} lineWidth={2} active={items.length}>
        {items.map((t, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: entries are append-only
          <Timeline.Item key={i} title={humanize(t.kind)}>
            <Text size="xs" c="dimmed">
              {fmtTime(t.at)} · {t.actor}
              {t.party ? ` (${t.party})` : ''}
              {t.toStatus ? ` · ${t.fromStatus ?? '—'} → ${t.toStatus}` : ''}
            </Text>
            {typeof t.detail.comment === 'string' ||
            typeof t.detail.vote === 'string' ||
            typeof t.detail.reason === 'string' ? (
              <Text size="sm" className="wrap-anywhere">
                {[t.detail.vote, t.detail.comment, t.detail.reason]
                  .filter((x) => typeof x === 'string')
                  .join(' — ')}
              </Text>
            ) : null}
          </Timeline.Item>
        ))}
      </Timeline>
      {items.length === 0 && !timeline.isPending ? <Text c="dimmed">Nothing yet.</Text> : null}
      <Anchor component={Link} to="/requests" size="sm" mt="sm">
        Back to the board
      </Anchor>
    </Card>
  );
}
