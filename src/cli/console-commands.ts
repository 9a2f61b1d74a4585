// `sitepatch serve | worker | users add | token create | doctor`. Accounts and tokens are managed
// on either store; the other commands need the console's services (the embedded store so far).

import { Command, InvalidArgumentError, Option } from 'commander';
import { checkConnection } from '../connections/check.js';
import { checkConnectionFields } from '../connections/input.js';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadSettings, type Settings, type SettingsInput } from '../config/settings.js';
import { createSecretBox, loadMasterKey, masterKeyLocation, sharedMasterKey } from '../connections/secret-box.js';
import { CLOUDS } from '../entra/clouds.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { openPostgresServices } from '../server/postgres-services.js';
import { openServices, startConsole, type ConsoleServices } from '../server/runtime.js';
import { openStore } from '../store/database.js';
import { openPostgresStore } from '../store/postgres/store.js';
import { createAccounts, type Accounts } from '../users/accounts.js';
import { createAuditLog, type AuditLog } from '../users/audit.js';
import { ROLES, type Role } from '../users/principal.js';
import { createSecuritySettings } from '../users/security-settings.js';
import { runMigrateStore } from './migrate-store.js';
import { readSecret } from './read-secret.js';
import { runContentImportWithProgress, runSyncWithProgress } from './sync-progress.js';
import { FEEDS, type ImportSource } from '../content/imports.js';
import { demoPastSummary, demoProgressPrinter } from '../demo/progress.js';
import type { SyncKind } from '../sync/runs.js';
import { createLogger } from '../server/app.js';
import { startWorker } from '../workers/worker.js';

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535.');
  return value;
}

/** Flags every console command shares: where the data lives and which config file to read. */
function withDataFlags(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (env SITEPATCH_DATA_DIR; default ./sitepatch-data)')
    .option('--config <file>', 'JSON config file (default: sitepatch.json in the data directory, if present)');
}

function settingsFrom(flags: Record<string, unknown>, extra: SettingsInput = {}) {
  return loadSettings({ dataDir: flags.dataDir, configFile: flags.config as string | undefined, ...extra });
}

