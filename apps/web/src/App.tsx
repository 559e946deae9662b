import { AppShell, Badge, Burger, Button, Group, NavLink, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { Me } from '@vytis/contracts';
import { useEffect, useRef } from 'react';
import { Link, Navigate, Route, NavLink as RouterLink, Routes, useLocation } from 'react-router';
import { useDemoData } from './api/demo.ts';
import { LiveProvider } from './api/live.tsx';
import { useUnreadCount } from './api/notifications.ts';
import { useWorkCount } from './api/work.ts';
import { useAuth, useMe } from './auth.tsx';
import { Loading } from './components/Problem.tsx';
import { AccountPage, SecondFactorCard } from './pages/Account.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CasePage } from './pages/CaseDetail.tsx';
import { CasesPage, IndicatorsPage } from './pages/Cases.tsx';
import { DeploymentPage, PassPage } from './pages/Deployment.tsx';
import { DutyPage } from './pages/Duty.tsx';
import { FederationPage } from './pages/Federation.tsx';
import { HomePage } from './pages/Home.tsx';
import { LoginPage } from './pages/Login.tsx';
import { MispFeedsPage } from './pages/MispFeeds.tsx';
import { MyDeploymentsPage } from './pages/MyDeployments.tsx';
import { NotificationsPage } from './pages/Notifications.tsx';
import { PassVerifyPage } from './pages/PassVerify.tsx';
import { RequestPage } from './pages/RequestDetail.tsx';
import { RequestsPage } from './pages/Requests.tsx';
import { EditDraftPage, NewRequestPage } from './pages/RequestWizard.tsx';
import { Nis2ReportsPage } from './pages/report/Nis2ReportsPage.tsx';
import { PostActionReportPage } from './pages/report/PostActionReportPage.tsx';
import { RosterPage } from './pages/roster/RosterPage.tsx';
import { SearchPage } from './pages/Search.tsx';
import { TaxiiPage } from './pages/Taxii.tsx';
import { UsersPage } from './pages/Users.tsx';

export function App() {
  const { user, ready, mfaEnrolmentRequired } = useAuth();
  if (!ready) return <Loading label="Reading your session" />;
  if (!user) return <LoginPage />;
  if (mfaEnrolmentRequired) return <EnrolFirst />;
  return (
    <LiveProvider>
      <Shell />
    </LiveProvider>
  );
}

type Counter = 'work' | 'unread';
// Pages whose whole purpose is an act name the node's `can` for it; the rest, the roles the node serves them to.
const NAV: { to: string; label: string; roles?: string[]; can?: keyof Me['can']; count?: Counter }[] = [
  { to: '/', label: 'My work', count: 'work' },
  { to: '/notifications', label: 'Notifications', count: 'unread' },
  { to: '/search', label: 'Search' },
  { to: '/requests', label: 'Requests' },
  { to: '/requests/new', label: 'New request', can: 'fileRequest' },
  { to: '/my/deployments', label: 'My deployments', roles: ['responder'] },
  { to: '/duty', label: 'On duty' },
  { to: '/roster', label: 'Roster' },
  { to: '/cases', label: 'Cases' },
  { to: '/indicators', label: 'Indicator lookup' },
  { to: '/passes/verify', label: 'Verify a pass' },
  { to: '/taxii', label: 'TAXII: connect tools' },
  { to: '/misp/feeds', label: 'MISP feeds' },
  { to: '/audit', label: 'Audit', roles: ['auditor', 'admin'] },
  { to: '/federation', label: 'Federation', roles: ['admin', 'coordinator'] },
  { to: '/users', label: 'Users', roles: ['admin', 'poc'] },
  { to: '/account', label: 'My account' },
];

/** The node requires a second factor for this account: nothing else until it is set up. */
function EnrolFirst() {
  const { logout } = useAuth();
  return (
    <Stack component="main" maw={640} mx="auto" p="md">
      <Group justify="space-between">
        <Title order={1} size="h2" c="indigo">
          Set up your second factor
        </Title>
        <Button size="xs" variant="default" onClick={() => void logout()}>
          Log out
        </Button>
      </Group>
      <Text>This node requires admins to log in with an authenticator app. Set it up to continue.</Text>
      <SecondFactorCard />
    </Stack>
  );
}

function Shell() {
  const me = useMe();
  const { logout, has } = useAuth();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const demo = useDemoData();
  const counts: Record<Counter, number | undefined> = { work: useWorkCount(), unread: useUnreadCount() };

  // A new page (not the first): close the drawer (tablet) and move focus to the content, so a
  // screen reader starts there and the next Tab goes into the page.
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on navigation
  useEffect(() => {
    close();
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 210, breakpoint: 'md', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Menu" />
            <Link to="/" style={{ textDecoration: 'none', color: 'inherit' }}>
              <Title order={3} c="indigo">
                Vytis
              </Title>
            </Link>
            <Text size="sm" c="dimmed" visibleFrom={demo ? 'lg' : 'sm'}>
              cyber rapid-response force
            </Text>
            {demo ? (
              <Text
                className="demo-banner"
                role="note"
                data-testid="demo-banner"
                size="sm"
                fw={600}
                px="sm"
                py={4}
                style={{ borderRadius: 'var(--mantine-radius-sm)', whiteSpace: 'nowrap' }}
              >
                Demo data<span className="demo-banner-more"> — not real incidents</span>
              </Text>
            ) : null}
          </Group>
          <Group gap="xs" wrap="nowrap" miw={0}>
            <Text size="sm" data-testid="whoami" truncate="end" miw={0} title={`${me.name} · ${me.party}`}>
              <b>{me.name}</b> · {me.party}
            </Text>
            <Group gap={4} visibleFrom="lg" wrap="nowrap">
              {me.roles.map((r) => (
                <Badge key={r} size="sm" variant="outline">
                  {r}
                </Badge>
              ))}
            </Group>
            <Button size="xs" variant="default" onClick={() => void logout()} style={{ flexShrink: 0 }}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <Stack gap={2} component="nav">
          {NAV.filter((n) => (n.can ? me.can[n.can] : !n.roles || has(...(n.roles as never[])))).map((n) => (
            <NavLink
              key={n.to}
              component={RouterLink}
              to={n.to}
              end={n.to === '/' || n.to === '/requests'}
              label={n.label}
              rightSection={
                n.count && counts[n.count] ? (
                  <Badge
                    size="sm"
                    variant="filled"
                    aria-label={`${counts[n.count]} ${n.count === 'work' ? 'waiting' : 'unread'}`}
                    data-testid={`nav-count-${n.count}`}
                  >
                    {counts[n.count]}
                  </Badge>
                ) : null
              }
            />
          ))}
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main id="main" ref={main} tabIndex={-1} style={{ outline: 'none' }}>
        <Routes>
          <Route path="/" element={<HomePage />} />
          <Route path="/requests" element={<RequestsPage />} />
          <Route path="/requests/new" element={<NewRequestPage />} />
          <Route path="/requests/:id" element={<RequestPage />} />
          <Route path="/requests/:id/edit" element={<EditDraftPage />} />
          <Route path="/requests/:id/report" element={<PostActionReportPage />} />
          <Route path="/requests/:id/nis2" element={<Nis2ReportsPage />} />
          <Route path="/deployments/:id" element={<DeploymentPage />} />
          <Route path="/deployments/:id/passes/:responderId" element={<PassPage />} />
          <Route path="/my/deployments" element={<MyDeploymentsPage />} />
          <Route path="/notifications" element={<NotificationsPage />} />
          <Route path="/search" element={<SearchPage />} />
          <Route path="/duty" element={<DutyPage />} />
          <Route path="/passes/verify" element={<PassVerifyPage />} />
          <Route path="/roster" element={<RosterPage />} />
          <Route path="/cases" element={<CasesPage />} />
          <Route path="/cases/:id" element={<CasePage />} />
          <Route path="/indicators" element={<IndicatorsPage />} />
          <Route path="/taxii" element={<TaxiiPage />} />
          <Route path="/misp/feeds" element={<MispFeedsPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/federation" element={<FederationPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="*" element={<Text>No such page.</Text>} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
