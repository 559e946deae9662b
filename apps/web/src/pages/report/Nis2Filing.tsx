// "Mark submitted" for a NIS2 report: the entity files it with its CSIRT or authority itself, and
// says here when and with whom. That freezes the report and meets its clock.
import { Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import type { Nis2Submit, Report } from '@vytis/contracts';
import { useMemo, useState } from 'react';
import { errorText } from '../../api/client.ts';
import { fmtTime, isoToLocalInput, localInputToIso, viewerZone } from '../../components/format.ts';
import { isNis2, NIS2_NAMES } from './shared.tsx';

const zones = () => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
};

export function Nis2Filing({
  report,
  unsaved,
  onConfirm,
}: {
  report: Report;
  /** The form holds changes not saved yet: they are saved first. */
  unsaved: boolean;
  onConfirm: (body: Nis2Submit) => Promise<unknown>;
}) {
  const [opened, setOpened] = useState(false);
  const [filedAt, setFiledAt] = useState('');
  const [submittedTo, setSubmittedTo] = useState('');
  const [timeZone, setTimeZone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const timeZones = useMemo(zones, []);
  const name = isNis2(report.kind) ? NIS2_NAMES[report.kind] : report.title;
  const notification = report.kind === 'nis2_notification';
  const iso = localInputToIso(filedAt);
  const missing = !iso ? 'When it was filed' : !submittedTo.trim() ? 'With whom it was filed' : null;

  const open = () => {
    setFiledAt(isoToLocalInput(new Date()));
    setError(null);
    setOpened(true);
  };
  const close = () => {
    if (!busy) setOpened(false);
  };
  const confirm = async () => {
    if (missing || !iso) {
      setError(new Error(`${missing} is required.`));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm({
        filedAt: iso,
        submittedTo: submittedTo.trim(),
        ...(notification && timeZone ? { timeZone } : {}),
      });
      setOpened(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Button onClick={open}>Mark submitted</Button>
      <Modal
        opened={opened}
        onClose={close}
        title={`Mark the ${name.toLowerCase()} submitted`}
        closeOnClickOutside={!busy}
      >
        <Stack>
          <Text size="sm">
            Say when the entity filed this report and with whom. The report is then frozen as it is
            {unsaved ? ' (your unsaved changes are saved first)' : ''}, signed by this node, and
            {report.clock
              ? ` meets its clock (due ${fmtTime(report.clock.dueAt)}).`
              : ' kept with the request.'}
          </Text>
          <TextInput
            type="datetime-local"
            label="Filed at"
            description={`In your time zone (${viewerZone()}); it is sent in UTC. Not in the future.`}
            required
            value={filedAt}
            onChange={(e) => setFiledAt(e.currentTarget.value)}
            data-autofocus
          />
          <TextInput
            label="Filed with"
            description="The CSIRT or competent authority, e.g. CERT-RO"
            required
            maxLength={200}
            value={submittedTo}
            onChange={(e) => setSubmittedTo(e.currentTarget.value)}
          />
          {notification ? (
            <Select
              label="Time zone of the final report's month"
              description="The final report is due a month after this notification; the month is counted in this zone. Leave it empty unless the authority counts in another zone."
              placeholder="Leave empty"
              searchable
              clearable
              limit={50}
              data={timeZones}
              value={timeZone}
              onChange={setTimeZone}
            />
          ) : null}
          {error ? (
            <Text size="sm" c="red" role="alert">
              {errorText(error)}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button loading={busy} onClick={() => void confirm()} data-testid="confirm-action">
              Mark submitted
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