function serveCommand(): Command {
  return withDataFlags(new Command('serve'))
    .description('Run the SitePatch console: REST API under /api/v1 and the web console.')
    .option('--port <n>', 'port (env PORT; default 8080; 0 picks a free one)', port)
    .option('--host <address>', 'address to listen on (env SITEPATCH_HOST; default 127.0.0.1)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
    .option('--extra-ca-file <pem>', 'trust this CA for Entra and Defender too (env SITEPATCH_EXTRA_CA_FILE), e.g. a TLS-inspecting proxy')
    .option('--demo', 'also run an emulated Defender tenant and connect it (no Microsoft account needed)')
    .option('--demo-devices <n>', 'devices in the demo tenant (default 500)')
    .option('--no-worker', 'web only: leave the syncs and the schedule to `sitepatch worker` processes (a PostgreSQL install)')
    .action(async (flags: Record<string, unknown>) => {
      const settings = settingsFrom(flags, {
        port: flags.port, host: flags.host, logLevel: flags.logLevel, extraCaFile: flags.extraCaFile, demo: flags.demo, demoDevices: flags.demoDevices,
      });
      if (flags.worker === false && !settings.databaseUrl) {
        throw new Error('--no-worker leaves the syncs to `sitepatch worker` processes, which serve a PostgreSQL install (SITEPATCH_DATABASE_URL); the embedded store syncs in the console\'s own process: drop --no-worker.');
      }
      // Demo: on the first start the console syncs the emulated tenant's last 90 days before it is ready.
      const running = await startConsole(settings, { onDemoProgress: settings.demo ? demoProgressPrinter() : undefined, worker: flags.worker !== false });
      const setupNeeded = (await running.services.accounts.count()) === 0;
      process.stderr.write([
        running.demoPast ? demoPastSummary(running.demoPast) : '',
        `SitePatch console: ${running.url}  (data: ${settings.dataDir})`,
        setupNeeded ? 'First run: open the console to create the administrator, or restart with SITEPATCH_ADMIN_PASSWORD set.' : '',
        running.demo ? `Demo: an emulated Defender tenant (${running.demo.devices} devices) runs at ${running.demo.apiUrl}; the connection "Demo tenant (emulator)" points at it.` : '',
        running.demo && !settings.entraTenantId ? `Demo: "Sign in with Microsoft" uses the emulated Entra ID; its test users: ${running.demo.users.map((u) => `${u.username} / ${u.password} (${u.roles.join(', ') || 'no role'})`).join('; ')}.` : '',
      ].filter(Boolean).join('\n') + '\n');
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function workerCommand(): Command {
  return withDataFlags(new Command('worker'))
    .description('Run the sync jobs of a PostgreSQL install (SITEPATCH_DATABASE_URL), beside its web processes; run as many as the syncs need.')
    .option('--syncs <n>', 'syncs this worker runs at once (env SITEPATCH_WORKER_SYNCS; default 2)')
    .option('--port <n>', 'port of /health, /ready and /metrics (env SITEPATCH_WORKER_PORT; default 9464; 0 picks a free one)', port)
    .option('--host <address>', 'address to listen on (env SITEPATCH_HOST; default 127.0.0.1)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
    .option('--extra-ca-file <pem>', 'trust this CA for Entra and Defender too (env SITEPATCH_EXTRA_CA_FILE)')
    .action(async (flags: Record<string, unknown>) => {
      const settings = settingsFrom(flags, { workerSyncs: flags.syncs, workerPort: flags.port, host: flags.host, logLevel: flags.logLevel, extraCaFile: flags.extraCaFile });
      const worker = await startWorker(settings, createLogger(settings.logLevel));
      const stop = () => void worker.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

const roleOption = () => new Option('--role <role>', 'admin (everything), operator (sync and remediation; no secrets, no users) or analyst (read-only)').choices([...ROLES]);
const connectionsOption = () => new Option('--connections <ids>', 'limit to these connections (comma-separated ids); default: all').argParser((text: string) => text.split(',').map((id) => id.trim()).filter(Boolean));

/**
 * The services of the install's store, embedded or PostgreSQL; on PostgreSQL without a worker of
 * this process's own (the install's workers run the syncs it asks for).
 */
function openConsoleServices(settings: Settings): Promise<ConsoleServices> {
  return settings.databaseUrl ? openPostgresServices(settings, createLogger('warn'), { worker: false }) : openServices(settings);
}

/** Runs `work` with the services open, and closes them after. */
async function withServices(settings: Settings, work: (services: ConsoleServices) => Promise<void>): Promise<void> {
  const services = await openConsoleServices(settings);
  try {
    await work(services);
  } finally {
    await services.close();
  }
}

/** Runs `work` with the accounts and audit log of the install's store (embedded or PostgreSQL), and closes it after. */
async function withAccounts(flags: Record<string, unknown>, work: (deps: { accounts: Accounts; audit: AuditLog }) => Promise<void>): Promise<void> {
  const settings = settingsFrom(flags);
  const keySource = { key: settings.masterKey, file: settings.masterKeyFile };
  if (!settings.databaseUrl) mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  // The key first: without it nothing can start, and no store is left open behind the error.
  const secrets = createSecretBox(settings.databaseUrl ? sharedMasterKey(keySource) : loadMasterKey(settings.dataDir, keySource));
  const store = settings.databaseUrl ? await openPostgresStore(settings.databaseUrl, 2) : await openStore(settings.dataDir);
  try {
    await work({ accounts: createAccounts({ db: store.db, secrets, security: createSecuritySettings(store.db) }), audit: createAuditLog(store.db) });
  } finally {
    await store.close();
  }
}

function usersCommand(): Command {
  const users = new Command('users').description('Console accounts.');
  users.addCommand(withDataFlags(new Command('add'))
    .description('Create a local account; the password is read from the terminal or stdin.')
    .argument('<username>')
    .addOption(roleOption().default('admin'))
    .addOption(connectionsOption())
    .action((username: string, flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts, audit }) => {
      const password = await readSecret(`Password for ${username}: `);
      const user = await accounts.createUser({ username, password, role: flags.role as Role, connectionIds: (flags.connections as string[] | undefined) ?? null });
      await audit.record('cli', 'user.create', 'user', user.username, { via: 'sitepatch users add', role: user.role, connectionIds: user.connectionIds });
      process.stdout.write(`Created the account '${user.username}' (${user.role}).\n`);
    })));
  users.addCommand(withDataFlags(new Command('list'))
    .description('List the accounts.')
    .action((flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts }) => {
      for (const u of (await accounts.listUsers()).items) {
        process.stdout.write(`${u.id}\t${u.username}\t${u.role}\t${u.source}\t${u.connectionIds ? u.connectionIds.join(',') : 'all connections'}${u.disabled ? '\tdisabled' : ''}${u.mfa.enrolled ? '\tmfa' : ''}\n`);
      }
    })));
  users.addCommand(withDataFlags(new Command('reset-password'))
    .description('Set a local account\'s password (break-glass); its sessions end. The password is read from the terminal or stdin.')
    .argument('<username>')
    .action((username: string, flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts, audit }) => {
      const user = (await accounts.listUsers()).items.find((u) => u.username === username);
      if (!user) throw new Error(`There is no account '${username}'.`);
      await accounts.resetPassword(user.id, await readSecret(`New password for ${username}: `));
      await audit.record('cli', 'user.update', 'user', username, { changes: { password: 'reset' }, via: 'sitepatch users reset-password' });
      process.stdout.write(`The password of '${username}' is set; its sessions ended.\n`);
    })));
  return users;
}

function tokenCommand(): Command {
  const token = new Command('token').description('API tokens for automation.');
  token.addCommand(withDataFlags(new Command('create'))
    .description('Create an API token; send it as "Authorization: Bearer <token>". It is shown only once.')
    .requiredOption('--user <username>', 'the account the token acts for')
    .option('--name <name>', 'what the token is for', 'automation')
    .option('--expires-in-days <days>', 'days until it expires (1 to 365)', (text) => Number(text), 90)
    .addOption(roleOption().argParser((text) => text as Role))
    .addOption(connectionsOption())
    .action((flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts, audit }) => {
      const { token: value, view } = await accounts.createToken({ username: String(flags.user) }, {
        name: String(flags.name), expiresInDays: flags.expiresInDays as number, role: flags.role as Role | undefined, connectionIds: flags.connections as string[] | undefined,
      });
      await audit.record('cli', 'token.create', 'token', String(view.id), { name: view.name, owner: view.username, role: view.role, connectionIds: view.connectionIds, expiresAt: view.expiresAt });
      process.stderr.write(`Token ${view.id} '${view.name}' for ${view.username}: role ${view.role}, ${view.connectionIds ? `connections ${view.connectionIds.join(', ')}` : 'all connections'}, expires ${view.expiresAt}.\n`);
      process.stdout.write(`${value}\n`);
    })));
  token.addCommand(withDataFlags(new Command('list'))
    .description('List the API tokens (never their values).')
    .action((flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts }) => {
      for (const t of (await accounts.listTokens({ userId: 0, role: 'admin' })).items) {
        process.stdout.write(`${t.id}\t${t.name}\t${t.username}\t${t.role}\t${t.connectionIds ? t.connectionIds.join(',') : 'all connections'}\texpires ${t.expiresAt}\tlast used ${t.lastUsedAt ?? 'never'}\n`);
      }
    })));
  token.addCommand(withDataFlags(new Command('revoke'))
    .description('Revoke an API token by its id (from `sitepatch token list`).')
    .argument('<id>')
    .action((id: string, flags: Record<string, unknown>) => withAccounts(flags, async ({ accounts, audit }) => {
      const revoked = await accounts.revokeToken({ userId: 0, role: 'admin' }, Number(id));
      if (!revoked) throw new Error(`There is no token ${id}.`);
      await audit.record('cli', 'token.revoke', 'token', id, { name: revoked.name, owner: revoked.username });
      process.stdout.write(`Revoked token ${id} '${revoked.name}'.\n`);
    })));
  return token;
}

