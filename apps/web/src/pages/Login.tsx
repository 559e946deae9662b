import {
  Alert,
  Button,
  Center,
  Code,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type FormEvent, type ReactNode, useState } from 'react';
import { useSetup } from '../api/accounts.ts';
import { errorText } from '../api/client.ts';
import { useAuth } from '../auth.tsx';

export function LoginPage() {
  const { awaitingCode } = useAuth();
  return (
    <Center mih="100vh" bg="var(--mantine-color-default-hover)" p="md">
      <Paper component="main" withBorder shadow="sm" p="xl" w={380} maw="100%">
        {awaitingCode ? <CodeStep /> : <PasswordStep />}
      </Paper>
    </Center>
  );
}

function Heading({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div>
      <Title order={1} id={id} size="h2" c="indigo">
        Vytis
      </Title>
      <Text size="sm" c="dimmed">
        {children}
      </Text>
    </div>
  );
}

/** Runs a form's submission with a busy flag and the node's refusal shown in an alert. */
function useSubmit(work: () => Promise<void>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, busy };
}

function PasswordStep() {
  const { login } = useAuth();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { submit, error, busy } = useSubmit(() => login(name.trim(), password));

  return (
    <form onSubmit={submit} aria-labelledby="login-title">
      <Stack>
        <Heading id="login-title">Operations platform of the cyber rapid-response force</Heading>
        <FirstAdminHint />
        {error ? (
          <Alert color="red" role="alert" title="Could not log in">
            {errorText(error)}
          </Alert>
        ) : null}
        <TextInput
          label="Name"
          name="username"
          autoComplete="username"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
          autoFocus
        />
        <PasswordInput
          label="Password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Button type="submit" loading={busy}>
          Log in
        </Button>
      </Stack>
    </form>
  );
}

/** On a node with no user yet: how to make the first admin (or load the demo), where the node runs. */
function FirstAdminHint() {
  const setup = useSetup();
  if (!setup.data?.firstAdminNeeded) return null;
  return (
    <Alert color="indigo" title="This node has no user yet" data-testid="first-admin">
      <Stack gap={6}>
        <Text size="sm">
          On the machine that runs it, create the first admin (type the password, then Ctrl-D):
        </Text>
        <Code block>npx vytis user add admin --party LT --role admin --password-stdin</Code>
        <Text size="sm">Or load demo people and data to look around:</Text>
        <Code block>npx vytis demo</Code>
      </Stack>
    </Alert>
  );
}

/** The second step: the code of the authenticator app, or one of the recovery codes. */
function CodeStep() {
  const { completeLogin, cancelLogin } = useAuth();
  const [code, setCode] = useState('');
  const { submit, error, busy } = useSubmit(async () => {
    try {
      await completeLogin(code.trim());
    } finally {
      setCode('');
    }
  });

  return (
    <form onSubmit={submit} aria-labelledby="code-title">
      <Stack>
        <Heading id="code-title">Second step: your authenticator app</Heading>
        {error ? (
          <Alert color="red" role="alert" title="Code not accepted">
            {errorText(error)}
          </Alert>
        ) : null}
        <TextInput
          label="Authentication code"
          description="The 6 digits your app shows now, or one of your recovery codes"
          name="one-time-code"
          autoComplete="one-time-code"
          inputMode="text"
          required
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          autoFocus
          maxLength={64}
        />
        <Group grow>
          <Button variant="default" onClick={cancelLogin}>
            Back
          </Button>
          <Button type="submit" loading={busy}>
            Verify
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
