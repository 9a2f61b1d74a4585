// `sitepatch serve | users add | token create | doctor`.

import { Command, InvalidArgumentError, Option } from 'commander';
import { checkConnection } from '../connections/check.js';
import { checkConnectionFields } from '../connections/input.js';
import { loadSettings, type SettingsInput } from '../config/settings.js';
import { CLOUDS } from '../entra/clouds.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { openServices, startConsole } from '../server/runtime.js';
import { readSecret } from './read-secret.js';
import { runSyncWithProgress } from './sync-progress.js';
import type { SyncKind } from '../sync/runs.js';

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
    .action(async (flags: Record<string, unknown>) => {
      const settings = settingsFrom(flags, {
        port: flags.port, host: flags.host, logLevel: flags.logLevel, extraCaFile: flags.extraCaFile, demo: flags.demo, demoDevices: flags.demoDevices,
      });
      const running = await startConsole(settings);
      const setupNeeded = (await running.services.accounts.count()) === 0;
      process.stderr.write([
        `SitePatch console: ${running.url}  (data: ${settings.dataDir})`,
        setupNeeded ? 'First run: open the console to create the administrator, or restart with SITEPATCH_ADMIN_PASSWORD set.' : '',
        running.demo ? `Demo: an emulated Defender tenant (${running.demo.devices} devices) runs at ${running.demo.apiUrl}; the connection "Demo tenant (emulator)" points at it.` : '',
      ].filter(Boolean).join('\n') + '\n');
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function usersCommand(): Command {
  const users = new Command('users').description('Console accounts.');
  users.addCommand(withDataFlags(new Command('add'))
    .description('Create an administrator account; the password is read from the terminal or stdin.')
    .argument('<username>')
    .action(async (username: string, flags: Record<string, unknown>) => {
      const services = await openServices(settingsFrom(flags));
      try {
        const password = await readSecret(`Password for ${username}: `);
        await services.accounts.createUser(username, password);
        await services.audit.record('cli', 'user.create', 'user', username, { via: 'sitepatch users add' });
        process.stdout.write(`Created the account '${username}'.\n`);
      } finally {
        await services.close();
      }
    }));
  return users;
}

function tokenCommand(): Command {
  const token = new Command('token').description('API tokens for automation.');
  token.addCommand(withDataFlags(new Command('create'))
    .description('Create an API token; send it as "Authorization: Bearer <token>". It is shown only once.')
    .requiredOption('--user <username>', 'the account the token acts for')
    .option('--name <name>', 'what the token is for', 'automation')
    .action(async (flags: Record<string, unknown>) => {
      const services = await openServices(settingsFrom(flags));
      try {
        const value = await services.accounts.createToken(String(flags.user), String(flags.name));
        await services.audit.record('cli', 'token.create', 'user', String(flags.user), { name: flags.name });
        process.stdout.write(`${value}\n`);
      } finally {
        await services.close();
      }
    }));
  return token;
}

function doctorCommand(): Command {
  return new Command('doctor')
    .description('Check a Defender connection from the terminal, exactly as Save does, without storing anything. The client secret is read from stdin.')
    .requiredOption('--tenant-id <id>', 'Directory (tenant) ID')
    .requiredOption('--client-id <id>', 'Application (client) ID')
    .addOption(new Option('--cloud <cloud>', 'cloud').choices([...CLOUDS]).default('commercial'))
    .option('--login-url <url>', 'sign-in base URL (cloud custom)')
    .option('--api-url <url>', 'Defender API base URL (cloud custom)')
    .option('--extra-ca-file <pem>', 'trust this CA too (env SITEPATCH_EXTRA_CA_FILE)')
    .action(async (flags: Record<string, string | undefined>) => {
      const secret = await readSecret('Client secret (Value): ');
      const checked = checkConnectionFields({ ...flags, clientId: flags.clientId, tenantId: flags.tenantId, clientSecret: secret });
      const say = (line: string) => process.stdout.write(`${line}\n`);
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
      const services = await openServices(settingsFrom(flags, { extraCaFile: flags.extraCaFile }));
      try {
        process.exitCode = await runSyncWithProgress(services, String(flags.connection), flags.kind as SyncKind);
      } finally {
        await services.close();
      }
    });
}

export function consoleCommands(): Command[] {
  return [serveCommand(), usersCommand(), tokenCommand(), doctorCommand(), syncCommand()];
}
