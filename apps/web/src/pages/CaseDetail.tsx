import { Text } from '@mantine/core';

export function CasePage() {
  return <Text c="dimmed">Cases arrive with the cases API.</Text>;
}
