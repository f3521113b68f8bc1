// A loopback HTTP test double of Domoticz 2025.1 (build 16785). It answers as the real server
// recorded in ../shared/fixtures/domoticz-2025.1-recorded.jsonl does and follows
// ../shared/docs/domoticz-api.md; test/sinks/domoticz-server.test.ts replays every recorded
// request against it. What it models, because the logger depends on it:
// - authentication: a 401 HTML page WITHOUT WWW-Authenticate; trusted networks (WebLocalNetworks:
//   "a.b.c.d", "a.b.c.0/nn", "a.b.c.*", ";"-separated) run with admin rights; a request carrying
//   `Authorization: Basic` is judged by it even from a trusted network, and refused over plain
//   HTTP unless AllowPlainBasicAuth; `username=`/`password=` URL parameters are no method at all;
//   session cookies from logincheck (base64 user, md5 password); rights 0 Viewer, 1 User, 2 Admin;
// - udevice: ERR for an unknown, zero or non-numeric idx, no idx, neither nvalue nor svalue, and
//   a non-numeric delta for a Counter Incremental; OK for anything else, stored as sent;
// - getdevices: Data/Temp/Usage/Counter/CounterToday computed the way the server showed them
//   (temperature atof then %.2f, shown %.1f; electric "%.3f kWh" and "%g Watt", a raw "0, <svalue>"
//   for a wrong number of parts; counters as count / divider; CounterToday against the value the
//   short log sampled, which a test triggers with sampleShortLog() as Domoticz's 5-minute tick);
// - addhardware, createdevice (no hardware check, ERR for a custom sensor without sensoroptions),
//   setused (the meter type changes only with `name`), gethardware, adduser, updateuser,
//   getusers, storesettings (WebLocalNetworks, AllowPlainBasicAuth), 404 for any other `type`.
// - createdevice of the types the recording never created follows Domoticz's own source
//   (domoticz/domoticz at 85308e91e: main/SQLHelper.cpp CreateDevice for the initial value,
//   main/WebServer.cpp GetJSonDevices for what getdevices shows, main/RFXNames.cpp for the
//   Type/SubType names): Usage (Electric) 0xF801 starts at "0", shows "%g Watt"; Percentage
//   0xF306 starts at "0.0", shows "%g%"; Alert 0xF316 starts at nvalue 0 "No Alert!", shows its
//   svalue (or the level's word when empty) with Level = nvalue capped at 4.
// Not modelled: the settings dump of getsettings (only its status and title).

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DOMOTICZ_VERSION = '2025.1 (build 16785)';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
  readonly remoteAddress: string;
}

export interface DomoticzSettings {
  /** WebLocalNetworks: "" on a fresh install. */
  trustedNetworks: string;
  /** AllowPlainBasicAuth: off on a fresh install. */
  allowPlainBasicAuth: boolean;
}

export interface DomoticzServerOptions {
  readonly settings?: Partial<DomoticzSettings>;
  /** Started with -nowwwpwd: every request runs as admin unless it carries Basic credentials. */
  readonly noWebPassword?: boolean;
}

interface User {
  idx: number;
  username: string;
  passwordMd5: string;
  rights: 0 | 1 | 2;
  tabsEnabled: number;
}

interface Hardware {
  readonly idx: number;
  readonly name: string;
  readonly port: number;
}

type DeviceKind = 'temperature' | 'electric' | 'custom' | 'waterflow' | 'rfxmeter' | 'incremental' | 'text' | 'usage' | 'percentage' | 'alert';

interface Device {
  readonly idx: number;
  readonly kind: DeviceKind;
  readonly hardwareIdx: number;
  name: string;
  svalue: string;
  nvalue: number;
  /** Custom sensor unit, from sensoroptions=1;<unit>. */
  readonly sensorUnit: string;
  switchType: number;
  /** AddjValue2: the counter divider set by setused, 0 for the meter type's default. */
  divider: number;
  /** Counter Incremental: the running total. */
  total: number;
  /** The value the short log sampled today, once it has. */
  sampled: number | null;
  lastUpdate: Date;
}

