// The console frame: top bar, left navigation, and the selected workspace.

import { Button, NavDrawer, NavDrawerBody, NavItem, Text, makeStyles, tokens } from '@fluentui/react-components';
import { HistoryRegular, ShieldCheckmarkRegular, SignOutRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { api } from './api';
import { AuditLog } from './AuditLog';
import { DefenderAccessSettings } from './DefenderAccessSettings';

const WORKSPACES = {
  defender: { path: '/defender', label: 'Windows Defender Endpoint', icon: <ShieldCheckmarkRegular /> },
  audit: { path: '/audit', label: 'Audit log', icon: <HistoryRegular /> },
} as const;
type Workspace = keyof typeof WORKSPACES;

const useStyles = makeStyles({
  frame: { display: 'grid', gridTemplateRows: '48px 1fr', gridTemplateColumns: '260px 1fr', minHeight: '100vh' },
  top: {
    gridColumn: '1 / 3', display: 'flex', alignItems: 'center', justifyContent: 'space-between', padding: '0 16px',
    backgroundColor: tokens.colorBrandBackground, color: tokens.colorNeutralForegroundOnBrand,
  },
  // The drawer's own height is the viewport; the rail keeps its colour down a long page.
  rail: { backgroundColor: tokens.colorNeutralBackground4 },
  main: { padding: '16px 24px', backgroundColor: tokens.colorNeutralBackground2, overflow: 'auto' },
});

function fromPath(): Workspace | undefined {
  return (Object.keys(WORKSPACES) as Workspace[]).find((k) => WORKSPACES[k].path === window.location.pathname);
}

export function Shell({ username, onSignedOut }: { username: string; onSignedOut: () => void }) {
  const styles = useStyles();
  const [workspace, setWorkspace] = useState<Workspace | undefined>(fromPath);

  useEffect(() => {
    const onPop = () => setWorkspace(fromPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  function open(next: Workspace) {
    window.history.pushState(null, '', WORKSPACES[next].path);
    setWorkspace(next);
  }

  async function signOut() {
    await api('POST', '/api/v1/auth/logout');
    onSignedOut();
  }

  return (
    <div className={styles.frame}>
      <header className={styles.top}>
        <Text weight="semibold" size={400}>SitePatch</Text>
        <span>
          <Text style={{ marginRight: 12 }}>{username}</Text>
          <Button appearance="transparent" icon={<SignOutRegular />} style={{ color: 'inherit' }} onClick={signOut}>Sign out</Button>
        </span>
      </header>
      <div className={styles.rail}>
        <NavDrawer open type="inline" selectedValue={workspace ?? ''} onNavItemSelect={(_, d) => open(d.value as Workspace)}>
          <NavDrawerBody>
            {(Object.keys(WORKSPACES) as Workspace[]).map((key) => (
              <NavItem key={key} value={key} icon={WORKSPACES[key].icon}>{WORKSPACES[key].label}</NavItem>
            ))}
          </NavDrawerBody>
        </NavDrawer>
      </div>
      <main className={styles.main}>
        {workspace === 'defender' && <DefenderAccessSettings />}
        {workspace === 'audit' && <AuditLog />}
        {!workspace && <Text>Choose <b>Windows Defender Endpoint</b> on the left to connect a Defender tenant.</Text>}
      </main>
    </div>
  );
}
