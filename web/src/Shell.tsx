// The console frame: top bar (who is signed in, as what, the theme), left navigation with what the
// role may use, and the workspace the address names. Each workspace has its own path (/overview,
// /vulnerabilities, /findings, /remediations, /defender, /users, /account…) and folder, and a
// detail page below it (/vulnerabilities/CVE-2024-1234); a path the role may not use says so
// instead of showing it. The overview is where the console opens. The patch work (remediations,
// coverage gaps, exceptions) follows the exposure pages; Patch content (/content) sits with the
// settings workspaces.

import {
  Badge, Button, MessageBar, MessageBarBody, MessageBarTitle, NavDivider, NavDrawer, NavDrawerBody, NavDrawerFooter, NavItem,
  Text, makeStyles, tokens,
} from '@fluentui/react-components';
import {
  AppsListRegular, BugRegular, BuildingMultipleRegular, CalendarClockRegular, DataAreaRegular, DesktopRegular, HistoryRegular, LockClosedRegular, PeopleRegular,
  PatchRegular, PersonCircleRegular, ShieldCheckmarkRegular, ShieldDismissRegular, ShieldErrorRegular, ShieldTaskRegular, SignOutRegular, WrenchRegular,
} from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { MyAccount } from './account/MyAccount';
import { api, type Role, type Session } from './api';
import { AuditLog } from './audit/AuditLog';
import { PatchContent } from './content/PatchContent';
import { DefenderAccessSettings } from './defender/DefenderAccessSettings';
import { Device } from './devices/Device';
import { Devices } from './devices/Devices';
import { Findings } from './findings/Findings';
import { Overview } from './overview/Overview';
import { CoverageGaps } from './remediation/CoverageGaps';
import { Exceptions } from './remediation/Exceptions';
import { Remediation } from './remediation/Remediation';
import { Remediations } from './remediation/Remediations';
import { SecuritySettings } from './settings/SecuritySettings';
import { useRouterLink } from './shared/links';
import { ROLE_LABELS, roleAtLeast } from './shared/roles';
import { ThemeToggle } from './shared/theme';
import { SlaCompliance } from './sla/SlaCompliance';
import { SoftwarePage } from './software/SoftwarePage';
import { Software } from './software/Software';
import { Tenants } from './tenants/Tenants';
import { Users } from './users/Users';
import { Vulnerabilities } from './vulnerabilities/Vulnerabilities';
import { Vulnerability } from './vulnerabilities/Vulnerability';

interface WorkspaceInfo {
  path: string;
  label: string;
  icon: ReactElement;
  /** The least role that may use it. */
  role: Role;
}

const WORKSPACES = {
  overview: { path: '/overview', label: 'Overview', icon: <DataAreaRegular />, role: 'analyst' },
  vulnerabilities: { path: '/vulnerabilities', label: 'Vulnerabilities', icon: <ShieldErrorRegular />, role: 'analyst' },
  devices: { path: '/devices', label: 'Devices', icon: <DesktopRegular />, role: 'analyst' },
  software: { path: '/software', label: 'Software', icon: <AppsListRegular />, role: 'analyst' },
  findings: { path: '/findings', label: 'Findings', icon: <BugRegular />, role: 'analyst' },
  sla: { path: '/sla', label: 'SLA compliance', icon: <CalendarClockRegular />, role: 'analyst' },
  tenants: { path: '/tenants', label: 'Tenants', icon: <BuildingMultipleRegular />, role: 'analyst' },
  remediations: { path: '/remediations', label: 'Remediations', icon: <WrenchRegular />, role: 'analyst' },
  coverageGaps: { path: '/coverage-gaps', label: 'Coverage gaps', icon: <ShieldDismissRegular />, role: 'analyst' },
  exceptions: { path: '/exceptions', label: 'Exceptions', icon: <ShieldTaskRegular />, role: 'analyst' },
  defender: { path: '/defender', label: 'Windows Defender Endpoint', icon: <ShieldCheckmarkRegular />, role: 'analyst' },
  content: { path: '/content', label: 'Patch content', icon: <PatchRegular />, role: 'analyst' },
  audit: { path: '/audit', label: 'Audit log', icon: <HistoryRegular />, role: 'admin' },
  users: { path: '/users', label: 'Users', icon: <PeopleRegular />, role: 'admin' },
  security: { path: '/settings/security', label: 'Security settings', icon: <LockClosedRegular />, role: 'admin' },
  account: { path: '/account', label: 'My account', icon: <PersonCircleRegular />, role: 'analyst' },
} satisfies Record<string, WorkspaceInfo>;
type Workspace = keyof typeof WORKSPACES;
/** The exposure pages, the patch work, then the settings workspaces, each under a divider. */
const EXPOSURE_NAV: Workspace[] = ['overview', 'vulnerabilities', 'devices', 'software', 'findings', 'tenants'];
const REMEDIATION_NAV: Workspace[] = ['remediations', 'coverageGaps', 'exceptions', 'sla'];
const SETTINGS_NAV: Workspace[] = ['defender', 'content', 'audit', 'users', 'security'];

