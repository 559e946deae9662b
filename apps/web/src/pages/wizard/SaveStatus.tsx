import { Alert, Anchor, Button, Group, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { errorText } from '../../api/client.ts';
import { fmtTime } from '../../components/format.ts';
import type { SaveStatus } from './autosave.ts';
import { fieldName } from './problems.ts';

const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const sameDay = (a: Date, b: Date) => a.toDateString() === b.toDateString();

/** "Saved at 14:02" (an earlier day in full), in the viewer's zone. */
export const savedAt = (at: Date) =>
  sameDay(at, new Date()) ? `Saved at ${clock.format(at)}` : `Saved ${fmtTime(at.toISOString())}`;

/** The save status in one short line, for the live region. */
export function statusLine(status: SaveStatus): string {
  switch (status.kind) {
    case 'new':
      return 'Not saved yet';
    case 'incomplete':
      return 'Not saved yet';
    case 'pending':
      return 'Unsaved changes';
    case 'saving':
      return 'Saving…';
    case 'saved':
      return savedAt(status.at);
    case 'invalid':
      return 'Not saved: check the fields marked in red';
    case 'stale':
      return status.error.status === 412
        ? 'Not saved: someone else changed this draft'
        : 'Not saved: this request is no longer a draft';
    case 'failed':
      return `Not saved: ${errorText(status.error)}`;
  }
}

/** The save status, announced politely as it changes, with what is missing to save at all. */
export function SaveStatusLine({ status }: { status: SaveStatus }) {
  const colour =
    status.kind === 'saved'
      ? 'teal'
      : ['invalid', 'stale', 'failed'].includes(status.kind)
        ? 'red'
        : 'dimmed';
  return (
    <Stack gap={0} align="flex-end">
      <Text size="sm" c={colour} role="status" aria-live="polite" data-testid="save-status">
        {statusLine(status)}
      </Text>
      {status.kind === 'incomplete' ? (
        <Text size="xs" c="dimmed" data-testid="save-needs">
          Still needed to save a draft: {status.fields.slice(0, 3).map(fieldName).join(', ')}
          {status.fields.length > 3 ? ` and ${status.fields.length - 3} more` : ''}.
        </Text>
      ) : null}
    </Stack>
  );
}

/**
 * Someone else saved the draft (412), or it is no longer a draft (409): what is typed here is kept
 * in the form, not saved over theirs; the person reloads theirs or, knowingly, saves over it.
 */
export function StaleAlert({
  status,
  draftId,
  onReload,
  onOverwrite,
}: {
  status: Extract<SaveStatus, { kind: 'stale' }>;
  draftId: string;
  onReload: () => void;
  onOverwrite: () => void;
}) {
  const edited = status.error.status === 412;
  return (
    <Alert
      color="red"
      role="alert"
      title={
        edited ? 'Not saved: someone else changed this draft' : 'Not saved: this request is no longer a draft'
      }
      data-testid="wizard-stale"
    >
      <Stack gap="xs" align="flex-start">
        <Text size="sm">
          {edited
            ? 'Someone saved this draft after you opened it. Your changes are still in the form and are not saved. Reload the draft to see their version (your unsaved changes are then dropped), or save yours over theirs.'
            : `${status.error.message}. Your changes are still in the form and are not saved.`}
        </Text>
        <Group>
          {edited ? (
            <>
              <Button size="xs" onClick={onReload}>
                Reload the draft
              </Button>
              <Button size="xs" variant="default" onClick={onOverwrite}>
                Save mine over theirs
              </Button>
            </>
          ) : null}
          <Anchor component={Link} to={`/requests/${draftId}`} size="sm">
            Back to the request
          </Anchor>
        </Group>
      </Stack>
    </Alert>
  );
}
