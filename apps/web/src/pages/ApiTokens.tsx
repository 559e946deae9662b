// The account page's API tokens: one per tool or script, issued here with a label and a lifetime, the
// secret shown once (the node keeps only its hash), listed without it, revoked with a confirmation.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Modal,
  NumberInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import type { IssuedToken, Token } from '@vytis/contracts';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, errorText } from '../api/client.ts';
import { useIssueToken, useMyTokens, useRevokeToken } from '../api/tokens.ts';
import { useMe } from '../auth.tsx';
import { fmtDate, fmtTime } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

/** The lifetime the API accepts (NewTokenSchema); none given, the node's VYTIS_TOKEN_TTL_DAYS applies. */
const MAX_DAYS = 366;

/** How a token is named to people: its label, else when it was made (CLI and admin tokens may have none). */
const nameOf = (token: Token) => token.label ?? `made ${fmtTime(token.createdAt)}`;

const fieldError = (error: unknown, field: string) =>
  error instanceof ApiError ? error.forField(field) : undefined;

export function ApiTokensCard() {
  const tokens = useMyTokens();
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <Card withBorder component="section" aria-labelledby="tokens-title">
      <Stack>
        <Title order={2} size="h4" id="tokens-title">
          API tokens
        </Title>
        <Text size="sm">
          For tools and scripts that call this node without a browser: TAXII clients, scripts using the API.
          Issue one per tool, so that retiring one means revoking its token alone. A token acts as you, with
          your roles, until it expires or you revoke it.
        </Text>
        {issued ? (
          <IssuedTokenShown
            issued={issued}
            onDone={() => {
              setIssued(null);
              setNotice(null);
            }}
          />
        ) : (
          <IssueTokenForm
            onIssued={(answer) => {
              setNotice(null);
              setIssued(answer);
            }}
          />
        )}
        {notice ? (
          <Alert color="teal" role="status">
            {notice}
          </Alert>
        ) : null}
        {tokens.isPending ? (
          <Loading label="Reading your API tokens" />
        ) : tokens.error ? (
          <Problem error={tokens.error} title="Your API tokens cannot be shown" />
        ) : (
          <TokenTable tokens={tokens.data.items} onRevoke={setRevoking} />
        )}
      </Stack>
      {revoking ? (
        <RevokeDialog
          token={revoking}
          onClose={() => setRevoking(null)}
          onDone={(token) => {
            setRevoking(null);
            setNotice(`The token “${nameOf(token)}” is revoked: tools using it are refused.`);
          }}
        />
      ) : null}
    </Card>
  );
}

