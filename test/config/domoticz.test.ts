// sinks.domoticz: what a valid section resolves to, and every problem it can have, each at its
// key with a message that says what to write instead. Secrets never appear in a message.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, type ConfigProblem, type DomoticzSinkConfig } from '../../src/config/index.js';
import { configError, loadYaml, minimal, monday, problemAt, problemsOf, repoRoot, tempDir, withFiles } from './helpers.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** A config with the meter "home" (default jobs) and this sinks.domoticz section (lines indented by 4). */
function withDomoticz(section: string, head = minimal): string {
  return `${head}sinks:\n  domoticz:\n${section.replace(/^/gm, '    ')}\n`;
}

/** The devices block of the issue (issue 11, item 1), as written there. */
const issueDevices = `devices:
  - { idx: 12, type: electric, power: power, energy: heat_energy }   # Electric (Instant+Counter)
  - { idx: 13, type: temperature, register: t1 }
  - { idx: 14, type: temperature, register: t2 }
  - { idx: 15, type: custom, register: t_diff }                     # Custom sensor, label from the register's unit
  - { idx: 16, type: waterflow, register: flow }                    # l/min
  - { idx: 17, type: counter, register: volume, meter_type: water } # Counter (RFXMeter), litres
  - { idx: 18, type: alert, register: info }                        # info code → level and text`;

const issueExpected: DomoticzSinkConfig['devices'] = [
  { idx: 12, meter: 'home', type: 'electric', powerRegisterId: 80, energyRegisterId: 60 },
  { idx: 13, meter: 'home', type: 'temperature', registerId: 86, unit: null },
  { idx: 14, meter: 'home', type: 'temperature', registerId: 87, unit: null },
  { idx: 15, meter: 'home', type: 'custom', registerId: 89, unit: null },
  { idx: 16, meter: 'home', type: 'waterflow', registerId: 74, unit: null },
  { idx: 17, meter: 'home', type: 'counter', registerId: 68, meterType: 'water', divider: 1000, unit: null },
  { idx: 18, meter: 'home', type: 'alert', registerId: 99, unit: null },
];

/** One device (a flow mapping) in an otherwise valid section. */
function deviceProblems(device: string, head = minimal): ReturnType<typeof problemsOf> {
  return problemsOf(withDomoticz(`url: http://127.0.0.1:8080\ndevices:\n  - ${device}`, head));
}

function messageAt(problems: readonly ConfigProblem[], key: string): string {
  return problemAt(problems, key).message;
}

const twoMeters = 'meters:\n  - name: home\n    url: /dev/ttyUSB0\n  - name: garage\n    url: tcp://127.0.0.1:2002\n';

