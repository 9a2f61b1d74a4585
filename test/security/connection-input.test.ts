// The connection form's checks of what an admin types or pastes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkConnectionFields } from '../../src/connections/input.js';

const connection = {
  tenantId: '6f1c8a52-3b7e-4d21-9a0c-1e2f3a4b5c6d', clientId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', clientSecret: 'abc8Q~a-secret-value-of-forty-characters0',
};

describe('The secret expiry date', () => {
  it('accepts only real calendar dates', () => {
    for (const date of ['2026-02-30', '2026-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-06-00', '2026-6-05', '30.06.2026']) {
      const result = checkConnectionFields({ ...connection, secretExpiresOn: date });
      assert.ok('problem' in result && result.problem.fields?.secretExpiresOn, `${date} was accepted`);
      assert.equal(result.problem.field, 'secretExpiresOn');
    }
    for (const date of ['2028-02-29', '2026-02-28', '2026-04-30', '2026-12-31']) {
      const result = checkConnectionFields({ ...connection, secretExpiresOn: date });
      assert.ok('fields' in result, `${date} was refused`);
      assert.equal(result.fields.secretExpiresOn, date);
    }
  });
});
