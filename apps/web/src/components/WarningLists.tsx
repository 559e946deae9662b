import { Badge, Text } from '@mantine/core';

/**
 * A value on MISP warning lists (a public resolver, a private address, a top domain): a badge, and
 * the lists' names as text (a tooltip would hide them from keyboard and touch users). Nothing for a
 * value on none.
 */
export function WarningListFlag({ warnings }: { warnings: readonly string[] }) {
  if (warnings.length === 0) return null;
  return (
    <div data-testid="warning-lists">
      <Badge color="orange" variant="filled" size="xs" mr={6} ff="var(--mantine-font-family)">
        warning list
      </Badge>
      <Text span size="xs" c="dimmed" ff="var(--mantine-font-family)">
        {warnings.join('; ')}
      </Text>
    </div>
  );
}
