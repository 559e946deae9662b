// Federation: this node (party, role, key id, URL: what peers' operators pin) and the peer nodes it
// trusts, each with the key it is trusted under, how far behind its feed this node is (lag) and the
// last error of its pulls. Admins add a peer (URL, party, pinned key id), remove one (after a
// confirmation) and pull one now; coordinators see the same page read-only.
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import type { FederationNode, FederationPeer } from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { ApiError, errorText } from '../api/client.ts';
import { useAddPeer, useFederationPeers, usePullPeer, useRemovePeer } from '../api/federation.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

export function FederationPage() {
  const peers = useFederationPeers();
  const manage = peers.data?.can.manage ?? false;
  return (
    <Stack maw={1200}>
      <Title order={1} size="h2">
        Federation
      </Title>
      <Text>
        Each party may run its own node. Nodes trust each other by the key id (RFC 7638 thumbprint) of their
        signing key, agreed between their operators out of band, and pull each other's change feed: what this
        node's party may see of the other's cases, as the labels allow.
      </Text>
      <Problem error={peers.error} title="The peers cannot be shown" />
      {peers.isPending ? <Loading label="Reading the peers" /> : null}
      {peers.data ? <ThisNode node={peers.data.node} /> : null}
      {manage && peers.data?.node.party ? <AddPeer /> : null}
      {peers.data ? (
        <Card withBorder component="section" aria-labelledby="federation-peers-title">
          <Title order={2} size="h4" id="federation-peers-title" mb="xs">
            Peers
          </Title>
          {peers.data.items.length === 0 ? (
            <Text c="dimmed">This node trusts no peer yet.</Text>
          ) : (
            <PeerTable peers={peers.data.items} manage={manage} />
          )}
        </Card>
      ) : null}
    </Stack>
  );
}

function ThisNode({ node }: { node: FederationNode }) {
  return (
    <Card
      withBorder
      component="section"
      aria-labelledby="federation-node-title"
      data-testid="federation-node"
    >
      <Title order={2} size="h4" id="federation-node-title" mb="xs">
        This node
      </Title>
      {node.party ? null : (
        <Alert color="yellow" mb="xs" title="Not federated">
          This node speaks for no party: set <Code>VYTIS_NODE_PARTY</Code> (and <Code>VYTIS_PUBLIC_URL</Code>)
          and restart it before adding peers.
        </Alert>
      )}
      <Table variant="vertical" fz="sm" withTableBorder={false}>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th w={140}>Party</Table.Th>
            <Table.Td data-testid="federation-node-party">{node.party ?? '—'}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Role</Table.Th>
            <Table.Td>{node.role}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Key id</Table.Th>
            <Table.Td>
              <Code className="wrap-anywhere" data-testid="federation-node-key">
                {node.keyId}
              </Code>
              <Text size="xs" c="dimmed">
                Give it to the operators of peer nodes: they pin it when they add this node.
              </Text>
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>URL</Table.Th>
            <Table.Td className="wrap-anywhere">{node.url ?? 'not set (VYTIS_PUBLIC_URL)'}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Card>
  );
}

