import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Image,
  List,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { MfaEnrolment } from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import {
  useBeginMfa,
  useChangePassword,
  useConfirmMfa,
  useDisableMfa,
  useMfaStatus,
} from '../api/accounts.ts';
import { ApiError, errorText } from '../api/client.ts';
import { useAuth, useMe } from '../auth.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { ApiTokensCard } from './ApiTokens.tsx';

export function AccountPage() {
  const me = useMe();
  return (
    <Stack maw={640}>
      <Title order={1} size="h2">
        My account
      </Title>
      <Text>
        <b>{me.name}</b> · {me.party} · {me.roles.join(', ')}
      </Text>
      <SecondFactorCard />
      <PasswordCard />
      <ApiTokensCard />
    </Stack>
  );
}

const fieldError = (error: unknown, field: string) =>
  error instanceof ApiError ? error.forField(field) : undefined;

function PasswordCard() {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    change.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setDone(true);
          setCurrent('');
          setNext('');
        },
      },
    );
  };
  return (
    <Card withBorder component="section" aria-labelledby="password-title">
      <form onSubmit={submit}>
        <Stack>
          <Title order={2} size="h4" id="password-title">
            Password
          </Title>
          {done ? (
            <Alert color="teal" role="status">
              Password changed. Your other sessions have ended.
            </Alert>
          ) : null}
          {change.error &&
          !fieldError(change.error, 'currentPassword') &&
          !fieldError(change.error, 'newPassword') ? (
            <Alert color="red" role="alert">
              {errorText(change.error)}
            </Alert>
          ) : null}
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
            error={fieldError(change.error, 'currentPassword')}
          />
          <PasswordInput
            label="New password"
            description="At least 12 characters"
            autoComplete="new-password"
            required
            value={next}
            onChange={(e) => setNext(e.currentTarget.value)}
            error={fieldError(change.error, 'newPassword')}
          />
          <Group>
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The second factor: its state, enrolment (QR, first code, recovery codes once) and turning it off. */
export function SecondFactorCard() {
  const status = useMfaStatus();
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  if (status.isPending) return <Loading label="Reading your second factor" />;
  if (status.error) return <Problem error={status.error} />;
  const { enabled, required, recoveryCodesLeft } = status.data;
  return (
    <Card withBorder component="section" aria-labelledby="mfa-title">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4" id="mfa-title">
            Second factor (authenticator app)
          </Title>
          <Badge color={enabled ? 'teal' : required ? 'red' : 'gray'} variant="light">
            {enabled ? 'On' : required ? 'Required' : 'Off'}
          </Badge>
        </Group>
        {recoveryCodes ? (
          <RecoveryCodesShown codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />
        ) : enabled ? (
          <>
            <Text size="sm">
              Logging in asks for a code from your app. {recoveryCodesLeft} of your recovery codes are left.
            </Text>
            {required ? (
              <Text size="sm" c="dimmed">
                Your role requires a second factor, so it cannot be turned off.
              </Text>
            ) : (
              <DisableMfa />
            )}
          </>
        ) : (
          <Enrol onEnrolled={setRecoveryCodes} />
        )}
      </Stack>
    </Card>
  );
}

function Enrol({ onEnrolled }: { onEnrolled: (codes: string[]) => void }) {
  const begin = useBeginMfa();
  const confirm = useConfirmMfa();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<MfaEnrolment | null>(null);

  if (!enrolment) {
    const start = (event: FormEvent) => {
      event.preventDefault();
      begin.mutate(password, {
        onSuccess: (answer) => {
          setPassword('');
          setEnrolment(answer);
        },
      });
    };
    return (
      <form onSubmit={start}>
        <Stack>
          <Text size="sm">
            Protect your login with a 6-digit code from an authenticator app (RFC 6238 TOTP). Confirm your
            password to begin.
          </Text>
          <PasswordInput
            label="Your password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={fieldError(begin.error, 'password') ?? (begin.error ? errorText(begin.error) : undefined)}
          />
          <Group>
            <Button type="submit" loading={begin.isPending}>
              Set up an authenticator app
            </Button>
          </Group>
        </Stack>
      </form>
    );
  }
  const finish = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate(code.trim(), { onSuccess: (answer) => onEnrolled(answer.recoveryCodes) });
  };
  return (
    <form onSubmit={finish}>
      <Stack>
        <Text size="sm">Scan this code with your authenticator app, or type the key into it.</Text>
        <Image
          src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qrSvg)}`}
          alt="QR code of your authenticator secret"
          w={200}
          h={200}
          data-testid="mfa-qr"
        />
        <Text size="sm">
          Key: <Code data-testid="mfa-secret">{enrolment.secret}</Code>
        </Text>
        <TextInput
          label="Code from the app"
          description="The 6 digits it shows now"
          autoComplete="one-time-code"
          inputMode="numeric"
          required
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={fieldError(confirm.error, 'code') ?? (confirm.error ? errorText(confirm.error) : undefined)}
          autoFocus
        />
        <Group>
          <Button type="submit" loading={confirm.isPending}>
            Turn on
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function RecoveryCodesShown({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { refresh } = useAuth();
  return (
    <Stack>
      <Alert color="teal" role="status" title="Second factor on">
        Keep these recovery codes somewhere safe, apart from your phone. Each logs you in once if you lose the
        app. They are shown only now.
      </Alert>
      <List data-testid="recovery-codes" type="ordered" ff="monospace" withPadding>
        {codes.map((code) => (
          <List.Item key={code}>{code}</List.Item>
        ))}
      </List>
      <Group>
        <Button
          onClick={() => {
            onDone();
            void refresh();
          }}
        >
          I have saved them
        </Button>
      </Group>
    </Stack>
  );
}

function DisableMfa() {
  const disable = useDisableMfa();
  const [code, setCode] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    disable.mutate(code.trim(), { onSuccess: () => setCode('') });
  };
  return (
    <form onSubmit={submit}>
      <Group align="flex-end">
        <TextInput
          label="Current code, to turn it off"
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={fieldError(disable.error, 'code') ?? (disable.error ? errorText(disable.error) : undefined)}
        />
        <Button type="submit" color="red" variant="light" loading={disable.isPending}>
          Turn off
        </Button>
      </Group>
    </form>
  );
}