const deviceKinds: ReadonlyMap<number, DeviceKind> = new Map([
  [0x5005, 'temperature'],
  [0xf31d, 'electric'],
  [0xf31f, 'custom'],
  [0xf31e, 'waterflow'],
  [0x7100, 'rfxmeter'],
  [0xf31c, 'incremental'],
  [0xf313, 'text'],
  [0xf801, 'usage'],
  [0xf306, 'percentage'],
  [0xf316, 'alert'],
]);

/** What createdevice stores first, per kind (CSQLHelper::CreateDevice). */
const initialSvalues: Readonly<Partial<Record<DeviceKind, string>>> = {
  temperature: '0.0',
  electric: '0;0',
  text: '',
  percentage: '0.0',
  alert: 'No Alert!',
};

/** Get_Alert_Desc (main/RFXNames.cpp): an alert's word when its svalue is empty. */
const alertWords = ['undefined', 'normal', 'warning', 'alert', 'alarm'];

/** Commands Domoticz answers without authentication. */
const openCommands = new Set(['getversion', 'getauth', 'logincheck']);
/** Commands that need a User: everything else but these needs an Admin. */
const userCommands = new Set(['udevice', 'getdevices']);

const UNAUTHORIZED_PAGE = '<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>';
const DEAD_COOKIE = 'DMZSID=none; HttpOnly; SameSite=strict; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
const SESSION_MS = 10 * 60 * 1000;

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** C's atof: the longest numeric prefix, 0 when there is none. */
export function atof(text: string): number {
  const match = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text);
  return match ? Number(match[0]) : 0;
}

/** printf("%.Nf"): rounds the double's exact binary value, ties to even, as glibc does. */
export function cFixed(value: number, places: number): string {
  const exact = value.toFixed(Math.min(100, places + 30));
  const [whole = '0', fraction = ''] = exact.replace('-', '').split('.');
  const kept = BigInt(whole + fraction.slice(0, places));
  const rest = fraction.slice(places);
  const up = /^50*$/.test(rest) ? kept % 2n === 1n : (rest[0] ?? '0') >= '5';
  const digits = (kept + (up ? 1n : 0n)).toString().padStart(places + 1, '0');
  const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return value < 0 && /[1-9]/.test(text) ? `-${text}` : text;
}

