// The console frame: top bar (who is signed in, as what), left navigation with what the role may
// use, and the selected workspace. Each workspace has its own path (/defender, /users, /account…).

import {
  Badge, Button, MessageBar, MessageBarBody, MessageBarTitle, NavDivider, NavDrawer, NavDrawerBody, NavDrawerFooter, NavItem,
  Text, makeStyles, tokens,
} from '@fluentui/react-components';
import { HistoryRegular, LockClosedRegular, PeopleRegular, PersonCircleRegular, ShieldCheckmarkRegular, SignOutRegular } from '@fluentui/react-icons';
import { useEffect, useState, type ReactElement } from 'react';
import { MyAccount } from './account/MyAccount';
import { api, type Role, type Session } from './api';
import { AuditLog } from './AuditLog';
import { DefenderAccessSettings } from './DefenderAccessSettings';
import { SecuritySettings } from './settings/SecuritySettings';
import { ROLE_LABELS } from './shared/roles';
import { Users } from './users/Users';

interface WorkspaceInfo {
  path: string;
  label: string;
  icon: ReactElement;
  roles: readonly Role[];
}

const ALL: readonly Role[] = ['admin', 'operator', 'analyst'];
const ADMIN: readonly Role[] = ['admin'];

const WORKSPACES = {
  defender: { path: '/defender', label: 'Windows Defender Endpoint', icon: <ShieldCheckmarkRegular />, roles: ALL },
  audit: { path: '/audit', label: 'Audit log', icon: <HistoryRegular />, roles: ADMIN },
  users: { path: '/users', label: 'Users', icon: <PeopleRegular />, roles: ADMIN },
  security: { path: '/settings/security', label: 'Security settings', icon: <LockClosedRegular />, roles: ADMIN },
  account: { path: '/account', label: 'My account', icon: <PersonCircleRegular />, roles: ALL },
} satisfies Record<string, WorkspaceInfo>;
type Workspace = keyof typeof WORKSPACES;
const MAIN_NAV: Workspace[] = ['defender', 'audit', 'users', 'security'];

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

function fromPath(): Workspace | undefined {
  const path = window.location.pathname.replace(/\/+$/, '');
  return (Object.keys(WORKSPACES) as Workspace[]).find((k) => WORKSPACES[k].path === path);
}

export function Shell({ session, onSessionChanged, onSignedOut }: { session: Session; onSessionChanged: () => void; onSignedOut: () => void }) {
  const styles = useStyles();
  const { user } = session;
  const [workspace, setWorkspace] = useState<Workspace | undefined>(fromPath);
  const allowed = (key: Workspace) => (WORKSPACES[key].roles as readonly Role[]).includes(user.role);

  useEffect(() => {
    const onPop = () => setWorkspace(fromPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  function open(next: Workspace) {
    if (window.location.pathname !== WORKSPACES[next].path) window.history.pushState(null, '', WORKSPACES[next].path);
    setWorkspace(next);
  }

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

  const name = user.displayName || user.username;
  return (
    <div className={styles.frame}>
      <header className={styles.top}>
        <Text weight="semibold" size={400}>SitePatch</Text>
        <span className={styles.who}>
          <Button appearance="transparent" className={styles.onBrand} icon={<PersonCircleRegular />} onClick={() => open('account')} title="My account">
            <span data-testid="signed-in-user">{name}</span>
          </Button>
          <Badge appearance="tint" className={styles.role} data-testid="signed-in-role">{ROLE_LABELS[user.role]}</Badge>
          <Button appearance="transparent" icon={<SignOutRegular />} className={styles.onBrand} onClick={signOut}>Sign out</Button>
        </span>
      </header>
      <div className={styles.rail}>
        <NavDrawer open type="inline" selectedValue={workspace ?? ''} onNavItemSelect={(_, d) => open(d.value as Workspace)} style={{ height: '100%' }}>
          <NavDrawerBody>
            {MAIN_NAV.filter(allowed).map((key) => (
              <NavItem key={key} value={key} icon={WORKSPACES[key].icon}>{WORKSPACES[key].label}</NavItem>
            ))}
          </NavDrawerBody>
          <NavDrawerFooter className={styles.footer}>
            <NavDivider />
            <NavItem value="account" icon={WORKSPACES.account.icon}>{WORKSPACES.account.label}</NavItem>
          </NavDrawerFooter>
        </NavDrawer>
      </div>
      <main className={styles.main}>
        {workspace && !allowed(workspace) && (
          <MessageBar intent="warning">
            <MessageBarBody>
              <MessageBarTitle>You don't have access to {WORKSPACES[workspace].label}.</MessageBarTitle>
              Your role is {ROLE_LABELS[user.role]}; this page needs Administrator. Ask an administrator of SitePatch to change your role under Users.
            </MessageBarBody>
          </MessageBar>
        )}
        {workspace === 'defender' && <DefenderAccessSettings canEdit={user.role === 'admin'} canTest={user.role !== 'analyst'} canSync={user.role !== 'analyst'} />}
        {workspace === 'audit' && allowed('audit') && <AuditLog />}
        {workspace === 'users' && allowed('users') && <Users me={user} />}
        {workspace === 'security' && allowed('security') && <SecuritySettings />}
        {workspace === 'account' && <MyAccount session={session} onSessionChanged={onSessionChanged} onSignedOut={onSignedOut} />}
        {!workspace && <Text>Choose <b>Windows Defender Endpoint</b> on the left to {user.role === 'admin' ? 'connect a Defender tenant' : 'see the connected Defender tenants'}.</Text>}
      </main>
    </div>
  );
}
