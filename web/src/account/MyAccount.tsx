// My account: profile, password, two-step verification, sessions and API tokens.

import { Title3, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import type { Session } from '../api';
import { useConnections } from '../shared/connections';
import { ApiTokens } from './ApiTokens';
import { PasswordChange } from './PasswordChange';
import { Profile } from './Profile';
import { SignInSessions } from './SignInSessions';
import { TwoStepVerification } from './TwoStepVerification';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: '16px', marginTop: '12px', maxWidth: '1200px' },
  pair: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(380px, 1fr))', gap: '16px', alignItems: 'start' },
});

export function MyAccount({ session, onSessionChanged, onSignedOut }: { session: Session; onSessionChanged: () => void; onSignedOut: () => void }) {
  const styles = useStyles();
  const connections = useConnections();
  const [sessionsVersion, setSessionsVersion] = useState(0);
  const { user } = session;
  return (
    <>
      <Title3 as="h1">My account</Title3>
      <div className={styles.page}>
        <div className={styles.pair}>
          <Profile user={user} connections={connections} />
          {user.source === 'local' && <PasswordChange onChanged={() => setSessionsVersion((v) => v + 1)} />}
        </div>
        <TwoStepVerification user={user} onChanged={onSessionChanged} />
        <SignInSessions version={sessionsVersion} onSignedOut={onSignedOut} />
        <ApiTokens me={user} connections={connections} />
      </div>
    </>
  );
}
