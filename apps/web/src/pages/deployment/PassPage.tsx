import {
  Anchor,
  Button,
  Code,
  CopyButton,
  Group,
  Image,
  Paper,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useDeployment, usePass } from '../../api/deployments.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

/**
 * On paper the pass is what a host at the door holds: no navigation, no buttons, the QR code, whose
 * pass it is and where it holds, and how to check it — on one A4 or Letter page.
 */
const PRINT_CSS = `
@media print {
  @page { margin: 12mm; }
  .mantine-AppShell-header, .mantine-AppShell-navbar, .skip-link, [data-print="hide"] { display: none !important; }
  .mantine-AppShell-main { padding: 0 !important; min-height: 0 !important; }
  [data-print="pass"] { max-width: none !important; break-inside: avoid; gap: 8px !important; }
  [data-print="pass"] [data-testid="pass-token"] { font-size: 7pt; }
  body { background: white !important; color: black !important; }
}
`;

export function PassPage() {
  const { id = '', responderId = '' } = useParams();
  const pass = usePass(id, responderId);
  const deployment = useDeployment(id);
  const d = deployment.data;
  const member = d?.members.find((m) => m.responderId === responderId);
  if (pass.isPending) return <Loading />;
  if (pass.error) return <Problem error={pass.error} title="No pass" page />;
  const p = pass.data;
  const verifyUrl = `${window.location.origin}/passes/verify`;
  return (
    <Stack maw={720} data-print="pass">
      <style>{PRINT_CSS}</style>
      <Group justify="space-between" align="flex-start">
        <Title order={1} size="h2">
          {member?.you ? 'Your responder pass' : 'Responder pass'}
          {member ? `: ${member.name ?? 'a responder'} (${member.party})` : ''}
        </Title>
        <Button onClick={() => window.print()} data-print="hide">
          Print
        </Button>
      </Group>
      <Text c="dimmed" size="sm">
        A credential signed by this node (EdDSA). The host verifies it offline with the node's public key.
      </Text>
      <Paper withBorder p="md" w="fit-content" bg="white">
        <Image
          src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(p.qrSvg)}`}
          alt={`QR code of the responder pass ${p.passId}`}
          w={260}
          h={260}
          data-testid="pass-qr"
        />
      </Paper>
      <Table data-testid="pass-facts">
        <Table.Tbody>
          {member ? (
            <>
              <Table.Tr>
                <Table.Th scope="row">Name</Table.Th>
                <Table.Td>{member.name ?? '—'}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Home party</Table.Th>
                <Table.Td>{member.party}</Table.Td>
              </Table.Tr>
            </>
          ) : null}
          {d ? (
            <>
              <Table.Tr>
                <Table.Th scope="row">Host</Table.Th>
                <Table.Td>{d.hostParty}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Valid from</Table.Th>
                <Table.Td>
                  <Time at={d.window.from} />
                </Table.Td>
              </Table.Tr>
            </>
          ) : null}
          <Table.Tr>
            <Table.Th scope="row">Valid until</Table.Th>
            <Table.Td>
              <Time at={p.expiresAt} />
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row">Pass id</Table.Th>
            <Table.Td>
              <Code>{p.passId}</Code>
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row">Signing key</Table.Th>
            <Table.Td className="wrap-anywhere">
              <Code>{p.keyId}</Code>
            </Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <div>
        <Text fw={600}>How to verify</Text>
        <Text size="sm">
          Scan the QR code or paste the pass at <Anchor href="/passes/verify">{verifyUrl}</Anchor> (any
          account on this node), or offline:{' '}
          <Code>npx vytis pass verify TOKEN --node {window.location.origin}</Code>. It shows valid, revoked or
          expired.
        </Text>
      </div>
      <div>
        <Group justify="space-between" data-print="hide">
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
      </div>
      <Anchor component={Link} to={`/deployments/${id}`} data-print="hide">
        Back to the deployment
      </Anchor>
    </Stack>
  );
}