/** printf("%g") for the values a tile shows. */
export function cG(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function inTrustedNetwork(address: string, networks: string): boolean {
  const ip = address.replace(/^::ffff:/, '');
  const toNumber = (dotted: string): number => dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  for (const entry of networks.split(';').map((e) => e.trim()).filter((e) => e !== '')) {
    if (entry.includes('*')) {
      if (new RegExp(`^${entry.replace(/\./g, '\\.').replace(/\*/g, '\\d+')}$`).test(ip)) return true;
    } else if (entry.includes('/')) {
      const [base = '', bits = '32'] = entry.split('/');
      const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
      if (((toNumber(ip) & mask) >>> 0) === ((toNumber(base) & mask) >>> 0)) return true;
    } else if (entry === ip) return true;
  }
  return false;
}

export class DomoticzServer {
  /** Every request the double got, in order. */
  readonly requests: RecordedRequest[] = [];
  /** TCP connections the double accepted: one keep-alive client makes one. */
  connections = 0;
  readonly settings: DomoticzSettings;
  /**
   * Not Domoticz's behaviour but a network's and a test's: awaited before each request is
   * answered (a slow server); resolving false drops the connection unanswered (a server that
   * went down mid-request).
   */
  beforeAnswer: ((url: string) => Promise<boolean>) | null = null;
  private readonly server: Server;
  private readonly noWebPassword: boolean;
  private readonly users: User[] = [{ idx: 1, username: 'admin', passwordMd5: md5('domoticz'), rights: 2, tabsEnabled: 31 }];
  private readonly sessions = new Map<string, { user: User; expires: number }>();
  private readonly hardware: Hardware[] = [];
  private readonly devices: Device[] = [];
  private nextHardwareIdx = 2;

  private constructor(options: DomoticzServerOptions) {
    this.settings = { trustedNetworks: '', allowPlainBasicAuth: false, ...options.settings };
    this.noWebPassword = options.noWebPassword ?? false;
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.on('connection', () => this.connections++);
  }

  static async start(options: DomoticzServerOptions = {}): Promise<DomoticzServer> {
    const double = new DomoticzServer(options);
    await new Promise<void>((resolve, reject) => {
      double.server.once('error', reject);
      double.server.listen(0, '127.0.0.1', () => resolve());
    });
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Domoticz's 5-minute short-log tick: each meter's current value becomes today's baseline. */
  sampleShortLog(): void {
    for (const device of this.devices) {
      if (device.sampled !== null) continue;
      if (device.kind === 'electric') device.sampled = atof(device.svalue.split(';')[1] ?? '');
      if (device.kind === 'rfxmeter') device.sampled = Math.trunc(atof(device.svalue));
      if (device.kind === 'incremental') device.sampled = device.total;
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A device's stored nvalue and svalue, as udevice left them; undefined for an unknown idx. */
  stored(idx: number): { readonly nvalue: number; readonly svalue: string } | undefined {
    const device = this.devices.find((d) => d.idx === idx);
    return device && { nvalue: device.nvalue, svalue: device.svalue };
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const gate = this.beforeAnswer;
    if (!gate) return this.answer(request, response);
    request.resume();
    void gate(request.url ?? '/').then((answer) => {
      if (answer) this.answer(request, response);
      else request.socket.destroy();
    });
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/';
    this.requests.push({
      method: request.method ?? '',
      url,
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
      remoteAddress: request.socket.remoteAddress ?? '',
    });
    request.resume();
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    if (!url.startsWith('/json.htm')) return this.send(response, 404, '');
    const command = query.get('param') ?? '';
    const user = this.authenticate(request, url);
    if (user === 'refused' || (user === null && !openCommands.has(command))) {
      response.writeHead(401, { 'Content-Type': 'text/html;charset=UTF-8', 'Set-Cookie': DEAD_COOKIE });
      response.end(UNAUTHORIZED_PAGE);
      return;
    }
    if (query.get('type') !== 'command') return this.send(response, 404, '');
    if (user !== null && !openCommands.has(command)) {
      const needed = userCommands.has(command) ? 1 : 2;
      if (user.rights < needed) return this.send(response, 403, { status: 'ERR' });
    }
    this.command(command, query, user, response);
  }

  /** The user a request runs as; null for none; 'refused' for credentials Domoticz rejects. */
  private authenticate(request: IncomingMessage, url: string): User | null | 'refused' {
    const authorization = request.headers.authorization;
    // Basic is only looked at on /json.htm? (cWebem); over plain HTTP only with AllowPlainBasicAuth.
    if (authorization?.startsWith('Basic ') && url.startsWith('/json.htm?')) {
      if (!this.settings.allowPlainBasicAuth) return 'refused';
      const [username, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
      const user = this.users.find((u) => u.username === username && u.passwordMd5 === md5(rest.join(':')));
      return user ?? 'refused';
    }
    const sessionId = /(?:^|;\s*)DMZSID=([^;.]+)/.exec(request.headers.cookie ?? '')?.[1];
    const session = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (session && session.expires > Date.now()) {
      session.expires = Date.now() + SESSION_MS;
      return session.user;
    }
    const admin = this.users.find((u) => u.rights === 2) ?? null;
    if (this.noWebPassword || inTrustedNetwork(request.socket.remoteAddress ?? '', this.settings.trustedNetworks)) return admin;
    return null;
  }

  private send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    response.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...headers });
    // Domoticz pretty-prints with tabs (jsoncpp's StyledWriter).
    response.end(body === '' ? '' : `${JSON.stringify(body, null, '\t')}\n`);
  }

  private command(command: string, query: URLSearchParams, user: User | null, response: ServerResponse): void {
    const ok = (title: string, extra: Record<string, unknown> = {}): void => this.send(response, 200, { ...extra, status: 'OK', title });
    const err = (): void => this.send(response, 200, { status: 'ERR' });
    switch (command) {
      case 'getversion':
        return user === null
          ? ok('GetVersion')
          : ok('GetVersion', {
              DomoticzUpdateURL: 'https://www.domoticz.com/download.php?channel=stable&type=release&system=linux&machine=x86_64',
              HaveUpdate: false,
              Revision: 0,
              SystemName: 'linux',
              UseUpdate: false,
              build_time: '2025-09-20 08:28:08',
              dzvents_version: '3.1.8',
              hash: '85308e91e-modified',
              python_version: 'None',
              version: DOMOTICZ_VERSION,
            });
      case 'getauth':
        return ok('GetAuth');
      case 'logincheck': {
        const username = Buffer.from(query.get('username') ?? '', 'base64').toString('utf8');
        const found = this.users.find((u) => u.username === username && u.passwordMd5 === query.get('password'));
        if (!found) return err();
        const id = `${randomBytes(16).toString('hex')}_${randomBytes(27).toString('base64url')}`;
        const expires = Date.now() + SESSION_MS;
        this.sessions.set(id, { user: found, expires });
        return this.send(
          response,
          200,
          { rights: found.rights, status: 'OK', title: 'logincheck', user: found.username, version: DOMOTICZ_VERSION },
          { 'Set-Cookie': `DMZSID=${id}.${Math.floor(expires / 1000)}; HttpOnly; SameSite=strict; path=/; Expires=${new Date(expires).toUTCString()}` },
        );
      }
      case 'getsettings':
        return ok('settings');
      case 'storesettings':
        this.settings.trustedNetworks = query.get('WebLocalNetworks') ?? '';
        this.settings.allowPlainBasicAuth = query.get('AllowPlainBasicAuth') === 'on';
        return ok('StoreSettings', { message: 'Processed 71 settings!' });
      case 'getusers':
        return ok('Users', {
          result: this.users.map((u) => ({ Enabled: 'true', Password: u.passwordMd5, RemoteSharing: 0, Rights: u.rights, TabsEnabled: u.tabsEnabled, Username: u.username, idx: String(u.idx) })),
        });
      case 'adduser':
      case 'updateuser': {
        const rights = Number(query.get('rights'));
        const fields = { username: query.get('username') ?? '', passwordMd5: query.get('password') ?? '', rights: (rights === 2 ? 2 : rights === 1 ? 1 : 0) as User['rights'], tabsEnabled: Number(query.get('TabsEnabled') ?? 0) };
        if (command === 'adduser') {
          this.users.push({ idx: Math.max(...this.users.map((u) => u.idx)) + 1, ...fields });
          return ok('AddUser');
        }
        const existing = this.users.find((u) => u.idx === Number(query.get('idx')));
        if (!existing) return err();
        Object.assign(existing, fields);
        return ok('UpdateUser');
      }
      case 'addhardware': {
        if (query.get('htype') !== '15') return err();
        const hardware = { idx: this.nextHardwareIdx++, name: query.get('name') ?? '', port: Number(query.get('port') ?? 0) };
        this.hardware.push(hardware);
        return ok('AddHardware', { idx: String(hardware.idx) });
      }
      case 'gethardware':
        return ok('gethardware', {
          result: this.hardware.map((h) => ({
            Address: '', DataTimeout: 0, Enabled: 'true', Extra: '', LogLevel: 0,
            Mode1: 0, Mode2: 0, Mode3: 0, Mode4: 0, Mode5: 0, Mode6: 0,
            Name: h.name, Password: '', Port: h.port, SerialPort: '1', Type: 15, Username: '', idx: String(h.idx),
          })),
        });
      case 'createdevice':
        return this.createDevice(query, ok, err);
      case 'setused': {
        const device = this.device(query.get('idx'));
        if (!device) return err();
        // Cmd_SetUsed applies switchtype only in the branch where name is not empty.
        const name = query.get('name') ?? '';
        if (name !== '') {
          device.name = name;
          device.switchType = Number(query.get('switchtype') ?? device.switchType);
        }
        const divider = query.get('addjvalue2');
        if (divider !== null) device.divider = Number(divider);
        return ok('SetUsed');
      }
      case 'udevice':
        return this.updateDevice(query, ok, err);
      case 'getdevices': {
        const rid = query.get('rid');
        const shown = rid === null ? (query.get('filter') === 'all' ? this.devices : []) : this.devices.filter((d) => String(d.idx) === rid);
        const head = { ActTime: Math.floor(Date.now() / 1000), app_version: DOMOTICZ_VERSION };
        return shown.length === 0 ? ok('Devices', head) : ok('Devices', { ...head, result: shown.map((d) => this.describe(d)) });
      }
      default:
        return err();
    }
  }

  private device(idx: string | null): Device | undefined {
    return idx !== null && /^\d+$/.test(idx) ? this.devices.find((d) => d.idx === Number(idx)) : undefined;
  }

  private createDevice(query: URLSearchParams, ok: (title: string, extra?: Record<string, unknown>) => void, err: () => void): void {
    const mapped = query.get('sensormappedtype');
    const kind = mapped === null ? undefined : deviceKinds.get(Number(mapped));
    const options = query.get('sensoroptions');
    if (kind === undefined || (kind === 'custom' && !options?.startsWith('1;'))) return err();
    const device: Device = {
      idx: (this.devices[this.devices.length - 1]?.idx ?? 0) + 1,
      kind,
      hardwareIdx: Number(query.get('idx')),
      name: query.get('sensorname') ?? '',
      svalue: initialSvalues[kind] ?? '0',
      nvalue: 0,
      sensorUnit: options?.slice(2) ?? '',
      switchType: 0,
      divider: 0,
      total: 0,
      sampled: null,
      lastUpdate: new Date(),
    };
    this.devices.push(device);
    ok('CreateSensor', { idx: String(device.idx) });
  }

  private updateDevice(query: URLSearchParams, ok: (title: string) => void, err: () => void): void {
    const device = this.device(query.get('idx'));
    const svalue = query.get('svalue');
    const nvalue = query.get('nvalue');
    if (!device || (svalue === null && nvalue === null)) return err();
    if (device.kind === 'incremental') {
      if (svalue === null || !/^\s*[+-]?\d/.test(svalue)) return err();
      device.total += Math.trunc(atof(svalue));
    }
    device.svalue = svalue ?? '';
    device.nvalue = Number(nvalue ?? 0);
    device.lastUpdate = new Date();
    ok('Update Device');
  }

  private describe(device: Device): Record<string, unknown> {
    const hardware = this.hardware.find((h) => h.idx === device.hardwareIdx);
    const base: Record<string, unknown> = {
      AddjMulti: 1.0, AddjMulti2: 1.0, AddjValue: 0.0, AddjValue2: device.divider, BatteryLevel: 255, CustomImage: 0,
      Description: '', Favorite: 0,
      HardwareDisabled: hardware === undefined,
      HardwareID: device.hardwareIdx,
      HardwareName: hardware?.name ?? 'Unknown?',
      HardwareType: hardware ? 'Dummy (Does nothing, use for virtual switches only)' : 'Unknown?',
      HardwareTypeVal: hardware ? 15 : 0,
      HaveTimeout: false,
      LastUpdate: formatLocal(device.lastUpdate),
      Name: device.name, Notifications: 'false', PlanID: '0', PlanIDs: [0], Protected: false, ShowNotifications: true,
      SignalLevel: '-', Timers: 'false', Unit: 1, Used: 1, XOffset: '0', YOffset: '0', idx: String(device.idx),
    };
    const general = (subType: string, typeImg: string, id = `000${(0x82000 + device.idx).toString(16).toUpperCase()}`): Record<string, unknown> => ({ ...base, ID: id, Type: 'General', SubType: subType, TypeImg: typeImg });
    switch (device.kind) {
      case 'temperature': {
        const temp = Number(cFixed(atof(device.svalue), 2));
        return { ...base, ID: String(14050 + device.idx), Type: 'Temp', SubType: 'LaCrosse TX3', TypeImg: 'temperature', Data: `${cFixed(temp, 1)} C`, Temp: temp, trend: 0 };
      }
      case 'electric': {
        const parts = device.svalue.split(';');
        const electric: Record<string, unknown> = { ...general('kWh', 'current'), EnergyMeterMode: '', SwitchTypeVal: 0, ...(device.sampled === null ? {} : { price: '0.0000' }) };
        if (parts.length !== 2 || parts.includes('')) {
          // A stored svalue the tile cannot parse: shown raw, and no timeout is judged.
          delete electric['HaveTimeout'];
          return { ...electric, Data: `0, ${device.svalue}` };
        }
        const energy = atof(parts[1] ?? '');
        return {
          ...electric,
          Data: `${cFixed(energy / 1000, 3)} kWh`,
          Usage: `${cG(atof(parts[0] ?? ''))} Watt`,
          CounterToday: device.sampled === null ? '0 kWh' : `${cFixed((energy - device.sampled) / 1000, 3)} kWh`,
        };
      }
      case 'custom':
        return { ...general('Custom Sensor', 'Custom'), Image: 'Custom', SensorType: 1, SensorUnit: device.sensorUnit, Data: `${cG(atof(device.svalue))} ${device.sensorUnit}` };
      case 'waterflow':
        return { ...general('Waterflow', 'moisture'), Image: 'Moisture', Data: `${cG(atof(device.svalue))} l/min` };
      case 'usage':
        return { ...base, ID: (0x82000 + device.idx).toString(16).toUpperCase(), Type: 'Usage', SubType: 'Electric', TypeImg: 'current', Data: `${cG(atof(device.svalue))} Watt` };
      case 'percentage':
        return { ...general('Percentage', 'hardware'), Data: `${cG(atof(device.svalue))}%` };
      case 'alert': {
        const level = Math.min(4, device.nvalue);
        return { ...general('Alert', 'Alert', (0x82000 + device.idx).toString(16).toUpperCase()), HaveTimeout: false, Level: level, Data: device.svalue !== '' ? device.svalue : (alertWords[level] ?? 'unknown level') };
      }
      case 'text':
        // A text device has no notifications.
        return { ...general('Text', 'text'), ShowNotifications: false, Data: device.svalue };
      case 'rfxmeter': {
        const meter: Record<string, unknown> = { ...base, ID: String(14050 + device.idx), Type: 'RFXMeter', SubType: 'RFXMeter counter', TypeImg: 'counter' };
        if (!/^\d+(\.\d*)?$/.test(device.svalue)) {
          delete meter['HaveTimeout'];
          delete meter['Timers'];
          return { ...meter, Data: `0, ${device.svalue}` };
        }
        // The counter takes the integer part: 55648.5 counts 55648.
        const count = Math.trunc(atof(device.svalue));
        const water = device.switchType === 2;
        const divider = device.divider > 0 ? device.divider : water ? 100 : 1000;
        const shown = `${cFixed(count / divider, 3)} ${water ? 'm3' : 'kWh'}`;
        const today =
          device.sampled === null ? '0' : water ? `${Math.round(((count - device.sampled) * 1000) / divider)} Liter` : `${cFixed((count - device.sampled) / divider, 3)} kWh`;
        return { ...meter, ...(device.sampled === null ? {} : { price: '0.0000' }), Counter: shown, CounterToday: today, Data: shown, Divider: divider, SwitchTypeVal: device.switchType, ValueQuantity: 'Custom', ValueUnits: '' };
      }
      case 'incremental': {
        const shown = `${cFixed(device.total / 1000, 3)} kWh`;
        return {
          ...general('Counter Incremental', 'counter', (0x82000 + device.idx).toString(16).toUpperCase()),
          ...(device.sampled === null ? {} : { price: '0.0000' }),
          Counter: shown,
          CounterToday: device.sampled === null ? '0.000' : `${cFixed((device.total - device.sampled) / 1000, 3)} kWh`,
          Data: shown, Divider: 1000, SwitchTypeVal: 0, ValueQuantity: 'Custom', ValueUnits: '',
        };
      }
    }
  }
}

function formatLocal(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
