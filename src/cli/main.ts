// The `sitepatch` command line. Each subcommand only parses its flags and calls into its domain.

import { Command, InvalidArgumentError, Option } from 'commander';
import { ENDPOINTS, FAULT_KINDS, type FaultSpec } from '../../emulator/faults.js';
import { parseQuota } from '../../emulator/defender/rate-limit.js';
import { startEmulator, type EmulatorOptions } from '../../emulator/server.js';
import { consoleCommands } from './console-commands.js';

function integer(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return value;
  };
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new InvalidArgumentError('expected a positive number.');
  return value;
}

function collect<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] = []): T[] => [...previous, parse(text)];
}

function faultSpec(text: string): FaultSpec {
  try {
    return JSON.parse(text) as FaultSpec;
  } catch {
    throw new InvalidArgumentError(`expected a JSON object such as '{"kind":"throttle","endpoint":"softwareVulnerabilitiesExport","times":3}'.`);
  }
}

function emulatorCommand(): Command {
  const faultHelp = Object.entries(FAULT_KINDS).map(([kind, what]) => `  ${kind.padEnd(18)} ${what}`).join('\n');
  return new Command('emulator')
    .description('Run the Entra ID + Defender for Endpoint + export blob host emulator on loopback. Prints one JSON line with the URLs, CA file, tenant and app credentials, then serves until killed.')
    .option('--port <n>', 'TCP port (0 picks a free one)', integer(0, 65535), 0)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--devices <n>', 'devices per customer tenant (about 50 findings each)', integer(1, 1_000_000), 500)
    .option('--seed <text>', 'seed: the same seed always yields the same tenant, ids, secrets and data', 'sitepatch')
    .option('--tenants <n>', 'customer tenants with Defender provisioned (a tenant without Defender is always added)', integer(1, 100), 1)
    .option('--start-time <iso>', 'time of the first snapshot (default: the last 6-hour boundary)')
    .option('--patch-cadence <snapshots>', 'average 6-hour snapshots between two updates of a product on a device', integer(2, 10_000), 100)
    .option('--devices-per-part <n>', 'devices per export file part', integer(1, 1_000_000), 2000)
    .option('--time-scale <factor>', 'multiply rate-limit windows (0.01: one minute lasts 0.6 s)', positiveNumber, 1)
    .option('--no-rate-limits', 'turn off the per-app, per-tenant API quotas')
    .option('--rate-limit <endpoint=perMin/perHour>', `override one quota, repeatable; endpoints: ${ENDPOINTS.join(', ')}`, collect(parseQuota))
    .option('--token-lifetime <seconds>', 'access token lifetime', integer(1, 86_400), 3600)
    .addOption(new Option('--sas-policy <policy>', 'sasValidHours default/max: current docs (1/6 h) or legacy docs (3/24 h)').choices(['current', 'legacy']).default('current'))
    .addOption(new Option('--vulnerabilities-max-top <n>', '$top maximum of /api/vulnerabilities (docs disagree: 8000 or 10000)').argParser(integer(1, 100_000)).default(8000))
    .addOption(new Option('--unknown-tenant-error <error>', "AADSTS90002's error value").choices(['invalid_tenant', 'invalid_request']).default('invalid_tenant'))
    .addOption(new Option('--description-separator <sep>', 'separator before "Trace ID:" in error_description').choices(['crlf', 'space']).default('crlf'))
    .option('--accept-xdr-audience', 'also accept tokens for https://api.security.microsoft.com', false)
    .option('--state-dir <dir>', 'keep the CA and the export cache here (default: a temporary directory); reusing it keeps the CA stable')
    .option('--fault <json>', 'switch a fault on at start, repeatable (also POST /_emulator/faults)', collect(faultSpec))
    .addHelpText('after', `
Faults ({"kind", "endpoint"?: one of *, ${ENDPOINTS.join(', ')}; "times"?, "after"?, params}):
${faultHelp}

Control endpoints (on apiUrl):
  GET    /_emulator/state              snapshot time, devices and findings per tenant, request counts
  POST   /_emulator/advance            {"hours": 6} moves every tenant one snapshot forward
  GET    /_emulator/faults             active faults
  POST   /_emulator/faults             {"faults": [...], "replace"?: true} or one fault object
  DELETE /_emulator/faults             clear all faults
  POST   /_emulator/rate-limits/reset  forget past calls
  POST   /_emulator/sign-in-app        {"assignmentRequired": true} makes the console's sign-in app refuse users without an app role (AADSTS50105)

Sign-in with Entra ID (on loginUrl): /{tenant}/oauth2/v2.0/authorize serves a sign-in page for the test
users listed under "users" (their passwords included), for the "signInApp" registration.

Clients trust the emulator through caFile, e.g. NODE_EXTRA_CA_CERTS=<caFile>.`)
    .action(async (flags: Record<string, unknown>) => {
      const options: EmulatorOptions = {
        port: flags.port as number,
        host: flags.host as string,
        devices: flags.devices as number,
        seed: flags.seed as string,
        tenants: flags.tenants as number,
        startTime: flags.startTime as string | undefined,
        patchCadence: flags.patchCadence as number,
        devicesPerPart: flags.devicesPerPart as number,
        timeScale: flags.timeScale as number,
        rateLimits: flags.rateLimits as boolean,
        quotas: Object.fromEntries((flags.rateLimit as ReturnType<typeof parseQuota>[] | undefined) ?? []),
        tokenLifetimeSeconds: flags.tokenLifetime as number,
        sasPolicy: flags.sasPolicy as 'current' | 'legacy',
        vulnerabilitiesMaxTop: flags.vulnerabilitiesMaxTop as number,
        unknownTenantError: flags.unknownTenantError as 'invalid_tenant' | 'invalid_request',
        descriptionSeparator: flags.descriptionSeparator as 'crlf' | 'space',
        acceptXdrAudience: flags.acceptXdrAudience as boolean,
        stateDir: flags.stateDir as string | undefined,
        faults: flags.fault as FaultSpec[] | undefined,
      };
      const emulator = await startEmulator(options);
      const { caPem: _caPem, faults: _faults, advance: _advance, state: _state, close, ...info } = emulator;
      process.stdout.write(JSON.stringify(info) + '\n');
      const stop = () => void close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('sitepatch')
    .description('SitePatch: vulnerability-driven patching for Microsoft Defender for Endpoint.')
    .showHelpAfterError()
    .addCommand(emulatorCommand());
  for (const command of consoleCommands()) program.addCommand(command);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    console.error(`sitepatch: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
