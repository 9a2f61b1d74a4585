// The Defender Access Settings workspace: the tenants SitePatch reads from, and the form that
// connects one. Save runs the live check first; a failure is explained at its field.
// Operators and analysts (canEdit false) see the connections read-only, without the secret;
// operators (canTest) may still run Test connection on a stored one, as they may Sync now.

import {
  Badge, Card, Dropdown, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Option, Text, Title3, Toolbar, ToolbarButton,
  ToolbarDivider, makeStyles, tokens,
} from '@fluentui/react-components';
import { AddRegular, DeleteRegular, PlugConnectedRegular, SaveRegular, SaveArrowRightRegular } from '@fluentui/react-icons';
import { useEffect, useRef, useState } from 'react';
import { api, ApiError, type Cloud, type Connection } from '../api';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';
import { SyncPanel } from './SyncPanel';

const CLOUD_LABELS: Record<Cloud, string> = { commercial: 'Commercial', gcc: 'GCC', 'gcc-high': 'GCC High', dod: 'DoD', custom: 'Custom' };

interface Form {
  name: string;
  cloud: Cloud;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  loginUrl: string;
  apiUrl: string;
  secretExpiresOn: string;
}

const EMPTY: Form = { name: '', cloud: 'commercial', tenantId: '', clientId: '', clientSecret: '', loginUrl: '', apiUrl: '', secretExpiresOn: '' };

interface Outcome {
  intent: 'success' | 'error' | 'warning';
  title: string;
  body?: string;
}

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  layout: { display: 'grid', gridTemplateColumns: 'minmax(320px, 1fr) minmax(380px, 1.2fr)', gap: '16px', marginTop: '12px', alignItems: 'start' },
  card: { padding: '16px', display: 'flex', flexDirection: 'column', gap: '12px' },
  banners: { display: 'flex', flexDirection: 'column', gap: '8px', marginTop: '8px' },
  details: {
    display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: '24px', rowGap: '8px', margin: 0,
    '& dt': { color: tokens.colorNeutralForeground3 }, '& dd': { margin: 0, wordBreak: 'break-all' },
  },
});

function formOf(c: Connection): Form {
  return {
    name: c.name, cloud: c.cloud, tenantId: c.tenantId, clientId: c.clientId, clientSecret: '',
    loginUrl: c.loginUrl ?? '', apiUrl: c.apiUrl ?? '', secretExpiresOn: c.secret.expiresOn ?? '',
  };
}

const COLUMNS: ListColumn<Connection>[] = [
  { id: 'name', header: 'Name', cell: (c) => <>{c.name}<br /><Text size={200}>{c.tenantId}</Text></> },
  { id: 'cloud', header: 'Cloud', cell: (c) => CLOUD_LABELS[c.cloud] },
  { id: 'status', header: 'Status', cell: (c) => <StatusBadge status={c.status} /> },
];

function StatusBadge({ status }: { status: Connection['status'] }) {
  if (status === 'connected') return <Badge color="success" appearance="filled">Connected</Badge>;
  if (status === 'failed') return <Badge color="danger" appearance="filled">Check failed</Badge>;
  return <Badge color="warning" appearance="outline">Not checked</Badge>;
}

function ReadOnlyDetails({ connection, canTest }: { connection: Connection; canTest: boolean }) {
  const styles = useStyles();
  const rows: [string, string][] = [
    ['Name', connection.name],
    ['Tenant ID', connection.tenantId],
    ['Application ID', connection.clientId],
    ['Cloud', CLOUD_LABELS[connection.cloud]],
    ...(connection.cloud === 'custom' ? [['Login URL', connection.loginUrl ?? ''], ['API URL', connection.apiUrl ?? '']] as [string, string][] : []),
    ['Secret expires on', connection.secret.expiresOn ?? 'Not entered'],
    ['Last checked', connection.lastCheckedAt ? new Date(connection.lastCheckedAt).toLocaleString() : 'Never'],
  ];
  return (
    <Card className={styles.card}>
      <Text weight="semibold">{connection.name}</Text>
      <dl className={styles.details}>
        {rows.map(([label, value]) => (
          <div key={label} style={{ display: 'contents' }}><dt>{label}</dt><dd>{value}</dd></div>
        ))}
        <dt>Status</dt><dd><StatusBadge status={connection.status} /></dd>
      </dl>
      <Text size={200}>Only an administrator can change or remove connections.{canTest ? ' Test connection checks the stored settings.' : ''}</Text>
    </Card>
  );
}

