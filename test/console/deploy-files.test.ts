// The container files (Dockerfile, deploy/compose.yaml, deploy/prometheus.yml) cannot run here (no
// container engine), so they are checked against the code: the commands and flags they run exist,
// their environment sets the settings it means to, and every port, host name and secret they name
// is the one the processes use.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { consoleCommands } from '../../src/cli/console-commands.js';
import { loadSettings } from '../../src/config/settings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, unknown>;
}

const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, Service>; secrets: Record<string, { file: string }> };
const prometheus = parse(read('deploy/prometheus.yml')) as { scrape_configs: { job_name: string; authorization: { credentials_file: string }; static_configs: { targets: string[] }[] }[] };
const services = Object.entries(compose.services);
const web = services.filter(([, s]) => s.command?.[0] === 'serve');
const workers = services.filter(([, s]) => s.command?.[0] === 'worker');
/** The settings a service's environment gives, its ${…} references filled in. */
const settingsOf = (service: Service) => loadSettings({}, Object.fromEntries(Object.entries(service.environment ?? {})
  .map(([name, value]) => [name, String(value).replace(/\$\{[^}]+\}/g, 'pw')])));
const options = (name: string) => consoleCommands().find((c) => c.name() === name)!.options.map((o) => o.long);
const healthPort = (service: Service) => Number(/127\.0\.0\.1:(\d+)\/ready/.exec(service.healthcheck!.test.join(' '))?.[1]);

describe('Container files', () => {
  it('lay out one PostgreSQL, two web processes, three workers and a Prometheus, with commands the CLI has', () => {
    assert.ok(compose.services.postgres);
    assert.ok(compose.services.prometheus);
    assert.equal(web.length, 2);
    assert.equal(workers.length, 3);
    for (const [, service] of [...web, ...workers]) {
      const flags = service.command!.slice(1).filter((a) => a.startsWith('--'));
      const known = options(service.command![0]);
      for (const flag of flags) assert.ok(known.includes(flag), `${service.command![0]} has ${flag}`);
      assert.ok('postgres' in (service.depends_on ?? {}), 'starts after the database');
    }
    for (const [, service] of web) assert.ok(service.command!.includes('--no-worker'), 'the web processes leave the syncs to the workers');
  });

  it('give every SitePatch process the same database and master key, and the host names Prometheus scrapes', () => {
    const scraped = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)).map((t) => t.split(':')[0]);
    for (const [name, service] of [...web, ...workers]) {
      const settings = settingsOf(service);
      assert.equal(new URL(settings.databaseUrl!).hostname, 'postgres', `${name} uses the compose database`);
      assert.equal(settings.masterKeyFile, '/run/secrets/master-key');
      assert.ok(service.secrets?.includes('master-key') && compose.secrets['master-key'], `${name} mounts the master key`);
      for (const host of scraped) assert.ok(settings.allowedHosts.includes(host), `${name} answers to ${host}`);
    }
  });

  it('check health and scrape metrics on the ports the processes listen on, with a mounted token', () => {
    const defaults = loadSettings({}, {});
    for (const [, service] of web) assert.equal(healthPort(service), defaults.port);
    for (const [, service] of workers) assert.equal(healthPort(service), defaults.workerPort);
    const portOf = new Map([...web.map(([n]) => [n, defaults.port] as const), ...workers.map(([n]) => [n, defaults.workerPort] as const)]);
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    assert.deepEqual(new Set(targets), new Set([...portOf].map(([name, port]) => `${name}:${port}`)), 'every web process and worker is scraped, at its port');
    for (const job of prometheus.scrape_configs) {
      const secret = path.basename(job.authorization.credentials_file);
      assert.equal(job.authorization.credentials_file, `/run/secrets/${secret}`);
      assert.ok(compose.services.prometheus.secrets?.includes(secret) && compose.secrets[secret], `Prometheus mounts ${secret}`);
    }
  });

  it('build an image that runs the CLI and exposes both ports', () => {
    const dockerfile = read('Dockerfile');
    const defaults = loadSettings({}, {});
    assert.match(dockerfile, new RegExp(`^EXPOSE ${defaults.port} ${defaults.workerPort}$`, 'm'));
    assert.match(dockerfile, /^ENTRYPOINT \["node", "bin\/sitepatch\.js"\]$/m);
    assert.match(dockerfile, /^USER node$/m, 'not as root');
  });
});
