import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

describe('First run and sessions', () => {
  let console_: TestConsole;
  before(async () => { console_ = await startTestConsole({ adminPassword: undefined }); });
  after(() => console_.close());

  it('offers setup on the first visit, creates the administrator once, then closes setup', async () => {
    const visitor = new ApiClient(console_.running.url);
    const first = await visitor.call('GET', '/api/v1/auth/session');
    assert.equal(first.status, 401);
    assert.equal(first.body.error.setupRequired, true);

    const weak = await visitor.call('POST', '/api/v1/auth/setup', { username: 'root', password: 'short' });
    assert.equal(weak.status, 422);
    assert.match(weak.body.error.message, /at least 12 characters/);

    const created = await visitor.call('POST', '/api/v1/auth/setup', { username: 'root', password: 'first-run-password-2026' });
    assert.equal(created.status, 200, created.text);
    assert.match(String(created.headers['set-cookie']), /sitepatch_session=.+HttpOnly.+SameSite=Strict/i);
    visitor.csrf = created.body.csrfToken;
    assert.equal((await visitor.call('GET', '/api/v1/connections')).status, 200, 'signed in by setup');

    const again = await new ApiClient(console_.running.url).call('POST', '/api/v1/auth/setup', { username: 'mallory', password: 'another-password-for-me' });
    assert.equal(again.status, 409);
    const session = await new ApiClient(console_.running.url).call('GET', '/api/v1/auth/session');
    assert.equal(session.body.error.setupRequired, false);

    assert.equal((await visitor.call('POST', '/api/v1/auth/logout')).status, 200);
    assert.equal((await visitor.call('GET', '/api/v1/connections')).status, 401, 'the session ended');
  });

  it('rejects a wrong password without saying which part was wrong', async () => {
    const response = await new ApiClient(console_.running.url).login('root', 'not-the-password');
    assert.equal(response.status, 401);
    assert.equal(response.body.error.message, 'The username or password is incorrect.');
    const unknown = await new ApiClient(console_.running.url).login('nobody', 'not-the-password');
    assert.equal(unknown.body.error.message, response.body.error.message);
  });
});