function IssueTokenForm({ onIssued }: { onIssued: (answer: IssuedToken) => void }) {
  const issue = useIssueToken();
  const [label, setLabel] = useState('');
  const [days, setDays] = useState<number | string>('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const expiresInDays = typeof days === 'number' ? days : undefined;
    issue.mutate(
      { label: label.trim(), ...(expiresInDays !== undefined ? { expiresInDays } : {}) },
      {
        onSuccess: (answer) => {
          setLabel('');
          setDays('');
          onIssued(answer);
        },
      },
    );
  };
  const labelError = fieldError(issue.error, 'label');
  const daysError = fieldError(issue.error, 'expiresInDays');
  return (
    <form onSubmit={submit}>
      <Stack gap="sm">
        {issue.error && !labelError && !daysError ? (
          <Alert color="red" role="alert" title="No token was issued">
            {errorText(issue.error)}
          </Alert>
        ) : null}
        <Group align="flex-start">
          <TextInput
            label="Label"
            description="What will use it, e.g. “OpenCTI at the SOC”"
            required
            maxLength={200}
            value={label}
            onChange={(e) => setLabel(e.currentTarget.value)}
            error={labelError}
            w={300}
          />
          <NumberInput
            label="Expires in (days)"
            description={`1 to ${MAX_DAYS}; empty: the node’s default, normally 90`}
            min={1}
            max={MAX_DAYS}
            allowDecimal={false}
            allowNegative={false}
            clampBehavior="strict"
            value={days}
            onChange={setDays}
            error={daysError}
            w={300}
          />
        </Group>
        <Group>
          <Button type="submit" loading={issue.isPending} disabled={!label.trim()}>
            Issue a token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The secret, this once: copyable, with the warning that it is not shown again and how to use it. */
function IssuedTokenShown({ issued, onDone }: { issued: IssuedToken; onDone: () => void }) {
  const me = useMe();
  return (
    <Stack gap="sm">
      <Alert color="yellow" role="status" title="Copy your new token now">
        This is the only time the token “{nameOf(issued.info)}” is shown: the node keeps only a hash of it. If
        you lose it, revoke it and issue another. It expires <Time at={issued.info.expiresAt} />.
      </Alert>
      <Group align="flex-end" wrap="nowrap">
        <TextInput
          label="Your new API token"
          value={issued.token}
          readOnly
          onFocus={(e) => e.currentTarget.select()}
          ff="monospace"
          data-testid="issued-token"
          style={{ flex: 1 }}
        />
        <CopyButton value={issued.token}>
          {({ copied, copy }) => (
            <Button variant="light" onClick={copy} aria-label="Copy the new API token">
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Text size="sm">
        Use it with TAXII clients as the password, with your user name <Code>{me.name}</Code> (see{' '}
        <Anchor component={Link} to="/taxii">
          TAXII: connect your tools
        </Anchor>
        ), or send it as <Code>Authorization: Bearer …</Code> to the API.
      </Text>
      <Group>
        <Button variant="default" onClick={onDone}>
          I have copied it
        </Button>
      </Group>
    </Stack>
  );
}

/** Why a token no longer works, or null while it does. */
function endOf(token: Token, now: number): 'revoked' | 'expired' | null {
  if (token.revokedAt) return 'revoked';
  return Date.parse(token.expiresAt) <= now ? 'expired' : null;
}

function TokenTable({ tokens, onRevoke }: { tokens: Token[]; onRevoke: (token: Token) => void }) {
  if (tokens.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        You have no API tokens.
      </Text>
    );
  }
  const now = Date.now();
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table data-testid="api-tokens">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Label</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th>
              <VisuallyHidden>State or action</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tokens.map((token) => {
            const ended = endOf(token, now);
            return (
              <Table.Tr key={token.id} data-testid={`token-${token.id}`}>
                <Table.Td>
                  {token.label ?? (
                    <Text span c="dimmed">
                      (no label)
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{fmtDate(token.createdAt)}</Table.Td>
                <Table.Td>{fmtDate(token.expiresAt)}</Table.Td>
                <Table.Td>{token.lastUsedAt ? <Time at={token.lastUsedAt} /> : 'never'}</Table.Td>
                <Table.Td>
                  {ended ? (
                    <Badge color="gray" variant="light">
                      {ended}
                    </Badge>
                  ) : (
                    <Button
                      size="xs"
                      color="red"
                      variant="light"
                      onClick={() => onRevoke(token)}
                      aria-label={`Revoke the token “${nameOf(token)}”`}
                    >
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RevokeDialog({
  token,
  onClose,
  onDone,
}: {
  token: Token;
  onClose: () => void;
  onDone: (token: Token) => void;
}) {
  const revoke = useRevokeToken();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    revoke.mutate(token.id, { onSuccess: () => onDone(token) });
  };
  return (
    <Modal opened onClose={onClose} title={`Revoke the token “${nameOf(token)}”?`} centered>
      <form onSubmit={submit}>
        <Stack>
          <Text size="sm">
            Every tool using this token is refused from its next request on. This cannot be undone: for the
            tool to work again, issue a new token and give it that one.
          </Text>
          {revoke.error ? (
            <Alert color="red" role="alert" title="Not revoked">
              {errorText(revoke.error)}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose} data-autofocus>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={revoke.isPending}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
