import { Card, Code, FileInput, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import type { Deployment } from '@vytis/contracts';
import { useState } from 'react';
import { useAcceptTeam } from '../../api/deployments.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Time } from '../../components/Time.tsx';
import { acceptSentence } from './words.ts';

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The host's acceptance: as given, or the form for the host's PoC once the team is released. */
export function Acceptance({ d }: { d: Deployment }) {
  if (d.acceptance) {
    return (
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Host acceptance
        </Title>
        <Text>
          Accepted by {d.acceptance.acceptedBy}, <Time at={d.acceptance.acceptedAt} />
        </Text>
        <Text size="sm" className="wrap-anywhere">
          Personnel status: {d.acceptance.personnelStatus}
        </Text>
        <Text size="sm" className="wrap-anywhere">
          Access: {d.acceptance.access}
        </Text>
        <Text size="sm" className="wrap-anywhere">
          Liability agreement SHA-256: <Code>{d.acceptance.liabilityAgreementSha256}</Code>
        </Text>
      </Card>
    );
  }
  if (!d.can.accept) {
    return (
      <Text c="dimmed" size="sm">
        The host ({d.hostParty}) accepts the team once every member is released.
      </Text>
    );
  }
  return <AcceptanceForm d={d} />;
}

function AcceptanceForm({ d }: { d: Deployment }) {
  const [personnelStatus, setPersonnelStatus] = useState(
    'Under the CRRT MoU, Art. 7: officials of the sending state',
  );
  const [access, setAccess] = useState('');
  const [hash, setHash] = useState('');
  const [note, setNote] = useState('');
  const accept = useAcceptTeam(d.id);
  const err = (f: string) =>
    accept.error && 'forField' in accept.error
      ? (accept.error as { forField(f: string): string | undefined }).forField(`body/${f}`)
      : undefined;
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Accept the team on {d.hostParty}'s territory
      </Title>
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
        <div>
          <ConfirmAction
            label="Accept the team"
            title={`Accept the team on ${d.hostParty}'s territory?`}
            consequence={acceptSentence(d)}
            onConfirm={() =>
              accept.mutateAsync({
                personnelStatus,
                access,
                liabilityAgreementSha256: hash,
                ...(note.trim() ? { note } : {}),
              })
            }
          />
        </div>
      </Stack>
    </Card>
  );
}