function AddPeer() {
  const add = useAddPeer();
  const [url, setUrl] = useState('');
  const [party, setParty] = useState('');
  const [pin, setPin] = useState('');
  const [added, setAdded] = useState<FederationPeer | null>(null);
  const error = add.error instanceof ApiError ? add.error : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    add.mutate(
      { url: url.trim(), party: party.trim().toUpperCase(), pin: pin.trim() },
      {
        onSuccess: (peer) => {
          setAdded(peer);
          setUrl('');
          setParty('');
          setPin('');
        },
      },
    );
  };
  return (
    <Card withBorder component="section" aria-labelledby="federation-add-title">
      <Title order={2} size="h4" id="federation-add-title" mb="xs">
        Add a peer
      </Title>
      <form onSubmit={submit}>
        <Stack>
          <Group align="flex-start" wrap="wrap">
            <TextInput
              label="Node URL"
              description="Its descriptor is read at /federation/v1/node"
              placeholder="https://vytis.cert.example"
              required
              value={url}
              onChange={(e) => setUrl(e.currentTarget.value)}
              error={error?.forField('url')}
              style={{ flex: 1, minWidth: 300 }}
            />
            <TextInput
              label="Party"
              description="The party it speaks for"
              placeholder="EE"
              required
              value={party}
              onChange={(e) => setParty(e.currentTarget.value)}
              error={error?.forField('party')}
              w={140}
            />
            <TextInput
              label="Pinned key id"
              description="Agreed with its operators"
              required
              value={pin}
              onChange={(e) => setPin(e.currentTarget.value)}
              error={error?.forField('pin')}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              style={{ flex: 1, minWidth: 300 }}
            />
          </Group>
          {add.error ? (
            <Alert color="red" role="alert" title="The peer was not added">
              {add.error instanceof ApiError ? add.error.message : errorText(add.error)}
            </Alert>
          ) : null}
          {added && !add.error ? (
            <Text role="status" size="sm" data-testid="federation-peer-added">
              {added.party} added: trusted under the key {added.keyId}; it is pulled with the node's next
              round.
            </Text>
          ) : null}
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add peer
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function PeerTable({ peers, manage }: { peers: FederationPeer[]; manage: boolean }) {
  const pull = usePullPeer();
  const [removing, setRemoving] = useState<FederationPeer | null>(null);
  return (
    <Stack>
      <Table.ScrollContainer minWidth={900}>
        <Table data-testid="federation-peers" fz="sm" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Peer</Table.Th>
              <Table.Th>Key id</Table.Th>
              <Table.Th>Lag</Table.Th>
              <Table.Th>Last pull</Table.Th>
              <Table.Th>Last error</Table.Th>
              {manage ? (
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              ) : null}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {peers.map((peer) => (
              <Table.Tr key={peer.party} data-peer={peer.party}>
                <Table.Td maw={280}>
                  <Group gap={6}>
                    <Text fw={500} size="sm">
                      {peer.party}
                    </Text>
                    <Badge size="xs" variant="outline" color="dark">
                      {peer.status}
                    </Badge>
                    {peer.role === 'coordinator' ? (
                      <Badge size="xs" variant="outline">
                        coordinator
                      </Badge>
                    ) : null}
                  </Group>
                  <Text size="xs" ff="monospace" className="wrap-anywhere">
                    {peer.url}
                  </Text>
                </Table.Td>
                <Table.Td maw={200}>
                  <Code className="wrap-anywhere">{peer.keyId}</Code>
                </Table.Td>
                <Table.Td data-testid="federation-peer-lag">
                  {peer.lag === null ? (
                    <Text size="sm" c="dimmed">
                      not pulled yet
                    </Text>
                  ) : (
                    <>
                      <Text size="sm">{peer.lag === 0 ? 'up to date' : `${peer.lag} change(s) behind`}</Text>
                      <Text size="xs" c="dimmed">
                        applied {peer.cursor} of {peer.remoteHead}
                      </Text>
                    </>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">
                    <Time at={peer.lastPullAt} />
                  </Text>
                  <Text size="xs" c="dimmed">
                    last ok <Time at={peer.lastOkAt} /> · {peer.appliedTotal} applied, {peer.refusedTotal}{' '}
                    refused
                  </Text>
                </Table.Td>
                <Table.Td maw={280} className="wrap-anywhere" data-testid="federation-peer-error">
                  {peer.lastError ? (
                    <>
                      <Text size="sm" c="red">
                        {peer.lastError}
                      </Text>
                      <Text size="xs" c="dimmed">
                        <Time at={peer.lastErrorAt} />
                      </Text>
                    </>
                  ) : (
                    <Text size="sm" c="dimmed">
                      none
                    </Text>
                  )}
                </Table.Td>
                {manage ? (
                  <Table.Td>
                    {peer.status === 'active' ? (
                      <Group gap="xs" wrap="nowrap">
                        <Button
                          size="xs"
                          onClick={() => pull.mutate(peer)}
                          loading={pull.isPending && pull.variables?.party === peer.party}
                          disabled={pull.isPending}
                          aria-label={`Pull now: ${peer.party}`}
                        >
                          Pull now
                        </Button>
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => setRemoving(peer)}
                          aria-label={`Remove ${peer.party}`}
                        >
                          Remove
                        </Button>
                      </Group>
                    ) : null}
                  </Table.Td>
                ) : null}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Problem error={pull.error} title="The peer was not pulled" />
      {removing ? <RemoveDialog peer={removing} onClose={() => setRemoving(null)} /> : null}
    </Stack>
  );
}

function RemoveDialog({ peer, onClose }: { peer: FederationPeer; onClose: () => void }) {
  const remove = useRemovePeer();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    remove.mutate(peer, { onSuccess: onClose });
  };
  return (
    <Modal opened onClose={onClose} title={`Stop trusting ${peer.party}'s node?`} centered>
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm">
            Its calls are refused from now on and it is no longer pulled. What it sent stays here. Adding it
            again takes its URL and the key id its operators give you.
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
              Remove peer
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
