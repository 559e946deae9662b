import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  FileInput,
  Group,
  Image,
  List,
  Modal,
  Paper,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Deployment, Responder } from '@vytis/contracts';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api } from '../api/client.ts';
import { useAuth, useMe } from '../auth.tsx';
import { ExerciseBadge } from '../components/badges.tsx';
import { fmtTime, humanize } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';

/** The statuses in which the node issues passes (the host has accepted the team). */
export const PASS_STATUSES: Deployment['status'][] = ['accepted', 'en_route', 'remote', 'on_site'];

/**
 * Which of these deployments' members are the signed-in user (a responder their PoC linked to
 * them): each member of the user's own party is read once (`userId`), only for responder users.
 */
export function useOwnMembers(deployments: Deployment[]): {
  own: Set<string>;
  pending: boolean;
  error: Error | null;
} {
  const me = useMe();
  const { has } = useAuth();
  const ids = has('responder')
    ? [
        ...new Set(
          deployments.flatMap((d) => d.members.filter((m) => m.party === me.party).map((m) => m.responderId)),
        ),
      ]
    : [];
  const responders = useQueries({
    queries: ids.map((rid) => ({
      queryKey: ['responder', rid],
      queryFn: () => api<Responder>(`/responders/${rid}`),
      staleTime: 60_000,
    })),
  });
  return {
    own: new Set(responders.flatMap((r) => (r.data && r.data.userId === me.id ? [r.data.id] : []))),
    pending: responders.some((r) => r.isPending),
    error: responders.find((r) => r.error)?.error ?? null,
  };
}

interface Pass {
  pass: string;
  passId: string;
  keyId: string;
  expiresAt: string;
  qrSvg: string;
}

const MEMBER_COLOURS: Record<string, string> = {
  pending: 'yellow',
  released: 'teal',
  declined: 'red',
  replaced: 'gray',
};

