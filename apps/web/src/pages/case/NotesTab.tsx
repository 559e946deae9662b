import { Button, Card, Group, Select, Stack, Text, Textarea } from '@mantine/core';
import type { Note, Tlp } from '@vytis/contracts';
import { useState } from 'react';
import { useAddNote, useNoteRelabel, useNotes } from '../../api/cases.ts';
import { TlpBadge } from '../../components/badges.tsx';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Markdown } from '../../components/Markdown.tsx';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { fieldError, tlpOptions } from './shared.ts';

export function NotesTab({ caseId, canAdd }: { caseId: string; canAdd: boolean }) {
  const notes = useNotes(caseId);
  const [body, setBody] = useState('');
  const [tlp, setTlp] = useState<Tlp | null>(null);
  const add = useAddNote(caseId);
  return (
    <Stack>
      <Problem error={notes.error} />
      {notes.data?.items.map((n) => (
        <Card withBorder key={n.id} data-testid="note">
          <Group gap="xs" mb={4}>
            <TlpBadge tlp={n.tlp} />
            <Text size="xs" c="dimmed">
              {n.createdBy} ({n.originParty}
              {n.mirroredFrom ? `, from ${n.mirroredFrom}'s node` : ''}), <Time at={n.createdAt} />
            </Text>
          </Group>
          <Markdown>{n.body}</Markdown>
          {n.can.relabel || n.can.relax ? <NoteRelabel caseId={caseId} note={n} /> : null}
        </Card>
      ))}
      {canAdd ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate({ body, ...(tlp ? { tlp } : {}) }, { onSuccess: () => setBody('') });
          }}
        >
          <Stack gap="xs">
            <Textarea
              label="New note"
              description="Markdown; raw HTML is shown as text, links only http(s)"
              autosize
              minRows={3}
              value={body}
              onChange={(e) => setBody(e.currentTarget.value)}
              error={fieldError(add.error, 'body')}
            />
            <Group align="flex-end">
              <Select
                label="TLP (default: the case's)"
                data={tlpOptions}
                value={tlp}
                onChange={(v) => setTlp(v as Tlp | null)}
                clearable
                w={220}
              />
              <Button type="submit" disabled={!body.trim()} loading={add.isPending}>
                Add note
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
    </Stack>
  );
}

/** Narrows (or, for its own party, relaxes) a note's label, confirmed with a reason. */
function NoteRelabel({ caseId, note }: { caseId: string; note: Note }) {
  const [tlp, setTlp] = useState<Tlp>(note.tlp);
  const relabel = useNoteRelabel(caseId);
  return (
    <Group gap="xs" mt="xs" align="flex-end">
      <Select
        label="Note label"
        size="xs"
        w={200}
        data={tlpOptions}
        value={tlp}
        onChange={(v) => v && setTlp(v as Tlp)}
      />
      <ConfirmAction
        label="Relabel note"
        title={`Relabel this note TLP:${tlp.toUpperCase()}?`}
        consequence={`The note goes from TLP:${note.tlp.toUpperCase()} to TLP:${tlp.toUpperCase()}; who may read it follows the new label.`}
        reason="required"
        disabled={tlp === note.tlp}
        buttonProps={{ size: 'xs', variant: 'default' }}
        onConfirm={(reason) => relabel.mutateAsync({ note, tlp, reason })}
      />
    </Group>
  );
}
