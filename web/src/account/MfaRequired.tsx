// Shown instead of the console when an administrator requires two-step verification and this
// account has none yet: set up the authenticator app (or sign out), nothing else.

import { Button, Card, MessageBar, MessageBarBody, MessageBarTitle, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { SignOutRegular } from '@fluentui/react-icons';
import { api, type Session } from '../api';
import { TotpEnrolment } from './TotpEnrolment';

const useStyles = makeStyles({
  top: {
    height: '48px', display: 'flex', alignItems: 'center', justifyContent: 'space-between', padding: '0 16px',
    backgroundColor: tokens.colorBrandBackground, color: tokens.colorNeutralForegroundOnBrand,
  },
  page: { display: 'flex', justifyContent: 'center', padding: '8vh 16px', backgroundColor: tokens.colorNeutralBackground2, minHeight: 'calc(100vh - 48px)', boxSizing: 'border-box' },
  card: { width: '720px', maxWidth: '100%', padding: '32px', display: 'flex', flexDirection: 'column', gap: '16px', alignSelf: 'flex-start' },
});

export function MfaRequired({ session, onEnrolled, onSignedOut }: { session: Session; onEnrolled: () => void; onSignedOut: () => void }) {
  const styles = useStyles();

  async function signOut() {
    try {
      await api('POST', '/api/v1/auth/logout');
    } catch {
      // Already signed out.
    }
    onSignedOut();
  }

  return (
    <>
      <header className={styles.top}>
        <Text weight="semibold" size={400}>SitePatch</Text>
        <span>
          <Text style={{ marginRight: 12 }}>{session.user.displayName || session.user.username}</Text>
          <Button appearance="transparent" icon={<SignOutRegular />} style={{ color: 'inherit' }} onClick={signOut}>Sign out</Button>
        </span>
      </header>
      <div className={styles.page}>
        <Card className={styles.card}>
          <Title2 as="h1" style={{ margin: 0 }}>Set up two-step verification</Title2>
          <MessageBar intent="warning">
            <MessageBarBody>
              <MessageBarTitle>Your organisation needs more information to keep your account secure.</MessageBarTitle>
              An administrator of SitePatch requires two-step verification for your account. Set up an authenticator app to continue; from then on, signing in asks for its code.
            </MessageBarBody>
          </MessageBar>
          <TotpEnrolment onEnrolled={onEnrolled} startLabel="Set up authenticator app" />
        </Card>
      </div>
    </>
  );
}
