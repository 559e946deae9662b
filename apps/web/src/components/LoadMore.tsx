import { Button } from '@mantine/core';

/** The next page of a list read a page at a time (a TanStack infinite query), while there is one. */
export function LoadMore({
  list,
  label,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> };
  label: string;
}) {
  if (!list.hasNextPage) return null;
  return (
    <Button
      variant="default"
      w="fit-content"
      onClick={() => void list.fetchNextPage()}
      loading={list.isFetchingNextPage}
    >
      {label}
    </Button>
  );
}
