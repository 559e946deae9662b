import { useQueryClient } from '@tanstack/react-query';
import type { Me, MfaChallenge, Session } from '@vytis/contracts';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, setCsrfToken, setOnUnauthenticated } from './api/client.ts';

interface Auth {
  user: Me | null;
  /** null while the session is being read. */
  ready: boolean;
  /** The account must enrol a second factor before anything else (the node requires it). */
  mfaEnrolmentRequired: boolean;
  /** The password was right and the account has a second factor: the login waits for its code. */
  awaitingCode: boolean;
  login(name: string, password: string): Promise<void>;
  /** The login's second step: a code from the authenticator app, or a recovery code. */
  completeLogin(code: string): Promise<void>;
  /** Back from the code step to the password. */
  cancelLogin(): void;
  /** Reads the session again (after enrolling a second factor). */
  refresh(): Promise<void>;
  logout(): Promise<void>;
  has(...roles: Me['roles']): boolean;
}

const AuthContext = createContext<Auth | null>(null);
// A hint (not a secret: the session cookie is HttpOnly) that this browser logged in, so a fresh
// visitor is not greeted by a failed session check.
const HINT = 'vytis.loggedIn';

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<Me | null>(null);
  const [ready, setReady] = useState(false);
  const [mfaEnrolmentRequired, setMfaEnrolmentRequired] = useState(false);
  const [challenge, setChallenge] = useState<string | null>(null);
  const queryClient = useQueryClient();

  const adopt = useCallback((session: Session | null) => {
    setCsrfToken(session?.csrfToken ?? null);
    setUser(session?.user ?? null);
    setMfaEnrolmentRequired(session?.mfaEnrolmentRequired ?? false);
    setChallenge(null);
    if (session) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  }, []);

  useEffect(() => {
    setOnUnauthenticated(() => {
      adopt(null);
      queryClient.clear();
    });
    if (!localStorage.getItem(HINT)) {
      setReady(true);
      return;
    }
    api<Session>('/session')
      .then(adopt)
      .catch(() => adopt(null))
      .finally(() => setReady(true));
  }, [adopt, queryClient]);

  const value = useMemo<Auth>(
    () => ({
      user,
      ready,
      mfaEnrolmentRequired,
      awaitingCode: challenge !== null,
      async login(name, password) {
        const answer = await api<Session | MfaChallenge>('/session', { body: { name, password } });
        if ('mfaRequired' in answer) {
          setChallenge(answer.challenge);
          return;
        }
        queryClient.clear();
        adopt(answer);
      },
      async completeLogin(code) {
        if (!challenge) throw new Error('enter your password first');
        const session = await api<Session>('/session/mfa', { body: { challenge, code } });
        queryClient.clear();
        adopt(session);
      },
      cancelLogin: () => setChallenge(null),
      async refresh() {
        adopt(await api<Session>('/session'));
      },
      async logout() {
        try {
          await api('/session', { method: 'DELETE' });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
        }
        adopt(null);
        queryClient.clear();
      },
      has: (...roles) => Boolean(user && roles.some((r) => user.roles.includes(r))),
    }),
    [user, ready, mfaEnrolmentRequired, challenge, adopt, queryClient],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}

/** The signed-in user; only for pages under the login gate. */
export function useMe(): Me {
  const { user } = useAuth();
  if (!user) throw new Error('not signed in');
  return user;
}
