import { Stack, Text, Title } from '@mantine/core';

export function CasesPage() {
  return (
    <Stack>
      <Title order={1} size="h2">
        Cases
      </Title>
      <Text c="dimmed">Cases arrive with the cases API.</Text>
    </Stack>
  );
}

export function IndicatorsPage() {
  return (
    <Stack>
      <Title order={1} size="h2">
        Indicator lookup
      </Title>
      <Text c="dimmed">Indicator lookup arrives with the indicators API.</Text>
    </Stack>
  );
}
