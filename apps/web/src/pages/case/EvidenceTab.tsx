import { Anchor, Button, Group, Modal, Select, Stack, Table, Text } from '@mantine/core';
import type { Tlp } from '@vytis/contracts';
import { useState } from 'react';
import { useEvidence, useEvidenceItem, useUploadEvidence } from '../../api/cases.ts';
import { TlpBadge } from '../../components/badges.tsx';
import { Loading, Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { tlpOptions } from './shared.ts';

export function EvidenceTab({ caseId, canAdd }: { caseId: string; canAdd: boolean }) {
  const list = useEvidence(caseId);
  const [file, setFile] = useState<File | null>(null);
  const [tlp, setTlp] = useState<Tlp | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const upload = useUploadEvidence(caseId);
  return (
    <Stack>
      {canAdd ? (
        <Group align="flex-end">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor="evidence-file">
              Evidence file
            </Text>
            <input
              id="evidence-file"
              type="file"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          <Select
            label="TLP (default: the case's)"
            data={tlpOptions}
            value={tlp}
            onChange={(v) => setTlp(v as Tlp | null)}
            clearable
            w={220}
          />
          <Button
            onClick={() => file && upload.mutate({ file, tlp: tlp ?? undefined })}
            disabled={!file}
            loading={upload.isPending}
          >
            Upload
          </Button>
        </Group>
      ) : null}
      <Problem error={upload.error ?? list.error} />
      <Table data-testid="evidence">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>File</Table.Th>
            <Table.Th>TLP</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>SHA-256</Table.Th>
            <Table.Th>Custodian</Table.Th>
            <Table.Th>Added</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.data?.items.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td className="wrap-anywhere">
                <Anchor component="button" onClick={() => setOpen(e.id)}>
                  {e.filename}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <TlpBadge tlp={e.tlp} />
              </Table.Td>
              <Table.Td>{e.size.toLocaleString('en-GB')} B</Table.Td>
              <Table.Td>
                <code title={e.sha256}>{e.sha256.slice(0, 16)}…</code>
              </Table.Td>
              <Table.Td>{e.custodian}</Table.Td>
              <Table.Td>
                <Time at={e.createdAt} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        title="Evidence and its chain of custody"
        size="xl"
      >
        {open ? <Custody caseId={caseId} id={open} /> : null}
      </Modal>
    </Stack>
  );
}

function Custody({ caseId, id }: { caseId: string; id: string }) {
  const item = useEvidenceItem(caseId, id);
  if (item.isPending) return <Loading />;
  if (item.error) return <Problem error={item.error} />;
  const e = item.data;
  return (
    <Stack>
      <Text className="wrap-anywhere">
        <b>{e.filename}</b> ({e.mediaType}, {e.size.toLocaleString('en-GB')} bytes) — SHA-256{' '}
        <code>{e.sha256}</code>
      </Text>
      <Anchor href={`/api/v1/cases/${caseId}/evidence/${id}/content`} download={e.filename}>
        Download (recorded in the chain of custody)
      </Anchor>
      <Table data-testid="custody">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Step</Table.Th>
            <Table.Th>By</Table.Th>
            <Table.Th>Custodian after</Table.Th>
            <Table.Th>Note</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {e.custody?.map((c) => (
            <Table.Tr key={`${c.at}:${c.action}:${c.actor}`}>
              <Table.Td>
                <Time at={c.at} />
              </Table.Td>
              <Table.Td>{c.action}</Table.Td>
              <Table.Td>
                {c.actor}
                {c.party ? ` (${c.party})` : ''}
              </Table.Td>
              <Table.Td>{c.custodian}</Table.Td>
              <Table.Td className="wrap-anywhere">{c.note}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
