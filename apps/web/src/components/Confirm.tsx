import { Button, type ButtonProps, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { type ReactNode, useState } from 'react';
import { errorText } from '../api/client.ts';

export interface ConfirmActionProps {
  /** The button's text, e.g. "Withdraw". */
  label: string;
  /** The dialog's title as a question, e.g. "Withdraw this request?". */
  title: string;
  /** What will happen and to whom, in a sentence or two. */
  consequence: ReactNode;
  /** The confirming button's text; defaults to `label`. */
  confirmLabel?: string;
  /**
   * Whether the act asks for a reason: `required` (the law or the framework wants one),
   * `optional`, or none. The reason goes to the server and so into the timeline and audit log.
   */
  reason?: 'required' | 'optional';
  reasonLabel?: string;
  /** Red for acts that end or refuse something. */
  danger?: boolean;
  disabled?: boolean;
  buttonProps?: ButtonProps & { 'aria-label'?: string; 'data-testid'?: string };
  /** Does the act; a thrown error is shown in the dialog, which stays open so nothing is lost. */
  onConfirm: (reason: string | undefined) => Promise<unknown>;
}

/**
 * A serious act behind a confirmation that says what will happen, with a reason where one is
 * wanted: submit, withdraw, vote, release and decline, acceptance, stand-down, close, relabel,
 * pass revocation. The dialog is the one place the act happens, so a slip of the mouse does nothing.
 */
export function ConfirmAction({
  label,
  title,
  consequence,
  confirmLabel,
  reason,
  reasonLabel = 'Reason',
  danger = false,
  disabled = false,
  buttonProps,
  onConfirm,
}: ConfirmActionProps) {
  const [opened, setOpened] = useState(false);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const trimmed = text.trim();
  const missingReason = reason === 'required' && trimmed === '';

  const close = () => {
    if (busy) return;
    setOpened(false);
    setError(null);
  };
  const confirm = async () => {
    if (missingReason) {
      setError(
        new Error(`${reasonLabel} is required: say why, it is recorded in the timeline and audit log.`),
      );
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(trimmed === '' ? undefined : trimmed);
      setOpened(false);
      setText('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Button
        color={danger ? 'red' : undefined}
        variant={danger ? 'light' : undefined}
        disabled={disabled}
        {...buttonProps}
        onClick={() => setOpened(true)}
      >
        {label}
      </Button>
      <Modal opened={opened} onClose={close} title={title} closeOnClickOutside={!busy}>
        <Stack>
          <Text size="sm">{consequence}</Text>
          {reason ? (
            <Textarea
              label={reasonLabel}
              description="Recorded in the timeline and the audit log."
              required={reason === 'required'}
              autosize
              minRows={2}
              maxLength={2000}
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              error={error && missingReason ? errorText(error) : undefined}
              data-autofocus
            />
          ) : null}
          {error && !(missingReason && reason) ? (
            <Text size="sm" c="red" role="alert">
              {errorText(error)}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button
              color={danger ? 'red' : undefined}
              loading={busy}
              onClick={() => void confirm()}
              data-testid="confirm-action"
            >
              {confirmLabel ?? label}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
