// A titled card on a workspace page, with its own commands under the title (primary first, left).

import { Card, Text, makeStyles } from '@fluentui/react-components';
import type { ReactNode } from 'react';

const useStyles = makeStyles({
  card: { padding: '16px 20px', display: 'flex', flexDirection: 'column', gap: '12px' },
  header: { display: 'flex', flexDirection: 'column', gap: '2px' },
  commands: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center' },
});

export function Section({ title, description, commands, children, label }: {
  title: string;
  description?: ReactNode;
  commands?: ReactNode;
  children?: ReactNode;
  /** The region's accessible name; the title by default. */
  label?: string;
}) {
  const styles = useStyles();
  return (
    <Card className={styles.card} role="region" aria-label={label ?? title}>
      <div className={styles.header}>
        <Text as="h2" weight="semibold" size={400} style={{ margin: 0 }}>{title}</Text>
        {description && <Text size={200}>{description}</Text>}
      </div>
      {commands && <div className={styles.commands}>{commands}</div>}
      {children}
    </Card>
  );
}
