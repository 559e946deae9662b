import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  PasswordInput,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { ROLES, type Role, type User } from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { type AccountAct, useAccountAct, useManagedUsers } from '../api/accounts.ts';
import { errorText } from '../api/client.ts';
import { Loading, Problem } from '../components/Problem.tsx';

type Dialog = { kind: AccountAct['kind']; user: User } | null;

/** Users an admin (everyone) or a PoC (its party's) manages. What each may do comes from `can`. */
export function UsersPage() {
  const users = useManagedUsers();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (users.isPending) return <Loading label="Loading users" />;
  if (users.error) return <Problem error={users.error} title="The users cannot be shown" page />;

  const open = (kind: AccountAct['kind'], user: User) => {
    setNotice(null);
    setDialog({ kind, user });
  };
  return (
    <Stack>
      <Title order={1} size="h2">
        Users
      </Title>
      {notice ? (
        <Alert color="teal" role="status" withCloseButton onClose={() => setNotice(null)}>
          {notice}
        </Alert>
      ) : null}
      <Table striped highlightOnHover data-testid="users">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Party</Table.Th>
            <Table.Th scope="col">Roles</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.data.items.map((user) => (
            <Table.Tr key={user.id} data-testid={`user-${user.name}`}>
              <Table.Th scope="row">{user.name}</Table.Th>
              <Table.Td>{user.party}</Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {user.roles.map((role) => (
                    <Badge key={role} size="sm" variant="outline">
                      {role}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {user.disabledAt ? (
                    <Badge color="red" variant="light">
                      disabled
                    </Badge>
                  ) : (
                    <Badge color="teal" variant="light">
                      active
                    </Badge>
                  )}
                  {user.mfa ? (
                    <Badge color="indigo" variant="light">
                      2FA
                    </Badge>
                  ) : null}
                </Group>
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  {user.can.disable ? (
                    <ActButton label={`Disable ${user.name}`} onClick={() => open('disable', user)}>
                      Disable
                    </ActButton>
                  ) : null}
                  {user.can.enable ? (
                    <ActButton label={`Enable ${user.name}`} onClick={() => open('enable', user)}>
                      Enable
                    </ActButton>
                  ) : null}
                  {user.can.setRoles ? (
                    <ActButton label={`Roles of ${user.name}`} onClick={() => open('roles', user)}>
                      Roles
                    </ActButton>
                  ) : null}
                  {user.can.resetPassword ? (
                    <ActButton
                      label={`Reset the password of ${user.name}`}
                      onClick={() => open('password', user)}
                    >
                      Password
                    </ActButton>
                  ) : null}
                  {user.can.resetMfa ? (
                    <ActButton
                      label={`Remove 2FA, the second factor, of ${user.name}`}
                      onClick={() => open('resetMfa', user)}
                    >
                      Remove 2FA
                    </ActButton>
                  ) : null}
                  {user.can.endSessions ? (
                    <ActButton
                      label={`End sessions of ${user.name}, all of them`}
                      onClick={() => open('endSessions', user)}
                    >
                      End sessions
                    </ActButton>
                  ) : null}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {dialog ? (
        <ActDialog
          key={`${dialog.kind}:${dialog.user.id}`}
          dialog={dialog}
          onClose={() => setDialog(null)}
          onDone={(message) => {
            setDialog(null);
            setNotice(message);
          }}
        />
      ) : null}
    </Stack>
  );
}

function ActButton({ label, onClick, children }: { label: string; onClick: () => void; children: string }) {
  return (
    <Button size="compact-xs" variant="default" aria-label={label} onClick={onClick}>
      {children}
    </Button>
  );
}

const TITLES: Record<AccountAct['kind'], (name: string) => string> = {
  disable: (n) => `Disable ${n}?`,
  enable: (n) => `Enable ${n}?`,
  roles: (n) => `Roles of ${n}`,
  password: (n) => `New password for ${n}`,
  endSessions: (n) => `End all sessions of ${n}?`,
  resetMfa: (n) => `Remove the second factor of ${n}?`,
};

/** A confirmation for one act, with what it does said before it is done. */
function ActDialog({
  dialog,
  onClose,
  onDone,
}: {
  dialog: NonNullable<Dialog>;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { kind, user } = dialog;
  const act = useAccountAct();
  const [reason, setReason] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<string[]>(user.roles);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request: AccountAct =
      kind === 'disable'
        ? { kind, user, reason: reason.trim() || undefined }
        : kind === 'roles'
          ? { kind, user, roles: roles as Role[] }
          : kind === 'password'
            ? { kind, user, password }
            : { kind, user };
    act.mutate(request, {
      onSuccess: (answer) => {
        const done: Record<AccountAct['kind'], string> = {
          disable: `${user.name} is disabled; their sessions and tokens no longer work.`,
          enable: `${user.name} is enabled and may log in again.`,
          roles: `${user.name}'s roles were saved.`,
          password: `${user.name}'s password was set; their web sessions ended.`,
          resetMfa: `${user.name}'s second factor was removed; their web sessions ended.`,
          endSessions:
            'sessions' in answer
              ? `Ended ${answer.sessions} session(s) and revoked ${answer.tokens} token(s) of ${user.name}.`
              : `Ended the sessions of ${user.name}.`,
        };
        onDone(done[kind]);
      },
    });
  };

  const grantable = new Set<string>(user.can.grantRoles);
  return (
    <Modal opened onClose={onClose} title={TITLES[kind](user.name)} centered>
      <form onSubmit={submit}>
        <Stack>
          {kind === 'disable' ? (
            <>
              <Text size="sm">
                {user.name} will be logged out everywhere at once: their web sessions end and their API tokens
                are revoked. They cannot log in until enabled again.
              </Text>
              <Textarea
                label="Reason (kept in the audit log)"
                value={reason}
                maxLength={500}
                onChange={(e) => setReason(e.currentTarget.value)}
                data-autofocus
              />
            </>
          ) : null}
          {kind === 'enable' ? (
            <Text size="sm">{user.name} may log in again. Their old sessions and API tokens stay ended.</Text>
          ) : null}
          {kind === 'endSessions' ? (
            <Text size="sm">
              Every web session of {user.name} ends and every API token is revoked. They can log in again.
            </Text>
          ) : null}
          {kind === 'resetMfa' ? (
            <Text size="sm">
              For a lost phone: {user.name} logs in with the password alone next time and may enrol a new
              authenticator app. Their web sessions end.
            </Text>
          ) : null}
          {kind === 'password' ? (
            <PasswordInput
              label="New password"
              description="At least 12 characters. Their web sessions end."
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              data-autofocus
            />
          ) : null}
          {kind === 'roles' ? (
            <Checkbox.Group label="Roles" value={roles} onChange={setRoles}>
              <Stack gap={6} mt="xs">
                {ROLES.map((role) => (
                  <Checkbox
                    key={role}
                    value={role}
                    label={role}
                    disabled={!grantable.has(role)}
                    description={grantable.has(role) ? undefined : 'you may not grant or remove this role'}
                  />
                ))}
              </Stack>
            </Checkbox.Group>
          ) : null}
          {act.error ? (
            <Alert color="red" role="alert" title="Not done">
              {errorText(act.error)}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              color={kind === 'disable' || kind === 'endSessions' || kind === 'resetMfa' ? 'red' : undefined}
              loading={act.isPending}
              disabled={kind === 'roles' && roles.length === 0}
            >
              {kind === 'disable'
                ? 'Disable'
                : kind === 'enable'
                  ? 'Enable'
                  : kind === 'roles'
                    ? 'Save roles'
                    : kind === 'password'
                      ? 'Set password'
                      : kind === 'resetMfa'
                        ? 'Remove 2FA'
                        : 'End sessions'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
