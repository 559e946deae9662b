import { Alert, Button, Group, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import type { PassVerification } from '@vytis/contracts';
import { useEffect, useRef, useState } from 'react';
import { useVerifyPass } from '../api/deployments.ts';
import { Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

const VERDICT: Record<PassVerification['verdict'], { title: string; color: string }> = {
  valid: { title: 'Valid pass', color: 'teal' },
  revoked: { title: 'Revoked: do not let them in on this pass', color: 'red' },
  expired: { title: 'Expired', color: 'red' },
  'not-yet-valid': { title: 'Not valid yet', color: 'yellow' },
  'unknown-signer': { title: 'Not signed by this node or a peer it trusts', color: 'red' },
  invalid: { title: 'Not a valid pass', color: 'red' },
};

/** The camera's barcode reader, where the browser has one (Chromium on Android, macOS…); optional. */
interface BarcodeReader {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
const barcodeReader = (): BarcodeReader | null => {
  const Detector = (globalThis as { BarcodeDetector?: new (o: object) => BarcodeReader }).BarcodeDetector;
  return Detector ? new Detector({ formats: ['qr_code'] }) : null;
};

/** A host checks a pass they were shown: pasted (or scanned) and verified by this node. */
export function PassVerifyPage() {
  const [token, setToken] = useState('');
  const verify = useVerifyPass();
  const result = verify.data;
  const check = (text: string) => {
    if (text.trim()) verify.mutate(text.trim());
  };
  return (
    <Stack maw={760}>
      <div>
        <Title order={1} size="h2">
          Verify a pass
        </Title>
        <Text size="sm" c="dimmed">
          Paste the pass a responder shows you (the text of its QR code, starting with "ey"), or scan it. This
          node checks its signature, its revocation and its dates.
        </Text>
      </div>
      <Textarea
        label="The pass"
        description="Its compact JWS, or the text of its QR code"
        autosize
        minRows={3}
        value={token}
        onChange={(e) => setToken(e.currentTarget.value)}
        classNames={{ input: 'mono' }}
      />
      <Group>
        <Button onClick={() => check(token)} loading={verify.isPending} disabled={!token.trim()}>
          Verify
        </Button>
        <Scanner
          onRead={(text) => {
            setToken(text);
            check(text);
          }}
        />
      </Group>
      <Problem error={verify.error} title="The pass could not be checked" />
      {result ? <Verdict result={result} /> : null}
    </Stack>
  );
}

function Verdict({ result }: { result: PassVerification }) {
  const { title, color } = VERDICT[result.verdict];
  const c = result.claims;
  return (
    <Alert color={color} title={title} data-testid="pass-verdict" data-verdict={result.verdict}>
      <Stack gap="xs">
        <Text size="sm" className="wrap-anywhere">
          {result.reason}
        </Text>
        {c ? (
          <Table>
            <Table.Tbody>
              <Table.Tr>
                <Table.Th scope="row">Who</Table.Th>
                <Table.Td>
                  {c.responderName} ({c.homeParty}){c.exercise ? ' — exercise' : ''}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Host</Table.Th>
                <Table.Td>{c.hostParty}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Deployment</Table.Th>
                <Table.Td className="wrap-anywhere">{c.deploymentId}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Valid</Table.Th>
                <Table.Td>
                  <Time at={c.window.from} /> – <Time at={c.expiresAt} />
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th scope="row">Pass id</Table.Th>
                <Table.Td className="wrap-anywhere">{c.passId}</Table.Td>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        ) : null}
        {result.signer ? (
          <Text size="xs">
            Signed by {result.signer.kind === 'this-node' ? 'this node' : `${result.signer.party}'s node`}{' '}
            (key <span className="wrap-anywhere">{result.signer.keyId}</span>). Revocation:{' '}
            {result.revocation.note}.
          </Text>
        ) : null}
      </Stack>
    </Alert>
  );
}

/** Scans a QR code with the camera, where the browser offers BarcodeDetector; else nothing is shown. */
function Scanner({ onRead }: { onRead: (text: string) => void }) {
  const [scanning, setScanning] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const reader = useRef<BarcodeReader | null>(barcodeReader());
  useEffect(() => {
    if (!scanning || !reader.current) return;
    let stream: MediaStream | null = null;
    let stopped = false;
    const stop = () => {
      stopped = true;
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        if (!video.current || stopped) return stop();
        video.current.srcObject = stream;
        await video.current.play();
        while (!stopped) {
          const codes = await reader.current!.detect(video.current);
          if (codes[0]?.rawValue) {
            onRead(codes[0].rawValue);
            setScanning(false);
            return;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } catch (error) {
        setProblem(`The camera could not be used: ${(error as Error).message}`);
        setScanning(false);
      }
    })();
    return stop;
  }, [scanning, onRead]);
  if (!reader.current) return null;
  return (
    <>
      <Button variant="default" onClick={() => setScanning((s) => !s)}>
        {scanning ? 'Stop scanning' : 'Scan with the camera'}
      </Button>
      {scanning ? (
        <video
          ref={video}
          muted
          playsInline
          aria-label="Camera view for scanning the pass"
          style={{ width: 320 }}
        />
      ) : null}
      {problem ? (
        <Text size="sm" c="red" role="alert">
          {problem}
        </Text>
      ) : null}
    </>
  );
}
