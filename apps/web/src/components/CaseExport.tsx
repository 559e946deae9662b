// A case as a file to download (a STIX bundle, a MISP event) of what the viewer may pass on. The
// node refuses RED, and another party's AMBER+STRICT, with a 403: the link is not offered then,
// the reason is said instead.
import { Button, Text } from '@mantine/core';
import type { Case } from '@vytis/contracts';

/** The export's address: an exercise case is exported only when asked for (`exercise=include`). */
export const caseExportHref = (c: Pick<Case, 'id' | 'exercise'>, format: string) =>
  `/api/v1/cases/${c.id}/${format}${c.exercise ? '?exercise=include' : ''}`;

export function CaseExport({
  kase,
  format,
  extension,
  label,
  heldLabel,
}: {
  kase: Case;
  /** The export's last path segment (`stix`, `misp`); also names the test id of the held reason. */
  format: 'stix' | 'misp';
  /** The file's ending after `case-<id>.` (`stix.json`). */
  extension: string;
  /** The link's text. */
  label: string;
  /** What is said before the reason when the case is held (`No STIX export`). */
  heldLabel: string;
}) {
  // The node decides (`can`); the label only explains its answer.
  const may = format === 'stix' ? kase.can.exportStix : kase.can.exportMisp;
  if (!may) {
    const held =
      kase.tlp === 'red'
        ? 'TLP:RED is never passed on'
        : kase.tlp === 'amber+strict'
          ? `TLP:AMBER+STRICT is passed on only by ${kase.ownerParty}`
          : 'the case is not yours to pass on';
    return (
      <Text size="xs" c="dimmed" data-testid={`${format}-download-held`}>
        {heldLabel}: {held}
      </Text>
    );
  }
  return (
    <Button
      component="a"
      href={caseExportHref(kase, format)}
      download={`case-${kase.id}${kase.exercise ? '-exercise' : ''}.${extension}`}
      size="xs"
      variant="default"
    >
      {label}
    </Button>
  );
}
