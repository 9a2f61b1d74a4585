// Who I am in SitePatch: name, role, where I sign in, and which connections I see.

import { Avatar, Badge, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { SessionUser } from '../api';
import { connectionNames, type ConnectionRef } from '../shared/connections';
import { ROLE_DESCRIPTIONS, ROLE_LABELS } from '../shared/roles';
import { Section } from '../shared/Section';

const useStyles = makeStyles({
  head: { display: 'flex', gap: '16px', alignItems: 'center' },
  list: {
    display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: '24px', rowGap: '8px', margin: 0,
    '& dt': { color: tokens.colorNeutralForeground3 }, '& dd': { margin: 0 },
  },
});

export function Profile({ user, connections }: { user: SessionUser; connections: ConnectionRef[] | null }) {
  const styles = useStyles();
  const name = user.displayName || user.username;
  return (
    <Section title="Profile">
      <div className={styles.head}>
        <Avatar name={name} size={56} color="brand" />
        <div>
          <Text block size={500} weight="semibold">{name}</Text>
          {user.displayName && <Text block size={200}>{user.username}</Text>}
        </div>
      </div>
      <dl className={styles.list} aria-label="Profile details">
        <dt>Username</dt><dd>{user.username}</dd>
        <dt>Role</dt><dd><Badge appearance="tint" color="brand">{ROLE_LABELS[user.role]}</Badge> <Text size={200}>{ROLE_DESCRIPTIONS[user.role]}</Text></dd>
        <dt>Signs in with</dt><dd>{user.source === 'entra' ? 'Microsoft Entra ID (Sign in with Microsoft)' : 'SitePatch password (local account)'}</dd>
        <dt>Connections</dt><dd data-testid="profile-connections">{connections === null && user.connectionIds !== null ? 'Loading…' : connectionNames(user.connectionIds, connections)}</dd>
        <dt>Two-step verification</dt>
        <dd>{user.source === 'entra' ? 'Managed by Microsoft Entra ID' : user.mfa.enrolled ? 'On (authenticator app)' : user.mfa.required ? 'Required, not set up' : 'Off'}</dd>
      </dl>
    </Section>
  );
}