/** Warnings about how this install keeps its secrets. */
function installWarnings(settings: Settings): string[] {
  const warnings: string[] = [];
  const key = masterKeyLocation(settings.dataDir, { key: settings.masterKey, file: settings.masterKeyFile });
  if (key.kind === 'file' && key.besideData) {
    warnings.push(`The master key (${key.file}) sits beside the data it protects: whoever copies the data directory or its backup can decrypt the stored client secrets. Move it to a mounted secret and set SITEPATCH_MASTER_KEY_FILE, or set SITEPATCH_MASTER_KEY.`);
  }
  if (key.kind === 'file' && existsSync(key.file) && (statSync(key.file).mode & 0o077) !== 0) {
    warnings.push(`The master key file ${key.file} can be read by other users of this machine: chmod 600 it.`);
  }
  return warnings;
}

function doctorCommand(): Command {
  return withDataFlags(new Command('doctor'))
    .description('Check this install (where the master key lives) and, given --tenant-id and --client-id, a Defender connection exactly as Save does, without storing anything. The client secret is read from stdin.')
    .option('--tenant-id <id>', 'Directory (tenant) ID')
    .option('--client-id <id>', 'Application (client) ID')
    .addOption(new Option('--cloud <cloud>', 'cloud').choices([...CLOUDS]).default('commercial'))
    .option('--login-url <url>', 'sign-in base URL (cloud custom)')
    .option('--api-url <url>', 'Defender API base URL (cloud custom)')
    .option('--extra-ca-file <pem>', 'trust this CA too (env SITEPATCH_EXTRA_CA_FILE)')
    .action(async (flags: Record<string, string | undefined>) => {
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const warnings = installWarnings(settingsFrom(flags));
      for (const warning of warnings) say(`! ${warning}`);
      if (!flags.tenantId && !flags.clientId) {
        if (!warnings.length) say('✓ The master key is kept apart from the data.');
        return;
      }
      const secret = await readSecret('Client secret (Value): ');
      const checked = checkConnectionFields({ ...flags, clientId: flags.clientId, tenantId: flags.tenantId, clientSecret: secret });
      if ('problem' in checked) {
        say(`✗ ${checked.problem.message}`);
        for (const [field, message] of Object.entries(checked.problem.fields ?? {})) say(`  ${field}: ${message}`);
        process.exitCode = 1;
        return;
      }
      const settings = loadSettings({ extraCaFile: flags.extraCaFile });
      const dispatcher = createDispatcher({ extraCaPem: extraCaPem(settings), proxyUrl: settings.httpsProxy });
      say(`Checking tenant ${checked.fields.tenantId}, application ${checked.fields.clientId} (${checked.fields.cloud})…`);
      const result = await checkConnection({ ...checked.fields, clientSecret: checked.fields.clientSecret! }, { dispatcher, proxyUrl: settings.httpsProxy });
      await dispatcher.close();
      if (result.ok) {
        say(`✓ Signed in; the token has roles: ${result.roles.join(', ')}`);
        say('✓ Defender answered: the connection works.');
        return;
      }
      const { code, message, fix, step } = result.diagnosis;
      say(`✗ ${message}`);
      say(`  Fix: ${fix}`);
      say(`  (code ${code}; setup step: ${step})`);
      process.exitCode = 1;
    });
}