const useStyles = makeStyles({
  frame: { display: 'grid', gridTemplateRows: '48px 1fr', gridTemplateColumns: '260px 1fr', minHeight: '100vh' },
  top: {
    gridColumn: '1 / 3', display: 'flex', alignItems: 'center', justifyContent: 'space-between', padding: '0 16px',
    backgroundColor: tokens.colorBrandBackground, color: tokens.colorNeutralForegroundOnBrand,
  },
  who: { display: 'flex', alignItems: 'center', gap: '8px' },
  onBrand: { color: 'inherit' },
  role: { backgroundColor: tokens.colorBrandBackground2, color: tokens.colorBrandForeground2 },
  // The drawer's own height is the viewport; the rail keeps its colour down a long page.
  rail: { backgroundColor: tokens.colorNeutralBackground4 },
  // Line the footer's item up with the body's (the footer has no padding of its own).
  footer: { padding: '0 4px 12px 10px' },
  main: { padding: '16px 24px', backgroundColor: tokens.colorNeutralBackground2, overflow: 'auto' },
});

/** The workspace whose path the address is, or is below. */
function workspaceAt(pathname: string): Workspace | undefined {
  return (Object.keys(WORKSPACES) as Workspace[]).find((k) => pathname === WORKSPACES[k].path || pathname.startsWith(`${WORKSPACES[k].path}/`));
}

function NavLink({ workspace }: { workspace: Workspace }) {
  const { path, icon, label } = WORKSPACES[workspace];
  return <NavItem as="a" value={workspace} icon={icon} {...useRouterLink(path)}>{label}</NavItem>;
}

function NoAccess({ workspace, role }: { workspace: Workspace; role: Role }) {
  return (
    <MessageBar intent="warning">
      <MessageBarBody>
        <MessageBarTitle>You don't have access to {WORKSPACES[workspace].label}.</MessageBarTitle>
        Your role is {ROLE_LABELS[role]}; this page needs {ROLE_LABELS[WORKSPACES[workspace].role]}. Ask an administrator of SitePatch to change your role under Users.
      </MessageBarBody>
    </MessageBar>
  );
}