export function DefenderAccessSettings({ canEdit = true, canTest = true, canSync = true }: { canEdit?: boolean; canTest?: boolean; canSync?: boolean }) {
  const styles = useStyles();
  const list = useList<Connection>({ path: '/api/v1/connections' });
  const connections = list.items ?? [];
  const [selected, setSelected] = useState<string | 'new'>('new');
  const [form, setForm] = useState<Form>(EMPTY);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const current = connections.find((c) => c.id === selected);

  // The first connection is selected when the list first arrives.
  const firstShown = useRef(false);
  useEffect(() => {
    if (firstShown.current || !list.items) return;
    firstShown.current = true;
    if (list.items[0]) {
      setSelected(list.items[0].id);
      setForm(formOf(list.items[0]));
    }
  }, [list.items]);

  const refresh = async () => (await list.reload()) ?? [];

  function choose(id: string | 'new') {
    setSelected(id);
    const connection = connections.find((c) => c.id === id);
    setForm(connection ? formOf(connection) : EMPTY);
    setFieldErrors({});
    setOutcome(null);
  }

  const set = (key: keyof Form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));

  function showFailure(e: unknown) {
    if (e instanceof ApiError) {
      setFieldErrors(e.body.fields ?? (e.body.field ? { [e.body.field]: e.body.message } : {}));
      setOutcome({ intent: 'error', title: e.body.message, body: e.body.fix ? `How to fix it: ${e.body.fix}` : undefined });
    } else {
      setOutcome({ intent: 'error', title: 'The console could not be reached. Check that SitePatch is running.' });
    }
  }

  async function run(action: () => Promise<Connection>, success: (c: Connection) => Outcome) {
    setBusy(true);
    setOutcome(null);
    setFieldErrors({});
    try {
      const saved = await action();
      const items = await refresh();
      const fresh = items.find((c) => c.id === saved.id) ?? saved;
      setSelected(fresh.id);
      setForm(formOf(fresh));
      setOutcome(success(fresh));
    } catch (e) {
      showFailure(e);
      if (e instanceof ApiError && selected !== 'new') await refresh();
    } finally {
      setBusy(false);
    }
  }

  function payload(): Record<string, string | null> {
    const body: Record<string, string | null> = {
      name: form.name || null, cloud: form.cloud, tenantId: form.tenantId, clientId: form.clientId,
      secretExpiresOn: form.secretExpiresOn || null,
    };
    if (form.cloud === 'custom') Object.assign(body, { loginUrl: form.loginUrl, apiUrl: form.apiUrl });
    if (form.clientSecret || !current) body.clientSecret = form.clientSecret;
    return body;
  }

  const save = (skipCheck: boolean) => run(
    () => (current
      ? api<Connection>('PATCH', `/api/v1/connections/${current.id}${skipCheck ? '?skipCheck=true' : ''}`, payload())
      : api<Connection>('POST', `/api/v1/connections${skipCheck ? '?skipCheck=true' : ''}`, payload())),
    (c) => (skipCheck
      ? { intent: 'warning', title: `Saved "${c.name}" without checking it.`, body: 'Use Test connection to check it when the setup is complete.' }
      : { intent: 'success', title: `Connected to "${c.name}".`, body: 'Microsoft Entra ID issued a token with Vulnerability.Read.All, and Defender answered.' }),
  );

  const test = () => current && run(
    () => api<Connection>('POST', `/api/v1/connections/${current.id}/test`),
    (c) => ({ intent: 'success', title: `Connected to "${c.name}".`, body: 'The stored settings still work.' }),
  );

  async function remove() {
    if (!current || !window.confirm(`Remove the connection "${current.name}"? SitePatch stops reading this tenant.`)) return;
    await api('DELETE', `/api/v1/connections/${current.id}`);
    const items = await refresh();
    setOutcome({ intent: 'success', title: `Removed "${current.name}".` });
    setSelected(items[0]?.id ?? 'new');
    setForm(items[0] ? formOf(items[0]) : EMPTY);
  }

  const error = (key: keyof Form) => fieldErrors[key];
  const secretHint = current
    ? `Secret set ${new Date(current.secret.setAt).toLocaleDateString()} · ${current.secret.hint}•••••• — leave empty to keep it, or paste a new Value to replace it.`
    : 'The secret\'s Value from Certificates & secrets (shown once, when the secret is created) — not the Secret ID.';

  return (
    <>
      {canEdit && <Toolbar aria-label="Defender Access Settings actions" className={styles.toolbar}>
        <ToolbarButton appearance="primary" icon={<SaveRegular />} onClick={() => save(false)} disabled={busy}>Save</ToolbarButton>
        <ToolbarButton icon={<SaveArrowRightRegular />} onClick={() => save(true)} disabled={busy}>Save without checking</ToolbarButton>
        <ToolbarDivider />
        <ToolbarButton icon={<PlugConnectedRegular />} onClick={test} disabled={busy || !current}>Test connection</ToolbarButton>
        <ToolbarButton icon={<AddRegular />} onClick={() => choose('new')} disabled={busy}>New connection</ToolbarButton>
        <ToolbarButton icon={<DeleteRegular />} onClick={remove} disabled={busy || !current}>Remove</ToolbarButton>
      </Toolbar>}
      {!canEdit && canTest && connections.length > 0 && <Toolbar aria-label="Defender Access Settings actions" className={styles.toolbar}>
        <ToolbarButton appearance="primary" icon={<PlugConnectedRegular />} onClick={test} disabled={busy || !current}>Test connection</ToolbarButton>
      </Toolbar>}
      <Title3 as="h1">Defender Access Settings</Title3>
      <div className={styles.banners}>
        {connections.flatMap((c) => c.warnings.map((w) => (
          <MessageBar key={`${c.id}-${w.code}`} intent="warning"><MessageBarBody><MessageBarTitle>{c.name}</MessageBarTitle>{w.message}</MessageBarBody></MessageBar>
        )))}
        {busy && <MessageBar intent="info"><MessageBarBody>Checking: signing in to Microsoft Entra ID, reading the token's roles, calling Defender…</MessageBarBody></MessageBar>}
        {outcome && (
          <MessageBar intent={outcome.intent} role="status" data-testid="outcome">
            <MessageBarBody><MessageBarTitle>{outcome.title}</MessageBarTitle>{outcome.body && <div>{outcome.body}</div>}</MessageBarBody>
          </MessageBar>
        )}
      </div>
      <div className={styles.layout}>
        <Card className={styles.card}>
          <Text weight="semibold">Connected tenants</Text>
          <DataList
            list={list}
            columns={COLUMNS}
            label="Connections"
            noun={['connection', 'connections']}
            rowId={(c) => c.id}
            selectedId={selected}
            onSelect={(c) => choose(c.id)}
            empty={canEdit ? 'No tenant yet. Fill in the form and click Save.' : 'No tenant is connected yet: an administrator connects tenants here.'}
          />
        </Card>
        {!canEdit && current && <ReadOnlyDetails connection={current} canTest={canTest} />}
        {canEdit && <Card className={styles.card}>
          <Text weight="semibold">{current ? `Edit "${current.name}"` : 'New connection'}</Text>
          <Field label="Name" hint="How this tenant appears in SitePatch." validationMessage={error('name')}>
            <Input value={form.name} onChange={(_, d) => set('name')(d.value)} placeholder="Contoso" />
          </Field>
          <Field label="Tenant ID" required hint="Directory (tenant) ID, on the app's Overview page." validationMessage={error('tenantId')}>
            <Input value={form.tenantId} onChange={(_, d) => set('tenantId')(d.value)} placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" />
          </Field>
          <Field label="Application ID" required hint="Application (client) ID, on the app's Overview page." validationMessage={error('clientId')}>
            <Input value={form.clientId} onChange={(_, d) => set('clientId')(d.value)} placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" />
          </Field>
          <Field label="Client Secret" required={!current} hint={secretHint} validationMessage={error('clientSecret')}>
            <Input type="password" value={form.clientSecret} onChange={(_, d) => set('clientSecret')(d.value)} autoComplete="off" />
          </Field>
          <Field label="Cloud" validationMessage={error('cloud')}>
            <Dropdown value={CLOUD_LABELS[form.cloud]} selectedOptions={[form.cloud]} onOptionSelect={(_, d) => set('cloud')(d.optionValue as Cloud)}>
              {(Object.keys(CLOUD_LABELS) as Cloud[]).map((c) => <Option key={c} value={c}>{CLOUD_LABELS[c]}</Option>)}
            </Dropdown>
          </Field>
          {form.cloud === 'custom' && (
            <>
              <Field label="Login URL" required hint="Sign-in base URL, e.g. https://login.microsoftonline.com" validationMessage={error('loginUrl')}>
                <Input value={form.loginUrl} onChange={(_, d) => set('loginUrl')(d.value)} />
              </Field>
              <Field label="API URL" required hint="Defender API base URL, e.g. https://api.securitycenter.microsoft.com" validationMessage={error('apiUrl')}>
                <Input value={form.apiUrl} onChange={(_, d) => set('apiUrl')(d.value)} />
              </Field>
            </>
          )}
          <Field label="Secret expires on" hint="Optional: the Expires date under Certificates & secrets. SitePatch warns 30 days ahead." validationMessage={error('secretExpiresOn')}>
            <Input type="date" value={form.secretExpiresOn} onChange={(_, d) => set('secretExpiresOn')(d.value)} />
          </Field>
          {current?.lastCheckedAt && <Text size={200}>Last checked {new Date(current.lastCheckedAt).toLocaleString()}: <StatusBadge status={current.status} /></Text>}
        </Card>}
      </div>
      {current && <SyncPanel key={current.id} connectionId={current.id} canSync={canSync} />}
    </>
  );
}
