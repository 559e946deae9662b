// The request wizard's data: the framework it checks a draft against, and submitting a draft to the
// council. The draft itself is read with useRequest and saved by the wizard's autosave.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AssistanceRequest, Framework } from '@vytis/contracts';
import { api } from './client.ts';
import { requestKeys } from './requests.ts';

export const draftKeys = {
  framework: ['framework'] as const,
};

/** The Cyber Solidarity Act's rules and clocks; they change with a deployment, not during a session. */
export const useFramework = () =>
  useQuery({
    queryKey: draftKeys.framework,
    queryFn: () => api<Framework>('/framework'),
    staleTime: 5 * 60_000,
  });

/** Submits a saved draft, as of the version saved; the request's page then finds it as it is now. */
export function useSubmitDraft() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ draft, note }: { draft: AssistanceRequest; note?: string | undefined }) =>
      api<AssistanceRequest>(`/requests/${draft.id}/submit`, {
        body: note ? { note } : {},
        ifMatch: draft.version,
      }),
    onSuccess: (submitted) => {
      queryClient.setQueryData(requestKeys.one(submitted.id), submitted);
      void queryClient.invalidateQueries({ queryKey: requestKeys.all });
      void queryClient.invalidateQueries({ queryKey: requestKeys.timeline(submitted.id) });
    },
  });
}

/** Drops what is cached of a request, so that its draft is read again from the node. */
export function useForgetRequest() {
  const queryClient = useQueryClient();
  return (id: string) => queryClient.removeQueries({ queryKey: requestKeys.one(id) });
}
