// The Kubernetes name rules: each checker answers null for a valid value and a message for an
// invalid one; the tables hold the edge cases of each rule (length caps, first/last character).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkConfigMapKey,
  checkDns1035Label,
  checkDns1123Label,
  checkDns1123Subdomain,
  checkEnvVarName,
  checkIanaSvcName,
  checkIP,
  checkIPv4,
  checkIPv4Cidr,
  checkLabelValue,
  checkQualifiedName,
} from '../../src/model/index.ts';

type Checker = (value: string) => string | null;

function table(name: string, check: Checker, valid: string[], invalid: [string, RegExp][]): void {
  describe(name, () => {
    for (const value of valid) {
      test(`accepts ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}...(${value.length})` : value)}`, () => {
        assert.equal(check(value), null);
      });
    }
    for (const [value, message] of invalid) {
      test(`refuses ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}...(${value.length})` : value)}`, () => {
        const got = check(value);
        assert.ok(got !== null, 'expected an error message');
        assert.match(got, message);
      });
    }
  });
}

table(
  'DNS-1123 label',
  checkDns1123Label,
  ['a', 'web', 'my-name', '123-abc', '0', 'a'.repeat(63)],
  [
    ['', /RFC 1123 label/],
    ['Web', /lower case alphanumeric/],
    ['-web', /start and end with an alphanumeric/],
    ['web-', /start and end/],
    ['my.name', /RFC 1123 label/],
    ['my_name', /RFC 1123 label/],
    ['a'.repeat(64), /no more than 63 characters/],
  ],
);

table(
  'DNS-1123 subdomain',
  checkDns1123Subdomain,
  ['example.com', 'nginx-deployment', 'a.b-c.d', 'kube-system', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
  [
    ['Bad_Name', /^a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character$/],
    ['a..b', /RFC 1123 subdomain/],
    ['.a', /RFC 1123 subdomain/],
    ['a.', /RFC 1123 subdomain/],
    ['a.-b', /RFC 1123 subdomain/],
    ['a'.repeat(254), /no more than 253 characters/],
  ],
);

table('DNS-1035 label (Service names)', checkDns1035Label, ['my-service', 'a1'], [
  ['1abc', /start with an alphabetic character/],
  ['My-service', /DNS-1035/],
]);

table(
  'qualified names (label and annotation keys)',
  checkQualifiedName,
  ['app', 'app.kubernetes.io/name', 'k8s-app', 'MyName', 'my.name', '123-abc', 'a_b', 'example.com/My_Name.x', 'node-role.kubernetes.io/control-plane'],
  [
    ['', /name part must be non-empty/],
    ['/name', /prefix part must be non-empty/],
    ['example.com/', /name part must be non-empty/],
    ['Example.com/name', /prefix part a lowercase RFC 1123 subdomain/],
    ['a/b/c', /with an optional DNS subdomain prefix/],
    ['-app', /name part must consist of alphanumeric/],
    ['app_', /name part must consist/],
    ['has space', /name part must consist/],
    ['a'.repeat(64), /name part must be no more than 63 characters/],
  ],
);

table('label values', checkLabelValue, ['', 'nginx', 'MyApp', 'v1.2_3-x', 'a'.repeat(63)], [
  ['-x', /valid label must be an empty string or consist of/],
  ['x y', /valid label/],
  ['a/b', /valid label/],
  ['a'.repeat(64), /no more than 63 characters/],
]);

table('IANA service names (port names)', checkIanaSvcName, ['http', 'http-web-svc', 'h2c', 'a', 'dns-tcp', 'x'.repeat(15)], [
  ['x'.repeat(16), /no more than 15 characters/],
  ['HTTP', /alpha-numeric characters \(a-z, 0-9\), and hyphens/],
  ['web_port', /alpha-numeric/],
  ['8080', /at least one letter/],
  ['a--b', /consecutive hyphens/],
  ['-web', /begin or end with a hyphen/],
  ['web-', /begin or end with a hyphen/],
]);

table('environment variable names (relaxed rule)', checkEnvVarName, ['PATH', 'PLAYER_INITIAL_LIVES', 'my-var', '1ABC', 'a.b', 'A B'], [
  ['', /printable ASCII characters other than '='/],
  ['A=B', /other than '='/],
  ['TAB\tX', /printable ASCII/],
  ['CAFÉ', /printable ASCII/],
]);

table(
  'ConfigMap and Secret keys',
  checkConfigMapKey,
  ['game.properties', 'player_initial_lives', 'user-interface.properties', '.dockerconfigjson', 'tls.crt', 'a'.repeat(253)],
  [
    ['', /valid config key/],
    ['a/b', /valid config key must consist of alphanumeric characters, '-', '_' or '.'/],
    ['has space', /valid config key/],
    ['.', /must not be '\.'/],
    ['..', /must not be '\.\.'/],
    ['..data', /must not start with '\.\.'/],
    ['a'.repeat(254), /no more than 253 characters/],
  ],
);

table('IPv4 addresses', checkIPv4, ['10.43.0.10', '192.0.2.42', '0.0.0.0'], [
  ['10.43.0', /valid IPv4/],
  ['010.1.1.1', /valid IPv4/],
  ['::1', /valid IPv4/],
  ['256.1.1.1', /valid IPv4/],
]);

table('IP addresses', checkIP, ['127.0.0.1', '2001:db8::1'], [['foo', /valid IP address/]]);

table('IPv4 CIDRs', checkIPv4Cidr, ['10.42.1.0/24', '0.0.0.0/0', '10.0.0.0/32'], [
  ['10.42.1.0', /valid IPv4 CIDR/],
  ['10.42.1.0/33', /valid IPv4 CIDR/],
  ['fd00::/64', /valid IPv4 CIDR/],
]);
