// Drafts saved as the person types: the draft is created on the node at the first save that the
// node can take, then saved with PATCH and If-Match a moment after typing stops. One save runs at
// a time; a save that finds nothing new does nothing.
import { useDebouncedCallback } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import type { AssistanceRequest } from '@vytis/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../api/client.ts';
import { type Form, toBody } from './form.ts';
import { checkForm } from './problems.ts';

/** How long after the last keystroke the draft is saved. */
export const AUTOSAVE_DELAY_MS = 1500;

export type SaveStatus =
  /** Nothing typed yet. */
  | { kind: 'new' }
  /** The node cannot store it yet: these fields are missing or wrong. */
  | { kind: 'incomplete'; fields: string[] }
  /** Changed; saved after the pause. */
  | { kind: 'pending' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: Date }
  /** The node refused the fields (400): they are shown at the fields. */
  | { kind: 'invalid'; error: ApiError }
  /** Someone else saved the draft (412), or it is no longer a draft (409): nothing is saved over it. */
  | { kind: 'stale'; error: ApiError }
  /** The node could not be reached or failed. */
  | { kind: 'failed'; error: unknown };

export interface Autosave {
  /** The draft as the node last returned it (null until the first save of a new request). */
  draft: AssistanceRequest | null;
  status: SaveStatus;
  /** Saves now what is not saved yet; resolves to the draft once saved, or null if it could not be. */
  flush: () => Promise<AssistanceRequest | null>;
  /** After a 412: saves this form over the other person's version, on purpose. */
  overwrite: () => Promise<AssistanceRequest | null>;
}

export function useDraftAutosave({
  form,
  initialDraft,
  onCreated,
}: {
  form: Form;
  initialDraft: AssistanceRequest | null;
  onCreated: (draft: AssistanceRequest) => void;
}): Autosave {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(initialDraft);
  const [status, setStatusState] = useState<SaveStatus>(
    initialDraft ? { kind: 'saved', at: new Date(initialDraft.updatedAt) } : { kind: 'new' },
  );
  const formRef = useRef(form);
  formRef.current = form;
  const draftRef = useRef(initialDraft);
  const statusRef = useRef(status);
  const setStatus = useCallback((next: SaveStatus) => {
    statusRef.current = next;
    setStatusState(next);
  }, []);
  /** The body last saved (or the form as opened): a form that still gives it has nothing to save. */
  const lastSaved = useRef(JSON.stringify(toBody(form, initialDraft)));
  const lastSavedAt = useRef<Date | null>(null);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const onCreatedRef = useRef(onCreated);
  onCreatedRef.current = onCreated;

  const saveOnce = useCallback(async (): Promise<AssistanceRequest | null> => {
    if (statusRef.current.kind === 'stale') return null;
    const f = formRef.current;
    const current = draftRef.current;
    const body = toBody(f, current);
    if (JSON.stringify(body) === lastSaved.current) return current;
    const problems = Object.keys(checkForm(f));
    if (problems.length > 0) {
      setStatus({ kind: 'incomplete', fields: problems });
      return null;
    }
    setStatus({ kind: 'saving' });
    try {
      const saved = current
        ? await api<AssistanceRequest>(`/requests/${current.id}`, {
            method: 'PATCH',
            body,
            ifMatch: current.version,
          })
        : await api<AssistanceRequest>('/requests', { body });
      draftRef.current = saved;
      lastSaved.current = JSON.stringify(toBody(f, saved));
      lastSavedAt.current = new Date();
      setDraft(saved);
      queryClient.setQueryData(['request', saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['requests'] });
      if (!current) onCreatedRef.current(saved);
      // Typed while the save was on its way: that is saved by the next one (already scheduled).
      setStatus(
        JSON.stringify(toBody(formRef.current, saved)) === lastSaved.current
          ? { kind: 'saved', at: lastSavedAt.current }
          : { kind: 'pending' },
      );
      return saved;
    } catch (error) {
      if (error instanceof ApiError && current && [409, 412].includes(error.status)) {
        setStatus({ kind: 'stale', error });
      } else if (error instanceof ApiError && error.status === 400) {
        setStatus({ kind: 'invalid', error });
      } else {
        setStatus({ kind: 'failed', error });
      }
      return null;
    }
  }, [queryClient, setStatus]);

  const enqueue = useCallback(() => {
    const next = queue.current.then(saveOnce, saveOnce);
    queue.current = next;
    return next;
  }, [saveOnce]);

  // Leaving the page with a save pending still saves it: coming back finds everything.
  const debounced = useDebouncedCallback(() => void enqueue(), {
    delay: AUTOSAVE_DELAY_MS,
    flushOnUnmount: true,
  });

  useEffect(() => {
    if (statusRef.current.kind === 'stale') return;
    if (JSON.stringify(toBody(form, draftRef.current)) === lastSaved.current) {
      // Changed back to what is saved: nothing to save, and nothing to warn of.
      debounced.cancel();
      if (draftRef.current && !['saving', 'saved'].includes(statusRef.current.kind))
        setStatus({ kind: 'saved', at: lastSavedAt.current ?? new Date(draftRef.current.updatedAt) });
      return;
    }
    const problems = Object.keys(checkForm(form));
    if (problems.length > 0) {
      setStatus({ kind: 'incomplete', fields: problems });
    } else if (statusRef.current.kind !== 'saving') {
      setStatus({ kind: 'pending' });
    }
    debounced();
  }, [form, debounced, setStatus]);

  const flush = useCallback(async () => {
    debounced.cancel();
    await enqueue();
    // The form may have changed while the save ran: save until nothing is left.
    return enqueue();
  }, [debounced, enqueue]);

  const overwrite = useCallback(async () => {
    const current = draftRef.current;
    if (!current) return null;
    try {
      const fresh = await api<AssistanceRequest>(`/requests/${current.id}`);
      draftRef.current = fresh;
      setDraft(fresh);
    } catch (error) {
      setStatus({ kind: 'failed', error });
      return null;
    }
    lastSaved.current = '';
    setStatus({ kind: 'pending' });
    return flush();
  }, [flush, setStatus]);

  return { draft, status, flush, overwrite };
}