export function DeploymentPage() {
  const { id = '' } = useParams();
  const me = useMe();
  const { has } = useAuth();
  const queryClient = useQueryClient();
  const deployment = useQuery({
    queryKey: ['deployment', id],
    queryFn: () => api<Deployment>(`/deployments/${id}`),
  });
  const { own } = useOwnMembers(deployment.data ? [deployment.data] : []);
  const [deciding, setDeciding] = useState<{ responderId: string; name: string } | null>(null);
  const [reason, setReason] = useState('');

  const update = (d: Deployment) => {
    queryClient.setQueryData(['deployment', id], d);
    void queryClient.invalidateQueries({ queryKey: ['request', d.requestId] });
  };
  const release = useMutation({
    mutationFn: (v: { responderId: string; decision: 'release' | 'decline'; reason?: string }) =>
      api<Deployment>(`/deployments/${id}/members/${v.responderId}/release`, {
        body: { decision: v.decision, ...(v.reason ? { reason: v.reason } : {}) },
      }),
    onSuccess: update,
  });
  const status = useMutation({
    mutationFn: (s: string) => api<Deployment>(`/deployments/${id}/status`, { body: { status: s } }),
    onSuccess: update,
  });

  if (deployment.isPending) return <Loading />;
  if (deployment.error)
    return <Problem error={deployment.error} title="This deployment cannot be shown" page />;
  const d = deployment.data;
  const host = me.party === d.hostParty && has('poc');
  const active = d.members.filter((m) => m.status !== 'replaced');
  const mayPass = (m: Deployment['members'][number]) =>
    has('coordinator', 'admin') ||
    (has('poc') && (me.party === m.party || me.party === d.hostParty)) ||
    own.has(m.responderId);

  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Deployment to {d.hostParty} · {humanize(d.mode)} · {fmtTime(d.window.from)} – {fmtTime(d.window.to)}
        </Text>
        <Group gap="sm">
          <Title order={1} size="h2">
            Team deployment
          </Title>
          <Badge size="lg" data-testid="deployment-status">
            {humanize(d.status)}
          </Badge>
          <ExerciseBadge exercise={d.exercise} />
        </Group>
        <Anchor component={Link} to={`/requests/${d.requestId}`} size="sm">
          The request
        </Anchor>
      </div>
      <Problem error={release.error ?? status.error} title="That did not work" />
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Members and their home states' release
        </Title>
        <Table data-testid="members">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Member</Table.Th>
              <Table.Th>Home</Table.Th>
              <Table.Th>Release</Table.Th>
              <Table.Th>Why on the team</Table.Th>
              <Table.Th>Action</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {d.members.map((m) => (
              <Table.Tr key={m.responderId} style={m.status === 'replaced' ? { opacity: 0.6 } : undefined}>
                <Table.Td>
                  {m.name ?? (
                    <Text
                      span
                      c="dimmed"
                      size="sm"
                      title="Shown to its home state, the host and coordinators"
                    >
                      a responder of {m.party}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{m.party}</Table.Td>
                <Table.Td>
                  <Badge color={MEMBER_COLOURS[m.status]} variant="light">
                    {m.status}
                  </Badge>
                  {m.decidedBy ? (
                    <Text size="xs" c="dimmed" className="wrap-anywhere">
                      {m.decidedBy}, {fmtTime(m.decidedAt)}
                      {m.decisionReason ? ` — ${m.decisionReason}` : ''}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  <List size="xs">
                    {m.reasons.map((r) => (
                      <List.Item key={r}>{r}</List.Item>
                    ))}
                  </List>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    {m.status === 'pending' && has('poc') && me.party === m.party ? (
                      <>
                        <Button
                          size="xs"
                          onClick={() => release.mutate({ responderId: m.responderId, decision: 'release' })}
                          aria-label={`Release ${m.name}`}
                        >
                          Release
                        </Button>
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => {
                            setReason('');
                            setDeciding({ responderId: m.responderId, name: m.name ?? m.party });
                          }}
                          aria-label={`Decline ${m.name}`}
                        >
                          Decline
                        </Button>
                      </>
                    ) : null}
                    {m.status === 'released' && PASS_STATUSES.includes(d.status) && mayPass(m) ? (
                      <Button
                        size="xs"
                        variant="light"
                        component={Link}
                        to={`/deployments/${d.id}/passes/${m.responderId}`}
                      >
                        {own.has(m.responderId) ? 'My pass' : 'Pass'}
                      </Button>
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Text size="sm" mt="xs" data-testid="release-by-party">
          {active.filter((m) => m.status === 'released').length} of {active.length} released —{' '}
          {[...new Set(active.map((m) => m.party))]
            .sort()
            .map((party) => {
              const theirs = active.filter((m) => m.party === party);
              const released = theirs.filter((m) => m.status === 'released').length;
              return `${party}: ${released === theirs.length ? 'all released' : `${released} of ${theirs.length} released`}`;
            })
            .join(' · ')}
        </Text>
      </Card>
      <Modal
        opened={deciding !== null}
        onClose={() => setDeciding(null)}
        title={`Decline ${deciding?.name ?? ''}`}
      >
        <Stack>
          <Textarea
            label="Reason"
            description="The team is solved again without this person"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
          <Button
            color="red"
            onClick={() => {
              if (deciding)
                release.mutate({ responderId: deciding.responderId, decision: 'decline', reason });
              setDeciding(null);
            }}
          >
            Decline and solve again
          </Button>
        </Stack>
      </Modal>
      <Acceptance d={d} host={host} onDone={update} />
      {d.acceptance && (has('coordinator') || host) && !['stood_down', 'cancelled'].includes(d.status) ? (
        <Card withBorder>
          <Title order={2} size="h4" mb="xs">
            Move the deployment along
          </Title>
          <Group>
            {(['en_route', 'remote', 'on_site', 'stood_down'] as const).map((s) => (
              <Button
                key={s}
                variant={d.status === s ? 'filled' : 'default'}
                onClick={() => status.mutate(s)}
                disabled={d.status === s}
              >
                {humanize(s)}
              </Button>
            ))}
          </Group>
        </Card>
      ) : null}
    </Stack>
  );
}

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function Acceptance({ d, host, onDone }: { d: Deployment; host: boolean; onDone: (d: Deployment) => void }) {
  const [personnelStatus, setPersonnelStatus] = useState(
    'Under the CRRT MoU, Art. 7: officials of the sending state',
  );
  const [access, setAccess] = useState('');
  const [hash, setHash] = useState('');
  const [note, setNote] = useState('');
  const accept = useMutation({
    mutationFn: () =>
      api<Deployment>(`/deployments/${d.id}/acceptance`, {
        body: { personnelStatus, access, liabilityAgreementSha256: hash, ...(note.trim() ? { note } : {}) },
      }),
    onSuccess: onDone,
  });
  if (d.acceptance) {
    return (
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Host acceptance
        </Title>
        <Text>
          Accepted by {d.acceptance.acceptedBy}, {fmtTime(d.acceptance.acceptedAt)}
        </Text>
        <Text size="sm" className="wrap-anywhere">
          Personnel status: {d.acceptance.personnelStatus}
        </Text>
        <Text size="sm" className="wrap-anywhere">
          Access: {d.acceptance.access}
        </Text>
        <Text size="sm">
          Liability agreement SHA-256: <Code>{d.acceptance.liabilityAgreementSha256}</Code>
        </Text>
      </Card>
    );
  }
  if (!host) {
    return (
      <Text c="dimmed" size="sm">
        The host ({d.hostParty}) accepts the team once every member is released.
      </Text>
    );
  }
  const err = (f: string) =>
    accept.error && 'forField' in accept.error
      ? (accept.error as { forField(f: string): string | undefined }).forField(`body/${f}`)
      : undefined;
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Accept the team on {d.hostParty}'s territory
      </Title>
      {d.status !== 'released' ? (
        <Alert color="yellow" mb="sm">
          Every member must be released by their home state first.
        </Alert>
      ) : null}
      <Stack>
        <Textarea
          label="Status of the personnel"
          required
          value={personnelStatus}
          onChange={(e) => setPersonnelStatus(e.currentTarget.value)}
          error={err('personnelStatus')}
        />
        <Textarea
          label="System and premises access granted"
          required
          value={access}
          onChange={(e) => setAccess(e.currentTarget.value)}
          error={err('access')}
        />
        <FileInput
          label="Signed liability agreement"
          description="Only its SHA-256 is recorded; the file stays with you"
          placeholder="Choose the signed PDF"
          onChange={(file) => {
            if (file) void sha256Hex(file).then(setHash);
          }}
          clearable
        />
        <TextInput
          label="SHA-256 of the liability agreement"
          value={hash}
          onChange={(e) => setHash(e.currentTarget.value.trim().toLowerCase())}
          error={err('liabilityAgreementSha256')}
          classNames={{ input: 'mono' }}
        />
        <TextInput label="Note" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        <Button
          w="fit-content"
          onClick={() => accept.mutate()}
          loading={accept.isPending}
          disabled={d.status !== 'released'}
        >
          Accept the team
        </Button>
        <Problem error={accept.error} title="Not accepted" />
      </Stack>
    </Card>
  );
}

export function PassPage() {
  const { id = '', responderId = '' } = useParams();
  const pass = useQuery({
    queryKey: ['pass', id, responderId],
    queryFn: () => api<Pass>(`/deployments/${id}/passes/${responderId}`),
  });
  const deployment = useQuery({
    queryKey: ['deployment', id],
    queryFn: () => api<Deployment>(`/deployments/${id}`),
  });
  const member = deployment.data?.members.find((m) => m.responderId === responderId);
  const { own } = useOwnMembers(deployment.data ? [deployment.data] : []);
  if (pass.isPending) return <Loading />;
  if (pass.error) return <Problem error={pass.error} title="No pass" page />;
  const p = pass.data;
  return (
    <Stack maw={720}>
      <Title order={1} size="h2">
        {own.has(responderId) ? 'Your responder pass' : 'Responder pass'}
        {member ? `: ${member.name} (${member.party})` : ''}
      </Title>
      <Text c="dimmed" size="sm">
        A credential signed by this node (EdDSA). The host verifies it offline with the node's public key.
      </Text>
      <Paper withBorder p="md" w="fit-content" bg="white">
        <Image
          src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(p.qrSvg)}`}
          alt={`QR code of the responder pass ${p.passId}`}
          w={300}
          h={300}
          data-testid="pass-qr"
        />
      </Paper>
      <Table>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th>Pass id</Table.Th>
            <Table.Td>
              <Code>{p.passId}</Code>
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Signing key</Table.Th>
            <Table.Td>
              <Code>{p.keyId}</Code>
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Valid until</Table.Th>
            <Table.Td>{fmtTime(p.expiresAt)}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <div>
        <Group justify="space-between">
          <Text fw={600}>The pass (compact JWS)</Text>
          <CopyButton value={p.pass}>
            {({ copied, copy }) => (
              <Button size="xs" variant="light" onClick={copy}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Code block className="wrap-anywhere" style={{ whiteSpace: 'pre-wrap' }} data-testid="pass-token">
          {p.pass}
        </Code>
        <Text size="sm" mt="xs">
          Verify offline: <Code>npx vytis pass verify TOKEN --key keys.json</Code> with the keys from{' '}
          <Anchor href="/api/v1/node/keys">/api/v1/node/keys</Anchor>.
        </Text>
      </div>
      <Anchor component={Link} to={`/deployments/${id}`}>
        Back to the deployment
      </Anchor>
    </Stack>
  );
}