describe('sinks.domoticz: a valid section', () => {
  it('resolves every key: url without its trailing slash, basic auth, refresh in ms, ca_file, each device type, meters and registers resolved', () => {
    const yaml = `${twoMeters}jobs:
  - name: live
    cron: "*/5 * * * *"
    registers: [E1, 0x50, t1, t_diff, flow, volume, hour_counter, info, 300]
  - name: garage
    cron: "*/10 * * * *"
    registers: [power, t2, target_date]
    meters: [garage]
sinks:
  domoticz:
    url: https://domoticz.example:8443/domoticz/
    auth: basic
    username: kamstrup
    password: pw-in-the-file
    refresh_minutes: 30
    timeout_ms: 2500
    ca_file: tls/ca.pem
    devices:
      - { idx: 1, type: electric, power: Power, energy: 60, meter: home }
      - { idx: 2, type: temperature, register: t1, meter: home }
      - { idx: 3, type: custom, register: t_diff, meter: home, unit: K }
      - { idx: 4, type: custom, register: hour_counter, meter: home }
      - { idx: 5, type: usage, register: power, meter: garage }
      - { idx: 6, type: counter, register: heat_energy, meter_type: energy, meter: home }
      - { idx: 7, type: counter, register: volume, meter_type: water, meter: home }
      - { idx: 8, type: counter, register: hour_counter, meter_type: custom, divider: 60, unit: min, meter: home }
      - { idx: 9, type: counter, register: info, meter_type: custom, meter: home }
      - { idx: 10, type: waterflow, register: flow, meter: home }
      - { idx: 11, type: percentage, register: 300, meter: home }
      - { idx: 12, type: text, register: target_date, meter: garage }
      - { idx: 13, type: text, register: info, meter: home }
      - { idx: 2147483647, type: alert, register: Info, meter: home }
`;
    const directory = withFiles({ 'kamstrup-logger.yaml': yaml, 'tls/ca.pem': PEM });
    const { config, warnings } = loadConfig({ path: join(directory, 'kamstrup-logger.yaml'), env: {}, now: monday });
    const expected: DomoticzSinkConfig = {
      url: 'https://domoticz.example:8443/domoticz',
      auth: { kind: 'basic', username: 'kamstrup', password: 'pw-in-the-file' },
      refreshMs: 30 * 60_000,
      timeoutMs: 2500,
      ca: PEM,
      devices: [
        { idx: 1, meter: 'home', type: 'electric', powerRegisterId: 80, energyRegisterId: 60 },
        { idx: 2, meter: 'home', type: 'temperature', registerId: 86, unit: null },
        { idx: 3, meter: 'home', type: 'custom', registerId: 89, unit: 'K' },
        { idx: 4, meter: 'home', type: 'custom', registerId: 1004, unit: null },
        { idx: 5, meter: 'garage', type: 'usage', registerId: 80, unit: null },
        { idx: 6, meter: 'home', type: 'counter', registerId: 60, meterType: 'energy', divider: 1000, unit: null },
        { idx: 7, meter: 'home', type: 'counter', registerId: 68, meterType: 'water', divider: 1000, unit: null },
        { idx: 8, meter: 'home', type: 'counter', registerId: 1004, meterType: 'custom', divider: 60, unit: 'min' },
        { idx: 9, meter: 'home', type: 'counter', registerId: 99, meterType: 'custom', divider: 1, unit: null },
        { idx: 10, meter: 'home', type: 'waterflow', registerId: 74, unit: null },
        { idx: 11, meter: 'home', type: 'percentage', registerId: 300, unit: null },
        { idx: 12, meter: 'garage', type: 'text', registerId: 98, unit: null },
        { idx: 13, meter: 'home', type: 'text', registerId: 99, unit: null },
        { idx: 2147483647, meter: 'home', type: 'alert', registerId: 99, unit: null },
      ],
    };
    assert.deepEqual(config.sinks.domoticz, expected);
    assert.deepEqual(warnings.filter((w) => w.includes('domoticz')), []);
  });

  it('has the defaults: auth none, refresh 55 minutes, timeout 10 s, no ca, no devices; bearer takes the token', () => {
    const { config } = loadYaml(withDomoticz('url: http://127.0.0.1:8080'));
    assert.deepEqual(config.sinks.domoticz, { url: 'http://127.0.0.1:8080', auth: { kind: 'none' }, refreshMs: 55 * 60_000, timeoutMs: 10_000, ca: null, devices: [] });
    assert.deepEqual(loadYaml(withDomoticz('url: http://127.0.0.1:8080\nauth: bearer\ntoken: eyJ.t0k.en')).config.sinks.domoticz?.auth, { kind: 'bearer', token: 'eyJ.t0k.en' });
    assert.equal(loadYaml(minimal).config.sinks.domoticz, undefined);
  });

  it("loads the issue's example devices with the default jobs", () => {
    const section = `url: http://192.168.2.253:8080     # https:// too\nauth: none\nrefresh_minutes: 55\n${issueDevices}`;
    const { config, warnings } = loadYaml(withDomoticz(section));
    assert.deepEqual(config.sinks.domoticz?.devices, issueExpected);
    assert.deepEqual(warnings, []);
  });

  it("loads the annotated example's domoticz block, uncommented, without problems or warnings", () => {
    const example = readFileSync(join(repoRoot, 'kamstrup-logger.example.yaml'), 'utf8');
    const start = example.indexOf('  # domoticz:');
    assert.ok(start > 0, 'the example has a commented-out domoticz block');
    const block = example.slice(start).split('\n').filter((line) => line.startsWith('  #   ') || line === '  # domoticz:');
    const uncommented = block.map((line) => line.replace(/^ {2}# ?/, '  ')).join('\n');
    const head = example.slice(0, start).replace(/^sinks: \{\}$/m, 'sinks:');
    const directory = withFiles({ 'kamstrup-logger.yaml': `${head}${uncommented}\n`, 'tls/domoticz-ca.pem': PEM });
    const { config, warnings } = loadConfig({ path: join(directory, 'kamstrup-logger.yaml'), env: {}, now: monday });
    assert.deepEqual(warnings, []);
    const devices = config.sinks.domoticz?.devices ?? [];
    assert.deepEqual(devices.map((d) => [d.idx, d.type]), [[12, 'electric'], [13, 'temperature'], [14, 'temperature'], [15, 'custom'], [16, 'waterflow'], [17, 'counter'], [18, 'alert'], [19, 'counter']]);
    assert.deepEqual(devices.at(-1), { idx: 19, meter: 'home', type: 'counter', registerId: 1004, meterType: 'custom', divider: 1, unit: 'hours' });
  });
});

describe('sinks.domoticz: the url', () => {
  it('refuses credentials in it, from the file or the environment, without repeating them, and says how to give them', () => {
    const fromFile = problemsOf(withDomoticz('url: http://admin:S3cretPw@192.168.2.253:8080'));
    const fromEnv = configError(() => loadYaml(withDomoticz('url: http://192.168.2.253:8080'), { env: { KAMSTRUP_SINKS__DOMOTICZ__URL: 'https://admin:S3cretPw@192.168.2.253:8443' } })).problems;
    for (const problems of [fromFile, fromEnv]) {
      assert.match(
        messageAt(problems, 'sinks.domoticz.url'),
        /^the url holds a user name or password \(https?:\/\/…@192\.168\.2\.253:\d+\): take them out of it and give them as auth: basic with username and password \(or password_file\), or auth: bearer with token \(or token_file\)$/,
      );
      assert.doesNotMatch(JSON.stringify(problems), /S3cretPw|admin/);
    }
    assert.equal(fromEnv[0]?.env, 'KAMSTRUP_SINKS__DOMOTICZ__URL');
  });

  it("refuses what is not Domoticz's address: another scheme, /json.htm, a ?query (never repeated), a browser's #fragment", () => {
    const cases: [string, string][] = [
      ['ftp://192.168.2.253', '"ftp://192.168.2.253" is not an http:// or https:// URL, e.g. http://192.168.2.253:8080'],
      ['192.168.2.253:8080', '"192.168.2.253:8080" is not an http:// or https:// URL, e.g. http://192.168.2.253:8080'],
      ['http://192.168.2.253:8080/json.htm', 'leave /json.htm out of the url (the logger adds it): http://192.168.2.253:8080'],
      [
        'http://192.168.2.253:8080/json.htm?username=YWRtaW4=&password=ZG9tb3RpY3o=',
        'the url holds username= or password= parameters, which Domoticz refuses since 2023: take them out (url: http://192.168.2.253:8080) and give them as auth: basic with username and password (or password_file), or auth: bearer with token (or token_file)',
      ],
      ['http://192.168.2.253:8080/?x=ZG9tb3RpY3o', "the url has a ?query (not shown: it may hold a secret): the url is only Domoticz's address (and path, behind a reverse proxy), e.g. http://192.168.2.253:8080"],
      ['http://192.168.2.253:8080/#/Dashboard', `the url has a #fragment ("#/Dashboard"), as a browser's address does: the url is only Domoticz's address, e.g. http://192.168.2.253:8080`],
    ];
    for (const [url, message] of cases) {
      const problems = problemsOf(withDomoticz(`url: "${url}"`));
      assert.equal(messageAt(problems, 'sinks.domoticz.url'), message, url);
      assert.doesNotMatch(JSON.stringify(problems), /ZG9tb3RpY3o/);
    }
    assert.match(messageAt(problemsOf(withDomoticz('auth: none')), 'sinks.domoticz.url'), /^missing\. The Domoticz server, http:\/\/ or https:\/\//);
  });

  it('takes a path behind a reverse proxy, without its trailing slashes', () => {
    assert.equal(loadYaml(withDomoticz('url: https://home.example/domoticz//')).config.sinks.domoticz?.url, 'https://home.example/domoticz');
  });

  it('refuses a ca_file that cannot be read or holds no certificate, at its key', () => {
    const directory = withFiles({ 'kamstrup-logger.yaml': withDomoticz('url: https://127.0.0.1:8443\nca_file: tls/key.txt'), 'tls/key.txt': 'not a certificate\n' });
    const problems = configError(() => loadConfig({ path: join(directory, 'kamstrup-logger.yaml'), env: {}, now: monday })).problems;
    assert.equal(messageAt(problems, 'sinks.domoticz.ca_file'), `${join(directory, 'tls/key.txt')} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block): give the server's CA certificate in PEM form`);
    assert.match(messageAt(problemsOf(withDomoticz('url: https://127.0.0.1:8443\nca_file: tls/missing.pem')), 'sinks.domoticz.ca_file'), /^cannot read .*tls\/missing\.pem: no such file$/);
  });
});

describe('sinks.domoticz: auth and its credentials', () => {
  const url = 'url: http://127.0.0.1:8080\n';

  it('basic needs username and password; bearer needs a token', () => {
    const basic = problemsOf(withDomoticz(`${url}auth: basic`));
    for (const key of ['username', 'password']) {
      assert.equal(messageAt(basic, `sinks.domoticz.${key}`), 'missing: auth: basic sends the user name and password of a Domoticz account: set username and password (or password_file)');
    }
    assert.deepEqual(problemsOf(withDomoticz(`${url}auth: basic\nusername: kamstrup`)).map((p) => p.key), ['sinks.domoticz.password']);
    assert.equal(messageAt(problemsOf(withDomoticz(`${url}auth: bearer`)), 'sinks.domoticz.token'), 'missing: auth: bearer sends an OAuth2 access token: set token (or token_file)');
  });

  it('refuses credentials the chosen auth does not send, saying which auth sends them', () => {
    const none = problemsOf(withDomoticz(`${url}username: kamstrup\npassword: pw\ntoken: tk`));
    const noCredentials = "auth is none (the default: the logger's address is in Domoticz's Trusted Networks), which sends no credentials";
    assert.equal(messageAt(none, 'sinks.domoticz.username'), `${noCredentials}, so the username is not used: set auth: basic to send username and password, or remove the username`);
    assert.equal(messageAt(none, 'sinks.domoticz.password'), `${noCredentials}, so the password is not used: set auth: basic to send username and password, or remove the password`);
    assert.equal(messageAt(none, 'sinks.domoticz.token'), `${noCredentials}, so the token is not used: set auth: bearer to send the token, or remove the token`);
    const basic = problemsOf(withDomoticz(`${url}auth: basic\nusername: kamstrup\npassword: pw\ntoken: tk`));
    assert.deepEqual(basic.map((p) => [p.key, p.message]), [['sinks.domoticz.token', 'auth is basic, which sends username and password, so the token is not used: set auth: bearer to send the token, or remove the token']]);
    const bearer = problemsOf(withDomoticz(`${url}auth: bearer\ntoken: tk\npassword: pw`));
    assert.deepEqual(bearer.map((p) => [p.key, p.message]), [['sinks.domoticz.password', 'auth is bearer, which sends only the token, so the password is not used: set auth: basic to send username and password, or remove the password']]);
  });

  it('suggests the nearest auth for a misspelt one', () => {
    assert.equal(messageAt(problemsOf(withDomoticz(`${url}auth: basik`)), 'sinks.domoticz.auth'), '"basik" is not one of none, basic, bearer; did you mean basic?');
  });

  it('reads password and token from their _file keys and KAMSTRUP_…_FILE variables, and never shows them in a problem', () => {
    const directory = tempDir();
    const password = join(directory, 'password');
    const token = join(directory, 'token');
    writeFileSync(password, 'Pa55-from-a-file\n');
    writeFileSync(token, 'T0ken-from-a-file\n');
    const fromKey = loadYaml(withDomoticz(`${url}auth: basic\nusername: kamstrup\npassword_file: ${password}`)).config.sinks.domoticz?.auth;
    assert.deepEqual(fromKey, { kind: 'basic', username: 'kamstrup', password: 'Pa55-from-a-file' });
    const fromEnv = loadYaml(withDomoticz(`${url}auth: bearer`), { env: { KAMSTRUP_SINKS__DOMOTICZ__TOKEN_FILE: token } }).config.sinks.domoticz?.auth;
    assert.deepEqual(fromEnv, { kind: 'bearer', token: 'T0ken-from-a-file' });

    // Every kind of problem a section holding them can have: none may show them.
    const wrong = `url: http://admin:x@127.0.0.1:8080\nauth: none\nrefresh_minutes: 0\ndevices:\n  - { idx: 1, type: temperature, register: t_diff, power: power }\n  - { idx: 1, type: alert, register: t1 }`;
    const attempts: { yaml: string; env: Record<string, string> }[] = [
      { yaml: withDomoticz(`${wrong}\nusername: kamstrup\npassword_file: ${password}\ntoken_file: ${token}`), env: {} },
      { yaml: withDomoticz(wrong), env: { KAMSTRUP_SINKS__DOMOTICZ__PASSWORD_FILE: password, KAMSTRUP_SINKS__DOMOTICZ__TOKEN_FILE: token } },
      { yaml: withDomoticz(`${wrong}\npassword: [Pa55-from-a-file]\ntoken: { t: T0ken-from-a-file }`), env: {} },
      { yaml: minimal, env: { KAMSTRUP_SINKS__DOMOTICZ: '{url: "ftp://x", auth: basic, password: Pa55-from-a-file, token: T0ken-from-a-file' } },
      { yaml: minimal, env: { KAMSTRUP_SINKS__DOMOTICZ: '{url: "ftp://x", auth: basix, password: Pa55-from-a-file, token: T0ken-from-a-file}' } },
    ];
    for (const { yaml, env } of attempts) {
      const error = configError(() => loadYaml(yaml, { env }));
      assert.ok(error.problems.length > 0);
      assert.doesNotMatch(`${error.message}\n${error.format()}\n${JSON.stringify(error.problems)}`, /Pa55-from-a-file|T0ken-from-a-file/);
    }
  });
});

describe('sinks.domoticz: the section', () => {
  it('refuses a refresh outside 1…1440 whole minutes, a timeout outside 100…600000 ms, and suggests misspelt keys', () => {
    const problems = (section: string): ReturnType<typeof problemsOf> => problemsOf(withDomoticz(`url: http://127.0.0.1:8080\n${section}`));
    assert.equal(messageAt(problems('refresh_minutes: 0'), 'sinks.domoticz.refresh_minutes'), '0 is out of range; refresh_minutes takes a whole number from 1 to 1440');
    assert.equal(messageAt(problems('refresh_minutes: 1441'), 'sinks.domoticz.refresh_minutes'), '1441 is out of range; refresh_minutes takes a whole number from 1 to 1440');
    assert.equal(messageAt(problems('refresh_minutes: 2.5'), 'sinks.domoticz.refresh_minutes'), '2.5 is not a whole number; refresh_minutes takes a whole number from 1 to 1440');
    assert.equal(messageAt(problems('timeout_ms: 50'), 'sinks.domoticz.timeout_ms'), '50 is out of range; timeout_ms takes a whole number from 100 to 600000');
    assert.equal(messageAt(problems('refresh_minute: 30'), 'sinks.domoticz.refresh_minute'), 'unknown key "refresh_minute"; did you mean "refresh_minutes"?');
    assert.equal(messageAt(problemsOf(`${minimal}sinks:\n  domotics:\n    url: http://127.0.0.1:8080\n`), 'sinks.domotics'), 'unknown key "domotics"; did you mean "domoticz"?');
  });

  it(`refuses more than 200 devices before looking at each`, () => {
    const devices = Array.from({ length: 201 }, (_, i) => `  - { idx: ${i + 1}, type: temperature, register: t1 }`).join('\n');
    const problems = problemsOf(withDomoticz(`url: http://127.0.0.1:8080\ndevices:\n${devices}`));
    assert.deepEqual(problems.map((p) => [p.key, p.message]), [['sinks.domoticz.devices', '201 devices; one logger feeds at most 200: is this the right file?']]);
  });
});

describe('sinks.domoticz: devices', () => {
  it('refuses a repeated idx, and an idx that is not a positive whole number', () => {
    const problems = problemsOf(withDomoticz(`url: http://127.0.0.1:8080\ndevices:\n  - { idx: 13, type: temperature, register: t1 }\n  - { idx: 13, type: temperature, register: t2 }\n  - { idx: 0, type: temperature, register: t2 }\n  - { idx: 1.5, type: temperature, register: t2 }`));
    assert.equal(messageAt(problems, 'sinks.domoticz.devices[1].idx'), 'idx 13 is already the idx of devices[0]; list each Domoticz device once (a device shows one value)');
    assert.equal(messageAt(problems, 'sinks.domoticz.devices[2].idx'), '0 is out of range; idx takes a whole number from 1 to 2147483647');
    assert.equal(messageAt(problems, 'sinks.domoticz.devices[3].idx'), '1.5 is not a whole number; idx takes a whole number from 1 to 2147483647');
  });

  it('suggests the nearest type and key for misspelt ones', () => {
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: temprature, register: t1 }'), 'sinks.domoticz.devices[0].type'), '"temprature" is not one of electric, temperature, custom, usage, counter, waterflow, percentage, text, alert; did you mean temperature?');
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: temperature, regster: t1 }'), 'sinks.domoticz.devices[0].regster'), 'unknown key "regster"; did you mean "register"?');
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: temperature, register: t_dif }'), 'sinks.domoticz.devices[0].register'), 'unknown register "t_dif": not a catalogue name or a number; did you mean t_diff?');
    assert.match(messageAt(deviceProblems('{ type: temperature, register: t1 }'), 'sinks.domoticz.devices[0].idx'), /^missing\. The device's idx in Domoticz/);
  });

  it('wants the registers and meter_type each type reads', () => {
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: temperature }'), 'sinks.domoticz.devices[0].register'), 'missing: a temperature device reads one register, e.g. register: t1');
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: alert }'), 'sinks.domoticz.devices[0].register'), 'missing: an alert device reads one register, e.g. register: info');
    const electric = deviceProblems('{ idx: 1, type: electric, power: power }');
    assert.deepEqual(electric.map((p) => [p.key, p.message]), [['sinks.domoticz.devices[0].energy', 'missing: an electric device reads power (sent in W) and energy (sent in Wh), e.g. power: power and energy: heat_energy']]);
    assert.equal(
      messageAt(deviceProblems('{ idx: 1, type: counter, register: volume }'), 'sinks.domoticz.devices[0].meter_type'),
      'missing: a counter needs meter_type: energy (an energy register, sent in Wh), water (a volume register, sent in litres) or custom (any numeric register × divider)',
    );
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: counter, register: volume, meter_type: gas }'), 'sinks.domoticz.devices[0].meter_type'), '"gas" is not one of energy, water, custom');
  });

  it('refuses keys that belong to another type, saying which type takes them', () => {
    const at = (device: string, key: string): string => messageAt(deviceProblems(device), `sinks.domoticz.devices[0].${key}`);
    assert.equal(at('{ idx: 1, type: temperature, register: t1, power: power }', 'power'), 'power is for electric devices (power and energy together); a temperature device reads one register: write register: instead');
    assert.equal(at('{ idx: 1, type: usage, register: power, energy: heat_energy }', 'energy'), 'energy is for electric devices (power and energy together); a usage device reads one register: write register: instead');
    assert.equal(at('{ idx: 1, type: electric, power: power, energy: heat_energy, register: power }', 'register'), 'an electric device reads two registers, power and energy, not one: write power: power and energy: heat_energy instead');
    assert.equal(at('{ idx: 1, type: waterflow, register: flow, meter_type: water }', 'meter_type'), 'meter_type is for counter devices; a waterflow device has none');
    assert.equal(at('{ idx: 1, type: custom, register: t_diff, divider: 10 }', 'divider'), 'divider is for counter devices with meter_type: custom; a custom device has none');
    assert.equal(at('{ idx: 1, type: counter, register: heat_energy, meter_type: energy, divider: 10 }', 'divider'), "an energy counter's divider is always 1000 (it shows kWh); divider is for counters with meter_type: custom");
    assert.equal(at('{ idx: 1, type: counter, register: volume, meter_type: water, unit: l }', 'unit'), 'a water counter shows m³; unit is for custom devices and counters with meter_type: custom');
    assert.equal(at('{ idx: 1, type: temperature, register: t1, unit: K }', 'unit'), "unit is for custom devices and counters with meter_type: custom; a temperature device shows Domoticz's own unit");
    assert.equal(at('{ idx: 1, type: counter, register: hour_counter, meter_type: custom, divider: 0 }', 'divider'), '0 is out of range; divider takes a whole number from 1 to 1000000');
  });

  it('refuses a register that cannot feed the device type, naming both and the type it fits', () => {
    const at = (device: string, key = 'register'): string => messageAt(deviceProblems(device), `sinks.domoticz.devices[0].${key}`);
    assert.equal(at('{ idx: 1, type: temperature, register: target_date }'), 'target_date (98) is a date: a temperature device takes a temperature register (t1, t2 …); map target_date to a text device');
    assert.equal(at('{ idx: 1, type: temperature, register: t_diff }'), 't_diff (89) is a temperature difference, not a temperature: a temperature device takes a temperature register (t1, t2 …); map t_diff to a custom device');
    assert.equal(at('{ idx: 1, type: custom, register: max_flow_date_month }'), 'max_flow_date_month (138) is a date: a custom device takes a numeric register (not a date or time); map max_flow_date_month to a text device');
    assert.equal(at('{ idx: 1, type: usage, register: heat_energy }'), 'heat_energy (60) is an energy register: a usage device takes a power register (power); map heat_energy to an electric device (as its energy) or a counter with meter_type: energy');
    assert.equal(at('{ idx: 1, type: waterflow, register: volume }'), 'volume (68) is a volume register: a waterflow device takes a flow register (flow); map volume to a counter with meter_type: water');
    assert.equal(at('{ idx: 1, type: counter, register: power, meter_type: energy }'), 'power (80) is a power register: a counter with meter_type: energy takes an energy register (heat_energy …); map power to a usage device or an electric device (as its power)');
    assert.equal(at('{ idx: 1, type: counter, register: flow, meter_type: water }'), 'flow (74) is a flow register: a counter with meter_type: water takes a volume register (volume …); map flow to a waterflow device');
    assert.equal(at('{ idx: 1, type: counter, register: target_date, meter_type: custom }'), 'target_date (98) is a date: a counter with meter_type: custom takes a numeric register (not a date or time); map target_date to a text device');
    assert.equal(at('{ idx: 1, type: alert, register: t1 }'), 't1 (86) is a temperature: an alert device takes the info register (info), whose code it shows as a level and a text; map t1 to a temperature device');
    assert.equal(at('{ idx: 1, type: alert, register: 300 }'), 'register 300 is not the info register: an alert device takes the info register (info), whose code it shows as a level and a text');
    assert.equal(at('{ idx: 1, type: percentage, register: t1 }'), 't1 (86) is a temperature: a percentage device takes a register in % (the catalogue has none: give the id of one your meter has); map t1 to a temperature device');
    const swapped = deviceProblems('{ idx: 1, type: electric, power: heat_energy, energy: power }');
    assert.equal(messageAt(swapped, 'sinks.domoticz.devices[0].power'), 'heat_energy (60) is an energy register: an electric device takes a power register (power) as its power');
    assert.equal(messageAt(swapped, 'sinks.domoticz.devices[0].energy'), 'power (80) is a power register: an electric device takes an energy register (heat_energy …) as its energy');
  });

  it('takes any register on a text device, and a register the catalogue does not know on a typed one (its unit is checked per reading)', () => {
    const jobs = `jobs:\n  - name: live\n    cron: "*/5 * * * *"\n    registers: [target_date, info, 300, 301]\n`;
    const { config } = loadYaml(withDomoticz(`url: http://127.0.0.1:8080\ndevices:\n  - { idx: 1, type: text, register: target_date }\n  - { idx: 2, type: text, register: info }\n  - { idx: 3, type: temperature, register: 300 }\n  - { idx: 4, type: counter, register: 301, meter_type: energy }`, `${minimal}${jobs}`));
    assert.deepEqual(config.sinks.domoticz?.devices.map((d) => d.type), ['text', 'text', 'temperature', 'counter']);
  });
});

