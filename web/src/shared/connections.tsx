// Which connections (Defender tenants) a user or token may see: "All connections", or a chosen few.

import { Dropdown, Field, Option, Radio, RadioGroup, Text, makeStyles } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api, type Connection, type List } from '../api';

export interface ConnectionRef {
  id: string;
  name: string;
}

/** The connections the signed-in user can see (for pickers and names); null until loaded. */
export function useConnections(): ConnectionRef[] | null {
  const [connections, setConnections] = useState<ConnectionRef[] | null>(null);
  useEffect(() => {
    let live = true;
    api<List<Connection>>('GET', '/api/v1/connections')
      .then((list) => live && setConnections(list.items.map((c) => ({ id: c.id, name: c.name }))))
      .catch(() => live && setConnections([]));
    return () => { live = false; };
  }, []);
  return connections;
}

export function connectionNames(ids: string[] | null, connections: ConnectionRef[] | null): string {
  if (ids === null) return 'All connections';
  if (ids.length === 0) return 'None';
  return ids.map((id) => connections?.find((c) => c.id === id)?.name ?? id).join(', ');
}

const useStyles = makeStyles({
  picker: { display: 'flex', flexDirection: 'column', gap: '4px' },
  list: { marginLeft: '28px', minWidth: '240px', maxWidth: '420px' },
});

/**
 * `value` null means every connection, including ones added later. `allowAll` false (a scoped user
 * creating a token) offers only the chosen-few form. `validationMessage` shows under the picker.
 */
export function ConnectionsPicker({ label, value, onChange, connections, allowAll = true, disabled, validationMessage, hint }: {
  label: string;
  value: string[] | null;
  onChange: (value: string[] | null) => void;
  connections: ConnectionRef[] | null;
  allowAll?: boolean;
  disabled?: boolean;
  validationMessage?: string;
  hint?: string;
}) {
  const styles = useStyles();
  const chosen = value ?? [];
  const names = chosen.map((id) => connections?.find((c) => c.id === id)?.name ?? id).join(', ');
  const list = (
    <Dropdown
      className={styles.list}
      aria-label={`${label}: chosen connections`}
      multiselect
      disabled={disabled || value === null}
      placeholder={connections?.length === 0 ? 'No connections yet' : 'Choose connections'}
      value={names}
      selectedOptions={chosen}
      onOptionSelect={(_, d) => onChange(d.selectedOptions)}
    >
      {(connections ?? []).map((c) => <Option key={c.id} value={c.id}>{c.name}</Option>)}
    </Dropdown>
  );
  return (
    <Field label={label} validationMessage={validationMessage} hint={hint}>
      <div className={styles.picker}>
        {allowAll ? (
          <RadioGroup
            value={value === null ? 'all' : 'some'}
            disabled={disabled}
            onChange={(_, d) => onChange(d.value === 'all' ? null : chosen)}
            aria-label={label}
          >
            <Radio value="all" label="All connections (also the ones added later)" />
            <Radio value="some" label="Only these connections" />
          </RadioGroup>
        ) : <Text size={200}>Only connections you can see yourself.</Text>}
        {list}
      </div>
    </Field>
  );
}
