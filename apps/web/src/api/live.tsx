import { useQueryClient } from '@tanstack/react-query';
import type { Notification } from '@vytis/contracts';
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';

interface Live {
  events: Notification[];
  connected: boolean;
}
const LiveContext = createContext<Live>({ events: [], connected: false });
const KEEP = 30;
const STORE = 'vytis.live';

/** Parses a text/event-stream body: blocks of `id:`, `event:`, `data:` lines separated by a blank line. */
export function parseSse(buffer: string): { events: { id?: string; data: string }[]; rest: string } {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  const events = blocks.flatMap((block) => {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    return data.length ? [{ ...(id !== undefined ? { id } : {}), data: data.join('\n') }] : [];
  });
  return { events, rest };
}

/**
 * One live stream per tab (`GET /api/v1/events`, the session cookie): each event refreshes what it
 * touches, and the last ones are kept for the situation page. Resumes from the last id it saw.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<Live>(() => {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) ?? 'null') as { events: Notification[] } | null;
      return { events: saved?.events ?? [], connected: false };
    } catch {
      return { events: [], connected: false };
    }
  });

  useEffect(() => {
    const abort = new AbortController();
    let lastId: string | null = null;
    try {
      lastId =
        (JSON.parse(sessionStorage.getItem(STORE) ?? 'null') as { lastId?: string } | null)?.lastId ?? null;
    } catch {
      lastId = null;
    }
    let retry: ReturnType<typeof setTimeout> | undefined;

    const connect = async () => {
      try {
        const response = await fetch(`/api/v1/events${lastId ? `?since=${lastId}` : ''}`, {
          headers: { accept: 'text/event-stream' },
          credentials: 'same-origin',
          signal: abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        setState((s) => ({ ...s, connected: true }));
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parsed = parseSse(buffer + value);
          buffer = parsed.rest;
          for (const event of parsed.events) {
            let notification: Notification;
            try {
              notification = JSON.parse(event.data) as Notification;
            } catch {
              continue;
            }
            if (event.id) lastId = event.id;
            void queryClient.invalidateQueries({ queryKey: ['requests'] });
            void queryClient.invalidateQueries({ queryKey: ['stats'] });
            if (notification.requestId) {
              void queryClient.invalidateQueries({ queryKey: ['request', notification.requestId] });
            }
            setState((s) => {
              const events = [notification, ...s.events.filter((e) => e.seq !== notification.seq)].slice(
                0,
                KEEP,
              );
              sessionStorage.setItem(STORE, JSON.stringify({ events, lastId }));
              return { events, connected: true };
            });
          }
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      setState((s) => ({ ...s, connected: false }));
      if (!abort.signal.aborted) retry = setTimeout(() => void connect(), 3000);
    };
    void connect();
    return () => {
      abort.abort();
      if (retry) clearTimeout(retry);
    };
  }, [queryClient]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export const useLive = () => useContext(LiveContext);
