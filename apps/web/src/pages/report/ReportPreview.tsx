// A report as the node lays it out (the blocks the PDF and the Markdown file are made from), as
// plain React text: whatever an author typed, Markdown or markup included, shows literally.
import { Badge, Card, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import type { ReportBlock, ReportLayout, ReportSignature } from '@vytis/contracts';
import { TlpBadge } from '../../components/badges.tsx';
import { Time } from '../../components/Time.tsx';

const PRE = { whiteSpace: 'pre-wrap' } as const;

function Block({ block }: { block: ReportBlock }) {
  switch (block.type) {
    case 'heading':
      return (
        <Title order={4} size="h5" mt="sm" className="wrap-anywhere">
          {block.text}
        </Title>
      );
    case 'fields':
      return (
        <Table variant="vertical" layout="fixed" withTableBorder={false} fz="sm">
          <Table.Tbody>
            {block.rows.map((row, i) => (
              // Rows have no key of their own; their order is the layout's.
              // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list laid out once
              <Table.Tr key={i}>
                <Table.Th w="35%" className="wrap-anywhere">
                  {row.label}
                </Table.Th>
                <Table.Td className="wrap-anywhere" style={PRE}>
                  {row.value}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      );
    case 'table':
      return (
        <Stack gap={4}>
          {/* A wide table scrolls sideways in its region, which takes focus so the keyboard scrolls it. */}
          <section
            aria-label={`Table: ${block.columns.join(', ')}`}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
            tabIndex={0}
            style={{ overflowX: 'auto' }}
          >
            <Table striped withTableBorder fz="xs" miw={Math.min(120 * block.columns.length, 600)}>
              <Table.Thead>
                <Table.Tr>
                  {block.columns.map((c, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: columns may repeat a name
                    <Table.Th key={i}>{c}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {block.rows.map((row, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list laid out once
                  <Table.Tr key={i}>
                    {row.map((cell, j) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: cells by column
                      <Table.Td key={j} className="wrap-anywhere" style={PRE}>
                        {cell}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </section>
          {block.note ? (
            <Text size="xs" c="dimmed">
              {block.note}
            </Text>
          ) : null}
        </Stack>
      );
    case 'text':
      return (
        <div>
          <Text fw={700} size="sm">
            {block.title}
          </Text>
          {block.text ? (
            <Text size="sm" className="wrap-anywhere" style={PRE}>
              {block.text}
            </Text>
          ) : (
            <Text size="sm" c="dimmed" fs="italic">
              Not written yet.
            </Text>
          )}
        </div>
      );
  }
}

/** "LT's node", or "this node" when the node has no party. */
const nodeOf = (signature: ReportSignature) => (signature.party ? `${signature.party}'s node` : 'this node');

/** Who vouches for a submitted report: the node's key over the report's SHA-256. */
export function SignatureBlock({ signature }: { signature: ReportSignature }) {
  const row = (label: string, value: React.ReactNode, mono = false) => (
    <Table.Tr>
      <Table.Th w="30%">{label}</Table.Th>
      <Table.Td className={mono ? 'mono wrap-anywhere' : 'wrap-anywhere'}>{value}</Table.Td>
    </Table.Tr>
  );
  return (
    <Card withBorder data-testid="report-signature">
      <Title order={2} size="h4" mb={4}>
        Signature
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        Submitted and frozen: {nodeOf(signature)} signed the report's SHA-256 with its Ed25519 key. Anyone
        holding the node's public key can check the files against it.
      </Text>
      <Table variant="vertical" layout="fixed" fz="sm">
        <Table.Tbody>
          {row('Submitted', <Time at={signature.submittedAt} />)}
          {row('By', signature.submittedBy)}
          {row('SHA-256', signature.sha256, true)}
          {row('Key id', signature.keyId, true)}
          {row('Node', [signature.party, signature.nodeUrl].filter(Boolean).join(' · ') || '—')}
          {row('Signature', signature.signature, true)}
        </Table.Tbody>
      </Table>
    </Card>
  );
}

/** The report as laid out, its TLP label first. */
export function ReportPreview({ layout }: { layout: ReportLayout }) {
  return (
    <Paper withBorder p="md" data-testid="report-preview">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <span data-testid="preview-tlp">
            <TlpBadge tlp={layout.tlp} />
          </span>
          {layout.status === 'draft' ? (
            <Badge color="gray" variant="outline">
              Draft
            </Badge>
          ) : (
            <Badge color="teal" variant="light">
              Submitted
            </Badge>
          )}
        </Group>
        <div>
          <Title order={3} size="h4" className="wrap-anywhere">
            {layout.title}
          </Title>
          <Text size="sm" c="dimmed" className="wrap-anywhere">
            {layout.subtitle}
          </Text>
          <Text size="xs" c="dimmed">
            Prepared <Time at={layout.preparedAt} />
          </Text>
        </div>
        {layout.blocks.map((block, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the layout's blocks have no ids; their order is the report's
          <Block key={i} block={block} />
        ))}
        {layout.signature ? (
          <Text size="xs" c="dimmed" className="mono wrap-anywhere">
            Signed by {nodeOf(layout.signature)}, key {layout.signature.keyId}, SHA-256{' '}
            {layout.signature.sha256}
          </Text>
        ) : null}
      </Stack>
    </Paper>
  );
}