describe('sinks.domoticz: devices, their meter and the jobs that read them', () => {
  it('needs meter when the config has several meters, and one that exists', () => {
    const missing = deviceProblems('{ idx: 1, type: temperature, register: t1 }', twoMeters);
    assert.equal(messageAt(missing, 'sinks.domoticz.devices[0].meter'), 'missing: the config has several meters ("home", "garage"): name the one that feeds this device, e.g. meter: home');
    const misspelt = deviceProblems('{ idx: 1, type: temperature, register: t1, meter: garag }', twoMeters);
    assert.equal(messageAt(misspelt, 'sinks.domoticz.devices[0].meter'), 'no meter is named "garag"; did you mean "garage"?');
    assert.equal(messageAt(deviceProblems('{ idx: 1, type: temperature, register: t1, meter: cellar }'), 'sinks.domoticz.devices[0].meter'), 'no meter is named "cellar"; the meters are "home"');
    const { config } = loadYaml(withDomoticz('url: http://127.0.0.1:8080\ndevices:\n  - { idx: 1, type: temperature, register: t1, meter: garage }', twoMeters));
    assert.equal(config.sinks.domoticz?.devices[0]?.meter, 'garage');
  });

  it('refuses a register that no job reads on the meter, with the fix for default jobs and for jobs of your own', () => {
    assert.equal(
      messageAt(deviceProblems('{ idx: 1, type: temperature, register: avg_t1_year }', 'meters:\n  - name: home\n    url: /dev/ttyUSB0\n    model: multical-302\n'), 'sinks.domoticz.devices[0].register'),
      'no job reads avg_t1_year (146) from meter "home", so the device would never be updated: the default jobs ("live", "statistics") do not read it: list jobs of your own, one of them reading avg_t1_year (see jobs: in kamstrup-logger.example.yaml)',
    );
    const jobs = `jobs:\n  - name: fast\n    cron: "* * * * *"\n    registers: [power]\n  - name: slow\n    cron: "*/5 * * * *"\n    registers: [heat_energy, t1]\n    meters: [garage]\n`;
    const own = deviceProblems('{ idx: 1, type: temperature, register: t1, meter: home }', `${twoMeters}${jobs}`);
    assert.equal(messageAt(own, 'sinks.domoticz.devices[0].register'), 'no job reads t1 (86) from meter "home", so the device would never be updated: add t1 to the registers of a job that reads it ("fast")');
    const noJob = deviceProblems('{ idx: 1, type: temperature, register: t1, meter: home }', `${twoMeters}jobs:\n  - name: slow\n    cron: "*/5 * * * *"\n    registers: [t1]\n    meters: [garage]\n`);
    assert.equal(messageAt(noJob, 'sinks.domoticz.devices[0]'), 'no job reads meter "home", so nothing would reach this device: name the meter in a job\'s meters (or leave a job\'s meters out to read every meter)');
  });

  it("refuses an electric device whose two registers different jobs read", () => {
    const jobs = `jobs:\n  - name: fast\n    cron: "* * * * *"\n    registers: [power]\n  - name: slow\n    cron: "*/5 * * * *"\n    registers: [heat_energy, t1]\n`;
    const problems = deviceProblems('{ idx: 1, type: electric, power: power, energy: heat_energy }', `${minimal}${jobs}`);
    assert.deepEqual(problems.map((p) => [p.key, p.message]), [[
      'sinks.domoticz.devices[0]',
      'power (80) and heat_energy (60) are read by different jobs of meter "home" (power by "fast"; heat_energy by "slow"): an electric device is updated from one job run that holds both, so read both in one job',
    ]]);
    loadYaml(withDomoticz('url: http://127.0.0.1:8080\ndevices:\n  - { idx: 1, type: electric, power: power, energy: heat_energy }', `${minimal}${jobs.replace('[power]', '[power, heat_energy]')}`));
  });

  it('reports every problem of a file in one load, even beside problems the schema finds', () => {
    const problems = problemsOf(withDomoticz('url: http://127.0.0.1:8080\nauth: bearer\ntimeout_ms: nope\ndevices:\n  - { idx: x, type: temperature, register: t_diff }\n  - { idx: 2, type: alert, register: t1 }'));
    assert.deepEqual(problems.map((p) => p.key).sort(), ['sinks.domoticz.devices[0].idx', 'sinks.domoticz.devices[0].register', 'sinks.domoticz.devices[1].register', 'sinks.domoticz.timeout_ms', 'sinks.domoticz.token']);
  });
});

