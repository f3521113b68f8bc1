// What InfluxDB 1.6 does with the provisioned data source's requests: Grafana sends every InfluxQL
// query to <url>/query with the URL's own query parameters kept and db, epoch and q added
// (pkg/tsdb/influxdb/influxql/influxql.go, createRequest), and always the custom header
// `Authorization: Token ${INFLUXDB_TOKEN}`. Measured here on the real server, so the README and the
// comments in kamstrup-influxdb.yaml say how a 1.6 user sets the variables.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverUnavailable, startInfluxDb1, type HttpResult, type InfluxDb1Server } from '../support/servers.js';

const DATABASE = 'heat';
const QUERY = 'SELECT last("heat_energy") FROM "kamstrup"';

/** A query as Grafana's backend sends it for a data source at `datasourceUrl`, with its token header. */
function grafanaQuery(server: InfluxDb1Server, datasourceUrl: string, token: string): Promise<HttpResult> {
  const url = new URL(datasourceUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/query`;
  url.searchParams.set('db', DATABASE);
  url.searchParams.set('epoch', 'ms');
  url.searchParams.set('q', QUERY);
  return server.request('GET', `${url.pathname}${url.search}`, { auth: null, headers: { Authorization: `Token ${token}` } });
}

async function fill(server: InfluxDb1Server): Promise<void> {
  await server.createDatabase(DATABASE);
  const written = await server.request('POST', `/write?db=${DATABASE}&precision=ms`, { body: 'kamstrup,meter=home,model=multical-402 heat_energy=55648 1767225600000' });
  assert.equal(written.status, 204, written.body);
}

const unavailable = serverUnavailable('influxdb-1.6');

describe('the data source on InfluxDB 1.6', { skip: unavailable ?? false }, () => {
  let open: InfluxDb1Server;
  let secured: InfluxDb1Server;
  const admin = { username: 'grafana', password: 's3cret&=?' };

  before(async () => {
    const [a, b] = await Promise.all([startInfluxDb1(), startInfluxDb1({ auth: admin })]);
    assert.ok(a && b);
    open = a;
    secured = b;
    await fill(open);
    await fill(secured);
  });
  after(async () => {
    await open?.close();
    await secured?.close();
  });

  it('without auth, 1.6 ignores the token header, whatever INFLUXDB_TOKEN holds (even nothing)', async () => {
    for (const token of ['', 'anything', 'user:password']) {
      const result = await grafanaQuery(open, open.url, token);
      assert.equal(result.status, 200, result.body);
      assert.match(result.body, /"values":\[\[1767225600000,55648\]\]/);
    }
  });

  it('with auth, 1.6 refuses "Token user:password" (only 1.8 takes it): 401', async () => {
    const result = await grafanaQuery(secured, secured.url, `${admin.username}:${admin.password}`);
    assert.equal(result.status, 401);
    assert.match(result.body, /unable to parse authentication credentials/);
  });

  it('with auth, credentials in INFLUXDB_URL\'s query (?u=…&p=…) are taken before the token header', async () => {
    const url = `${secured.url}/?${new URLSearchParams({ u: admin.username, p: admin.password }).toString()}`;
    const result = await grafanaQuery(secured, url, 'ignored');
    assert.equal(result.status, 200, result.body);
    assert.match(result.body, /"values":\[\[1767225600000,55648\]\]/);
    const wrong = await grafanaQuery(secured, `${secured.url}/?u=${admin.username}&p=wrong`, 'ignored');
    assert.equal(wrong.status, 401, 'a wrong password is refused, not passed by the header');
  });
});
