import { Alert, Center, Loader } from '@mantine/core';
import { errorText } from '../api/client.ts';

export function Problem({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {errorText(error)}
    </Alert>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center p="xl" aria-live="polite">
      <Loader aria-label={label} />
    </Center>
  );
}
