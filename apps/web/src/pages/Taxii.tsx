// "Connect your tools": the node's TAXII 2.1 addresses as the node itself states them (its public
// URL), the collections the signed-in user may read, and how OpenCTI, MISP, Python and curl connect.
// Never a real token: the examples hold a placeholder, the token is issued on the account page.
import {
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  List,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import {
  apiRootOf,
  collectionUrl,
  TAXII_MEDIA_TYPE,
  useTaxiiCollections,
  useTaxiiDiscovery,
} from '../api/taxii.ts';
import { useMe } from '../auth.tsx';
import { Loading, Problem } from '../components/Problem.tsx';

/** What the examples hold where the token goes: never a real one. */
export const TOKEN_PLACEHOLDER = 'YOUR_API_TOKEN';

/** The discovery address: the API root's parent (`…/taxii2/api/` → `…/taxii2/`). */
export const discoveryUrlOf = (apiRoot: string) => new URL('../', apiRoot).href;

/** A word for a POSIX shell, in single quotes. */
const shellQuoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
/** A Python string literal (JSON's escapes are Python's for these). */
const pythonString = (text: string) => JSON.stringify(text);

/** A value to copy: shown as code, with a button named after what it copies. */
export function CopyValue({
  value,
  label,
  block = false,
  testId,
}: {
  value: string;
  /** What is copied, for the button's accessible name: "Copy <label>". */
  label: string;
  block?: boolean;
  testId?: string;
}) {
  const button = (
    <CopyButton value={value}>
      {({ copied, copy }) => (
        <Button
          size="compact-xs"
          variant="light"
          onClick={copy}
          aria-label={`Copy ${label}`}
          style={{ flexShrink: 0 }}
        >
          {copied ? 'Copied' : 'Copy'}
        </Button>
      )}
    </CopyButton>
  );
  if (block) {
    return (
      <Stack gap={4}>
        <Group justify="flex-end">{button}</Group>
        <Code block className="wrap-anywhere" style={{ whiteSpace: 'pre-wrap' }} data-testid={testId}>
          {value}
        </Code>
      </Stack>
    );
  }
  return (
    <Group gap="xs" wrap="nowrap" align="center">
      <Code className="wrap-anywhere" data-testid={testId}>
        {value}
      </Code>
      {button}
    </Group>
  );
}

export function TaxiiPage() {
  const me = useMe();
  const discovery = useTaxiiDiscovery();
  const collections = useTaxiiCollections();
  const [chosen, setChosen] = useState<string | null>(null);
  const apiRoot = discovery.data ? apiRootOf(discovery.data) : null;
  const items = collections.data ?? [];
  const example = items.find((c) => c.id === chosen) ?? items[0] ?? null;
  return (
    <Stack maw={960}>
      <Title order={1} size="h2">
        TAXII: connect your tools
      </Title>
      <Text>
        This node serves the indicators and intelligence objects of the cases you may see over TAXII 2.1, the
        OASIS protocol threat-intelligence platforms pull STIX 2.1 from. Your tools see what you see, and only
        what you may pass on: never TLP:RED, and TLP:AMBER+STRICT only from your own party.
      </Text>
      <Card withBorder component="section" aria-labelledby="taxii-token-title">
        <Title order={2} size="h4" id="taxii-token-title" mb="xs">
          Your credentials
        </Title>
        <Text size="sm">
          Tools log in with HTTP Basic: your user name <Code data-testid="taxii-user">{me.name}</Code> and one
          of your API tokens as the password (or the header <Code>Authorization: Bearer …</Code> with the
          token alone). Issue a token for each tool on{' '}
          <Anchor component={Link} to="/account">
            your account page
          </Anchor>
          , and revoke it there when the tool is retired. The examples below say{' '}
          <Code>{TOKEN_PLACEHOLDER}</Code> where it goes.
        </Text>
      </Card>
      <Card withBorder component="section" aria-labelledby="taxii-addresses-title">
        <Title order={2} size="h4" id="taxii-addresses-title" mb="xs">
          Addresses
        </Title>
        <Problem error={discovery.error} title="The node's TAXII server did not answer" />
        {discovery.isPending ? (
          <Loading label="Reading the TAXII discovery" />
        ) : apiRoot ? (
          <Table variant="vertical" layout="fixed" withTableBorder={false}>
            <Table.Tbody>
              <Table.Tr>
                <Table.Th w={160}>Discovery</Table.Th>
                <Table.Td>
                  <CopyValue value={discoveryUrlOf(apiRoot)} label="discovery URL" testId="taxii-discovery" />
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>API root</Table.Th>
                <Table.Td>
                  <CopyValue value={apiRoot} label="API root" testId="taxii-api-root" />
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>Version</Table.Th>
                <Table.Td>
                  <Code>{TAXII_MEDIA_TYPE}</Code>
                </Table.Td>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        ) : null}
      </Card>
      <Card withBorder component="section" aria-labelledby="taxii-collections-title">
        <Title order={2} size="h4" id="taxii-collections-title" mb="xs">
          Collections you may read
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          Everything you may pass on, the community's CLEAR and GREEN, and one per case: the 100 cases you see
          that changed last are listed, and any other case you see is a collection too (its id is the case's).
        </Text>
        <Problem error={collections.error} />
        {collections.isPending ? (
          <Loading label="Reading your collections" />
        ) : (
          <Table data-testid="taxii-collections" fz="sm" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Collection</Table.Th>
                <Table.Th>Id</Table.Th>
                <Table.Th>Access</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td className="wrap-anywhere" maw={360}>
                    <Text size="sm" fw={500}>
                      {c.title}
                    </Text>
                    {c.description ? (
                      <Text size="xs" c="dimmed">
                        {c.description}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <CopyValue value={c.id} label={`the id of ${c.title}`} />
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="outline" tt="none">
                      {c.can_write ? 'read, add' : 'read'}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      {apiRoot && example ? (
        <Card withBorder component="section" aria-labelledby="taxii-connect-title">
          <Group justify="space-between" align="flex-end" mb="sm">
            <Title order={2} size="h4" id="taxii-connect-title">
              How to connect
            </Title>
            <Select
              label="Collection in the examples"
              data={items.map((c) => ({ value: c.id, label: c.title }))}
              value={example.id}
              onChange={setChosen}
              allowDeselect={false}
              searchable
              w={320}
            />
          </Group>
          <ConnectExamples apiRoot={apiRoot} collectionId={example.id} user={me.name} />
        </Card>
      ) : null}
    </Stack>
  );
}

/** The same four facts (API root, collection, user name, token) as each kind of tool asks for them. */
function ConnectExamples({
  apiRoot,
  collectionId,
  user,
}: {
  apiRoot: string;
  collectionId: string;
  user: string;
}) {
  const collection = collectionUrl(apiRoot, collectionId);
  const python = [
    'from taxii2client.v21 import Server, Collection',
    `server = Server(${pythonString(discoveryUrlOf(apiRoot))}, user=${pythonString(user)}, password=${pythonString(TOKEN_PLACEHOLDER)})`,
    'print([c.title for c in server.default.collections])',
    `collection = Collection(${pythonString(collection)}, user=${pythonString(user)}, password=${pythonString(TOKEN_PLACEHOLDER)})`,
    'print(collection.get_objects().get("objects", []))',
  ].join('\n');
  const curl = `curl -u ${shellQuoted(`${user}:${TOKEN_PLACEHOLDER}`)} -H ${shellQuoted(`Accept: ${TAXII_MEDIA_TYPE}`)} ${shellQuoted(`${collection}objects/`)}`;
  return (
    <Stack>
      <section aria-labelledby="taxii-opencti-title">
        <Title order={3} size="h5" id="taxii-opencti-title" mb={4}>
          OpenCTI
        </Title>
        <Text size="sm">In Data › Ingestion › TAXII feeds, add a feed:</Text>
        <List size="sm" withPadding>
          <List.Item>
            TAXII server URL (the API root): <Code>{apiRoot}</Code>
          </List.Item>
          <List.Item>TAXII version: 2.1</List.Item>
          <List.Item>
            TAXII collection: <Code>{collectionId}</Code>
          </List.Item>
          <List.Item>
            Authentication: Basic user / password, user <Code>{user}</Code>, password your API token
          </List.Item>
        </List>
      </section>
      <section aria-labelledby="taxii-misp-title">
        <Title order={3} size="h5" id="taxii-misp-title" mb={4}>
          MISP and other platforms
        </Title>
        <Text size="sm">
          Whichever TAXII 2.1 client feeds your MISP (or any other platform), it asks for the same four
          things: the API root <Code>{apiRoot}</Code> (or the discovery URL, if it discovers), the collection
          id <Code>{collectionId}</Code>, the user name <Code>{user}</Code> and an API token as the password.
          The objects come as STIX 2.1.
        </Text>
      </section>
      <section aria-labelledby="taxii-python-title">
        <Title order={3} size="h5" id="taxii-python-title" mb={4}>
          Python (OASIS taxii2-client)
        </Title>
        <Text size="sm" mb={4}>
          <Code>pip install taxii2-client</Code>, then:
        </Text>
        <CopyValue value={python} label="the Python example" block testId="taxii-python" />
      </section>
      <section aria-labelledby="taxii-curl-title">
        <Title order={3} size="h5" id="taxii-curl-title" mb={4}>
          curl
        </Title>
        <CopyValue value={curl} label="the curl command" block testId="taxii-curl" />
        <Text size="xs" c="dimmed" mt={4}>
          Leave out <Code>:{TOKEN_PLACEHOLDER}</Code> and curl asks for the token instead of keeping it in
          your shell's history. Pages of up to 1000 objects: add <Code>?limit=1000</Code> and follow{' '}
          <Code>next</Code>.
        </Text>
      </section>
    </Stack>
  );
}

/**
 * The case as a TAXII collection: its address (the collection id is the case id), to copy into a
 * tool, and where the rest of what a tool needs is explained.
 */
export function TaxiiCollectionHint({ caseId }: { caseId: string }) {
  const discovery = useTaxiiDiscovery();
  const apiRoot = discovery.data ? apiRootOf(discovery.data) : null;
  if (!apiRoot) return null;
  return (
    <Group gap="xs" wrap="wrap" data-testid="taxii-case-collection">
      <Text size="sm">TAXII collection:</Text>
      <CopyValue value={collectionUrl(apiRoot, caseId)} label="the TAXII collection URL" />
      <Anchor component={Link} to="/taxii" size="sm">
        How to connect a tool
      </Anchor>
    </Group>
  );
}
