import { Alert, Center, Loader, Title, VisuallyHidden } from '@mantine/core';
import { errorText } from '../api/client.ts';

/** A refusal or failure; `page` when it is all the page shows: its title is then the page's heading. */
export function Problem({
  error,
  title = 'Something went wrong',
  page = false,
}: {
  error: unknown;
  title?: string;
  page?: boolean;
}) {
  if (!error) return null;
  return (
    <Alert
      color="red"
      title={
        page ? (
          <Title order={1} fz="inherit" fw="inherit" lh="inherit" c="inherit">
            {title}
          </Title>
        ) : (
          title
        )
      }
      role="alert"
    >
      {errorText(error)}
    </Alert>
  );
}

/** A spinner, announced by its label (a span may not carry aria-label: the label is text). */
export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center p="xl" role="status">
      <Loader aria-hidden />
      <VisuallyHidden>{label}</VisuallyHidden>
    </Center>
  );
}