function syncCommand(): Command {
  return withDataFlags(new Command('sync'))
    .description('Sync one connection now, with a progress bar; exits non-zero with the diagnosis when the sync fails.')
    .requiredOption('--connection <id-or-name>', 'the connection (its id or its name)')
    .addOption(new Option('--kind <kind>', 'full snapshot, delta since the last checkpoint, or auto').choices(['auto', 'full', 'delta']).default('auto'))
    .option('--extra-ca-file <pem>', 'trust this CA too (env SITEPATCH_EXTRA_CA_FILE)')
    .action(async (flags: Record<string, unknown>) => {
      await withServices(settingsFrom(flags, { extraCaFile: flags.extraCaFile }), async (services) => {
        process.exitCode = await runSyncWithProgress(services, String(flags.connection), flags.kind as SyncKind);
      });
    });
}

const say = (line: string) => process.stderr.write(`${line}\n`);

function contentCommand(): Command {
  const content = new Command('content').description('Patch content: the vendors\' feeds that say which update fixes which finding.');
  content.addCommand(withDataFlags(new Command('import'))
    .description('Import downloaded feed documents (sites without internet): MSRC CVRF months, Red Hat CSAF VEX documents, Ubuntu OSV records, NVD CVE API pages, the CISA KEV catalog. Each file is applied whole or not at all.')
    .argument('<files...>', 'JSON documents, as the feeds serve them')
    .action(async (files: string[], flags: Record<string, unknown>) => {
      await withServices(settingsFrom(flags), async (services) => {
        for (const file of files) {
          if (!existsSync(file)) {
            say(`✗ ${file}: no such file.`);
            process.exitCode = 1;
            continue;
          }
          try {
            const done = await services.content.importFile(file, 'cli');
            if (done.status === 'succeeded') say(`✓ ${file}: ${done.source}, ${done.records.toLocaleString()} records${done.skipped.count ? `, ${done.skipped.count} skipped (first: ${done.skipped.first[0].where}: ${done.skipped.first[0].reason})` : ''}`);
            else throw new Error(done.error ?? 'the import failed');
          } catch (error) {
            say(`✗ ${file}: ${(error as Error).message}`);
            process.exitCode = 1;
          }
        }
      });
    }));
  content.addCommand(withDataFlags(new Command('update'))
    .description('Import from the feeds now (their addresses are settings: msrcCvrfUrl, redHatVexUrl, ubuntuOsvUrl, nvdUrl, kevUrl), with progress.')
    .addOption(new Option('--source <feed>', 'one feed, or all of them in turn').choices(['all', ...FEEDS]).default('all'))
    .option('--extra-ca-file <pem>', 'trust this CA too (env SITEPATCH_EXTRA_CA_FILE)')
    .action(async (flags: Record<string, unknown>) => {
      await withServices(settingsFrom(flags, { extraCaFile: flags.extraCaFile }), async (services) => {
        process.exitCode = await runContentImportWithProgress(services, flags.source as ImportSource);
      });
    }));
  return content;
}

function migrateStoreCommand(): Command {
  return withDataFlags(new Command('migrate-store'))
    .description('Copy this embedded install (its data directory) into an empty PostgreSQL database, verified table by table; the embedded store is left as it was.')
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://user:password@host:5432/db')
    .action(async (flags: Record<string, unknown>) => runMigrateStore(settingsFrom(flags), flags.to as string));
}

export function consoleCommands(): Command[] {
  return [serveCommand(), workerCommand(), usersCommand(), tokenCommand(), doctorCommand(), syncCommand(), contentCommand(), migrateStoreCommand()];
}
