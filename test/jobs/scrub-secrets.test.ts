import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, scrubSecrets, secretValuesOf } from '../../src/jobs/scrub-secrets';

describe('scrubSecrets: what looks like a secret never reaches a failure message', () => {
  const cases: Array<[string, string, string]> = [
    ['an AWS access key id', 'using AKIAIOSFODNN7EXAMPLE now', 'AKIAIOSFODNN7EXAMPLE'],
    ['a temporary AWS key id', 'key ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A'],
    ['a bearer token', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'eyJhbGciOiJIUzI1NiJ9'],
    ['password=', 'connect password=hunter2-db-pass host=db', 'hunter2-db-pass'],
    ['token: in YAML style', 'token: ghp_abcdefghijklmnop0123', 'ghp_abcdefghijklmnop0123'],
    ['a quoted JSON value', '{"api_key": "sk-live-1234567890abcdef"}', 'sk-live-1234567890abcdef'],
    ['an environment line', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG'],
    ['a long run after "secret"', 'the secret is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', '9f86d081884c7d65'],
    ['a URL password', 'postgres://trainer:s3cret-pw@db.internal/features', 's3cret-pw'],
    ['a PEM private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA'],
  ];
  for (const [what, text, secret] of cases) {
    test(what, () => {
      const scrubbed = scrubSecrets(text);
      assert.ok(!scrubbed.includes(secret), `${what}: ${scrubbed}`);
      assert.ok(scrubbed.includes(REDACTED), scrubbed);
    });
  }

  test('known secret values are removed wherever they appear, even with no tell-tale name around them', () => {
    const scrubbed = scrubSecrets('echo: abc123-temporal-cloud-key-xyz (done)', ['abc123-temporal-cloud-key-xyz']);
    assert.equal(scrubbed, `echo: ${REDACTED} (done)`);
  });

  test('ordinary trainer output is left as it is', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "train.py", line 12, in <module>',
      "ValueError: Input contains NaN, infinity or a value too large for dtype('float64').",
      '3000 training rows (folds [0, 1]), 50 probe rows; key features: distance, hour',
    ].join('\n');
    assert.equal(scrubSecrets(text), text);
  });

  test('secretValuesOf picks credentials by variable name', () => {
    const values = secretValuesOf({ TEMPORAL_API_KEY: 'tmprl-key-123456', AWS_SECRET_ACCESS_KEY: 'aws-secret-abcdef', PATH: '/usr/bin:/bin', HOME: '/root', SHORT_TOKEN: 'abc' });
    assert.deepEqual(values.sort(), ['aws-secret-abcdef', 'tmprl-key-123456']);
  });
});
