// Reports drafted from the record: the force's post-action report on a request, and the affected
// entity's NIS2 reports. They hang under requestKeys.one(id), so a live event about the request
// refreshes them. A save and a submit go against the version read (If-Match): a 412 means someone
// else saved meanwhile, and the editor keeps what was typed.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Nis2Submit, Report, ReportEdit, ReportFormat, ReportKind, ReportList } from '@vytis/contracts';
import { ApiError, api } from './client.ts';

/** One report of a request: the post-action report, or one NIS2 report by its kind. */
export interface ReportRef {
  requestId: string;
  kind: ReportKind;
}

export const reportKeys = {
  postAction: (requestId: string) => ['request', requestId, 'report', 'post_action'] as const,
  nis2: (requestId: string) => ['request', requestId, 'report', 'nis2'] as const,
};

/** The report's path under /api/v1. */
export const reportPath = ({ requestId, kind }: ReportRef) =>
  kind === 'post_action'
    ? `/requests/${requestId}/post-action-report`
    : `/requests/${requestId}/nis2/${kind}`;

/** The formats each report is offered in: STIX for the post-action report only. */
export const reportFormats = (kind: ReportKind): ReportFormat[] =>
  kind === 'post_action' ? ['pdf', 'markdown', 'json', 'stix'] : ['pdf', 'markdown', 'json'];

/** A report's file as the node lays it out, for an `<a href download>`. */
export const reportFileHref = (ref: ReportRef, format: ReportFormat) =>
  `/api/v1${reportPath(ref)}/file?format=${format}`;

/** Not there, or not the caller's to read (the node answers both alike): not asked again. */
const retryUnlessAbsent = (count: number, error: unknown) =>
  !(error instanceof ApiError && [403, 404].includes(error.status)) && count < 2;

export const usePostActionReport = (requestId: string, enabled = true) =>
  useQuery({
    queryKey: reportKeys.postAction(requestId),
    queryFn: () => api<Report>(reportPath({ requestId, kind: 'post_action' })),
    retry: retryUnlessAbsent,
    enabled,
  });

/** The entity's five NIS2 reports, in the Directive's order. */
export const useNis2Reports = (requestId: string, enabled = true) =>
  useQuery({
    queryKey: reportKeys.nis2(requestId),
    queryFn: () => api<ReportList>(`/requests/${requestId}/nis2`),
    retry: retryUnlessAbsent,
    enabled,
  });

/** Puts the report the node answered with where its page reads it. */
function useKeep(ref: ReportRef) {
  const queryClient = useQueryClient();
  return (report: Report) => {
    if (ref.kind === 'post_action') queryClient.setQueryData(reportKeys.postAction(ref.requestId), report);
    else
      queryClient.setQueryData<ReportList>(reportKeys.nis2(ref.requestId), (old) =>
        old ? { items: old.items.map((r) => (r.kind === report.kind ? report : r)) } : old,
      );
    // The request's clocks and timeline move with a submit.
    void queryClient.invalidateQueries({ queryKey: ['request', ref.requestId], exact: true });
    void queryClient.invalidateQueries({ queryKey: ['request', ref.requestId, 'timeline'] });
    void queryClient.invalidateQueries({ queryKey: ['requests'] });
  };
}

/** Asks the node for the report as it is now (after a 412), and answers with it. */
export function useReloadReport(ref: ReportRef) {
  const queryClient = useQueryClient();
  return async (): Promise<Report | undefined> => {
    if (ref.kind === 'post_action') {
      await queryClient.refetchQueries({ queryKey: reportKeys.postAction(ref.requestId), exact: true });
      return queryClient.getQueryData<Report>(reportKeys.postAction(ref.requestId));
    }
    await queryClient.refetchQueries({ queryKey: reportKeys.nis2(ref.requestId), exact: true });
    return queryClient
      .getQueryData<ReportList>(reportKeys.nis2(ref.requestId))
      ?.items.find((r) => r.kind === ref.kind);
  };
}

/** Saves the draft's changed fields (and its label) over the version read. */
export function useSaveReport(ref: ReportRef) {
  const keep = useKeep(ref);
  return useMutation({
    mutationFn: (v: { edit: ReportEdit; version: number }) =>
      api<Report>(reportPath(ref), { method: 'PUT', body: v.edit, ifMatch: v.version }),
    onSuccess: keep,
  });
}

/** Submits the report as it was saved at `version`: the node signs it and it is frozen. */
export function useSubmitReport(ref: ReportRef) {
  const keep = useKeep(ref);
  return useMutation({
    mutationFn: (v: { version: number; nis2?: Nis2Submit }) =>
      api<Report>(`${reportPath(ref)}/submit`, { body: v.nis2 ?? {}, ifMatch: v.version }),
    onSuccess: keep,
  });
}