describe('sinks.domoticz from the environment', () => {
  it('sets the section, its devices and their keys by KAMSTRUP_SINKS__DOMOTICZ__…', () => {
    const { config } = loadYaml(minimal, {
      env: {
        KAMSTRUP_SINKS__DOMOTICZ__URL: 'http://127.0.0.1:8080/',
        KAMSTRUP_SINKS__DOMOTICZ__AUTH: 'basic',
        KAMSTRUP_SINKS__DOMOTICZ__USERNAME: 'kamstrup',
        KAMSTRUP_SINKS__DOMOTICZ__PASSWORD: '1234',
        KAMSTRUP_SINKS__DOMOTICZ__REFRESH_MINUTES: '20',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__IDX: '12',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__TYPE: 'electric',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__POWER: 'power',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__ENERGY: '60',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__1: '{idx: 13, type: custom, register: t_diff, unit: "°C"}',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__2__IDX: '17',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__2__TYPE: 'counter',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__2__REGISTER: 'volume',
        KAMSTRUP_SINKS__DOMOTICZ__DEVICES__2__METER_TYPE: 'water',
      },
    });
    assert.deepEqual(config.sinks.domoticz, {
      url: 'http://127.0.0.1:8080',
      // A password of digits stays text: the key takes text.
      auth: { kind: 'basic', username: 'kamstrup', password: '1234' },
      refreshMs: 20 * 60_000,
      timeoutMs: 10_000,
      ca: null,
      devices: [
        { idx: 12, meter: 'home', type: 'electric', powerRegisterId: 80, energyRegisterId: 60 },
        { idx: 13, meter: 'home', type: 'custom', registerId: 89, unit: '°C' },
        { idx: 17, meter: 'home', type: 'counter', registerId: 68, meterType: 'water', divider: 1000, unit: null },
      ],
    });
  });

  it('overrides one device key of the file, and names the variable of a problem, with the nearest name for a misspelt one', () => {
    const yaml = withDomoticz(`url: http://127.0.0.1:8080\n${issueDevices}`);
    assert.equal(loadYaml(yaml, { env: { KAMSTRUP_SINKS__DOMOTICZ__DEVICES__1__IDX: '113' } }).config.sinks.domoticz?.devices[1]?.idx, 113);
    const problems = configError(() => loadYaml(yaml, { env: { KAMSTRUP_SINKS__DOMOTICZ__DEVICES__1__REGISTER: 'target_date', KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__REGISTR: 't1' } })).problems;
    assert.deepEqual(problems.map((p) => [p.env, p.message]), [
      ['KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__REGISTR', 'names no configuration key; did you mean KAMSTRUP_SINKS__DOMOTICZ__DEVICES__0__REGISTER?'],
      ['KAMSTRUP_SINKS__DOMOTICZ__DEVICES__1__REGISTER', 'target_date (98) is a date: a temperature device takes a temperature register (t1, t2 …); map target_date to a text device'],
    ]);
  });
});

describe('sinks.domoticz start-up warnings', () => {
  it('warns when there are no devices, with the setup command for this file', () => {
    const { warnings, file } = loadYaml(withDomoticz('url: http://127.0.0.1:8080'));
    assert.deepEqual(warnings, [`sinks.domoticz has no devices, so nothing is sent to Domoticz: run \`kamstrup-logger domoticz setup --config ${file}\` to create them and print the devices: list to paste`]);
  });

  it('warns when refresh_minutes is 60 or more, and not below', () => {
    const section = (minutes: number): string => withDomoticz(`url: http://127.0.0.1:8080\nrefresh_minutes: ${minutes}\n${issueDevices}`);
    const timeout = (minutes: number): string => `sinks.domoticz.refresh_minutes is ${minutes}: Domoticz marks a sensor as timed out, and leaves gaps in its graphs, after 60 minutes without an update; set it below 60 (the default is 55)`;
    assert.deepEqual(loadYaml(section(60)).warnings, [timeout(60)]);
    assert.deepEqual(loadYaml(section(1440)).warnings, [timeout(1440)]);
    assert.deepEqual(loadYaml(section(59)).warnings, []);
  });
});