export function Shell({ session, onSessionChanged, onSignedOut }: { session: Session; onSessionChanged: () => void; onSignedOut: () => void }) {
  const styles = useStyles();
  const { pathname } = useLocation();
  const accountLink = useRouterLink(WORKSPACES.account.path);
  const { user } = session;
  const allowed = (key: Workspace) => roleAtLeast(user.role, WORKSPACES[key].role);
  const name = user.displayName || user.username;
  // Analysts read exceptions; operators and administrators accept risks (the API says the same).
  const canChangeExceptions = roleAtLeast(user.role, 'operator');

  async function signOut() {
    try {
      const result = await api<{ signedOut: boolean; redirectTo?: string }>('POST', '/api/v1/auth/logout');
      // Entra accounts: the server may send the browser on to Microsoft's sign-out page.
      if (result?.redirectTo) {
        window.location.assign(result.redirectTo);
        return;
      }
    } catch {
      // Already signed out (timed out, or ended elsewhere): the sign-in page is the right place anyway.
    }
    onSignedOut();
  }

  const pages: Record<Workspace, ReactElement> = {
    overview: <Overview />,
    vulnerabilities: <Vulnerabilities />,
    devices: <Devices />,
    software: <Software />,
    tenants: <Tenants />,
    findings: <Findings />,
    remediations: <Remediations />,
    coverageGaps: <CoverageGaps />,
    exceptions: <Exceptions canEdit={canChangeExceptions} defaultOwner={name} />,
    sla: <SlaCompliance />,
    defender: <DefenderAccessSettings canEdit={user.role === 'admin'} canTest={user.role !== 'analyst'} canSync={user.role !== 'analyst'} />,
    content: <PatchContent canImport={roleAtLeast(user.role, 'operator')} />,
    audit: <AuditLog />,
    users: <Users me={user} />,
    security: <SecuritySettings />,
    account: <MyAccount session={session} onSessionChanged={onSessionChanged} onSignedOut={onSignedOut} />,
  };
  /** The page of one item below a workspace's list: /vulnerabilities/CVE-2024-1234. */
  const details: Partial<Record<Workspace, ReactElement>> = {
    vulnerabilities: <Vulnerability />,
    devices: <Device />,
    software: <SoftwarePage />,
    remediations: <Remediation canCreateException={canChangeExceptions} defaultOwner={name} />,
  };
  const notFound = <Text>There is no page at this address. Choose a workspace on the left.</Text>;
  return (
    <div className={styles.frame}>
      <header className={styles.top}>
        <Text weight="semibold" size={400}>SitePatch</Text>
        <span className={styles.who}>
          <ThemeToggle className={styles.onBrand} />
          <Button as="a" appearance="transparent" className={styles.onBrand} icon={<PersonCircleRegular />} {...accountLink} title="My account">
            <span data-testid="signed-in-user">{name}</span>
          </Button>
          <Badge appearance="tint" className={styles.role} data-testid="signed-in-role">{ROLE_LABELS[user.role]}</Badge>
          <Button appearance="transparent" icon={<SignOutRegular />} className={styles.onBrand} onClick={signOut}>Sign out</Button>
        </span>
      </header>
      <div className={styles.rail}>
        <NavDrawer open type="inline" selectedValue={workspaceAt(pathname) ?? ''} style={{ height: '100%' }}>
          <NavDrawerBody>
            {EXPOSURE_NAV.filter(allowed).map((key) => <NavLink key={key} workspace={key} />)}
            <NavDivider />
            {REMEDIATION_NAV.filter(allowed).map((key) => <NavLink key={key} workspace={key} />)}
            <NavDivider />
            {SETTINGS_NAV.filter(allowed).map((key) => <NavLink key={key} workspace={key} />)}
          </NavDrawerBody>
          <NavDrawerFooter className={styles.footer}>
            <NavDivider />
            <NavLink workspace="account" />
          </NavDrawerFooter>
        </NavDrawer>
      </div>
      <main className={styles.main}>
        <Routes>
          <Route path="/" element={<Navigate to={WORKSPACES.overview.path} replace />} />
          {(Object.keys(WORKSPACES) as Workspace[]).map((key) => (
            <Route key={key} path={WORKSPACES[key].path} element={allowed(key) ? pages[key] : <NoAccess workspace={key} role={user.role} />} />
          ))}
          {(Object.keys(details) as Workspace[]).map((key) => (
            <Route key={`${key}/:id`} path={`${WORKSPACES[key].path}/:id`} element={allowed(key) ? details[key] : <NoAccess workspace={key} role={user.role} />} />
          ))}
          <Route path="*" element={notFound} />
        </Routes>
      </main>
    </div>
  );
}
