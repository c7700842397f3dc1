// node oidc-provider (an independently written, certified OpenID Provider) configured for the
// library's interop suite: one client per grant and authentication method, served over HTTPS on
// 127.0.0.1 with a certificate of the test's own CA.
//
//   node provider.mjs --state DIR
//
// DIR must hold server.pem and server.key (tests/interop/start-provider.sh makes them). Once
// listening, the program writes DIR/provider.json: {"issuer", "port", "pid"}; it runs until
// SIGTERM. Everything it adds to oidc-provider is marked "FIXTURE" below and listed in README.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import Provider, { errors } from 'oidc-provider';

const args = process.argv.slice(2);
const stateIndex = args.indexOf('--state');
if (stateIndex < 0 || !args[stateIndex + 1]) {
  console.error('usage: node provider.mjs --state DIR');
  process.exit(2);
}
const stateDir = path.resolve(args[stateIndex + 1]);

// The accounts of the custom password grant. The dev login pages accept any login.
const USERS = new Map([['alice', 'wonderland-7'], ['bob', 'builder-42']]);

// FIXTURE: signing keys made at start. The keystore has three phases (POST /__test/rotate, then
// POST /__test/retire): ps-2 joins in front of ps-1 (so PS256 tokens get a kid no cached key set
// has), then ps-1 disappears. RS256, ES256 and EdDSA keys never change.
const signingKey = (type, options, kid, alg) => ({
  ...crypto.generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig',
});
const KEYS = {
  rs1: signingKey('rsa', { modulusLength: 2048 }, 'rs-1', 'RS256'),
  ps1: signingKey('rsa', { modulusLength: 2048 }, 'ps-1', 'PS256'),
  ps2: signingKey('rsa', { modulusLength: 2048 }, 'ps-2', 'PS256'),
  es1: signingKey('ec', { namedCurve: 'P-256' }, 'es-1', 'ES256'),
  ed1: signingKey('ed25519', {}, 'ed-1', 'EdDSA'),
};
const KEY_PHASES = [
  [KEYS.rs1, KEYS.ps1, KEYS.es1, KEYS.ed1],
  [KEYS.rs1, KEYS.ps2, KEYS.ps1, KEYS.es1, KEYS.ed1],
  [KEYS.rs1, KEYS.ps2, KEYS.es1, KEYS.ed1],
];
// The pkjwt client's key pair: the provider knows the public half, the tests read the private one.
const clientKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const CLIENT_JWK = { ...clientKey.publicKey.export({ format: 'jwk' }), kid: 'pkjwt-1', alg: 'ES256', use: 'sig' };
fs.writeFileSync(path.join(stateDir, 'pkjwt.key.pem'), clientKey.privateKey.export({ format: 'pem', type: 'pkcs8' }));

// FIXTURE: a storage adapter shared by the Providers of every key phase (oidc-provider's own
// in-memory adapter keeps one store per Provider, so a rotation would forget every grant, session
// and token). A Map that keeps everything for the provider's life: oidc-provider checks each
// model's own expiry (an expired device code is then expired_token, not an unknown one).
const STORE = new Map();
class SharedAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  static get(key) { return STORE.get(key); }
  static set(key, value) { STORE.set(key, value); }
  async upsert(id, payload) {
    SharedAdapter.set(this.key(id), payload);
    if (this.model === 'Session') SharedAdapter.set(`sessionUid:${payload.uid}`, id);
    if (payload.userCode) SharedAdapter.set(`userCode:${payload.userCode}`, id);
    if (payload.grantId) {
      const members = SharedAdapter.get(`grant:${payload.grantId}`) ?? new Set();
      members.add(this.key(id));
      SharedAdapter.set(`grant:${payload.grantId}`, members);
    }
  }
  async find(id) { return SharedAdapter.get(this.key(id)); }
  async findByUid(uid) { return this.find(SharedAdapter.get(`sessionUid:${uid}`)); }
  async findByUserCode(code) { return this.find(SharedAdapter.get(`userCode:${code}`)); }
  async consume(id) { const p = SharedAdapter.get(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { STORE.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of SharedAdapter.get(`grant:${grantId}`) ?? []) STORE.delete(key);
    STORE.delete(`grant:${grantId}`);
  }
}

// Clients the tests use; secrets are test fixtures. tests/interop/interop_support.hpp names them.
const loopbackRedirects = ['http://127.0.0.1/callback'];
const clients = [
  // Client credentials, both secret methods (RFC 6749 §2.3.1).
  {
    client_id: 'cc-basic', client_secret: 'cc-basic-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read api:write',
  },
  {
    client_id: 'cc-post', client_secret: 'cc-post-secret', token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read api:write',
  },
  // A secret with every character RFC 6749 Appendix B encoding changes in a Basic credential.
  {
    client_id: 'cc-special', client_secret: 'p@ss:w+rd/%20&=? ~', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
  },
  // Access tokens that live SHORT_TTL seconds: real expiry within a test.
  {
    client_id: 'cc-short', client_secret: 'cc-short-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
  },
  // A second short-lived client, so that two tests counting requests never share one.
  {
    client_id: 'cc-short-b', client_secret: 'cc-short-b-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
  },
  // Resource owner password (the custom grant below), with refresh tokens; ropc-userinfo is the
  // same, for the userinfo tests alone.
  {
    client_id: 'ropc', client_secret: 'ropc-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['password', 'refresh_token'], response_types: [], redirect_uris: [],
    scope: 'openid offline_access api:read',
  },
  {
    client_id: 'ropc-userinfo', client_secret: 'ropc-userinfo-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['password', 'refresh_token'], response_types: [], redirect_uris: [],
    scope: 'openid offline_access api:read',
  },
  // Public device clients (RFC 8628); device-short's device codes expire after SHORT_TTL seconds.
  {
    client_id: 'device', token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [],
    scope: 'openid offline_access api:read',
  },
  {
    client_id: 'device-short', token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [],
    scope: 'openid api:read',
  },
  // Authorization code, PKCE S256 required for both (pkce.required below).
  {
    client_id: 'web', client_secret: 'web-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: loopbackRedirects,
    scope: 'openid offline_access api:read',
  },
  {
    client_id: 'native', token_endpoint_auth_method: 'none', application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: loopbackRedirects,
    scope: 'openid offline_access api:read',
  },
  // OpenID Connect relying parties (ID tokens, userinfo, logout), one per ID token algorithm. rp-ps
  // is the one whose signing key rotates (POST /__test/rotate), so no other test sees a rotation.
  ...['rp', 'rp-es', 'rp-ed', 'rp-ps'].map((id) => ({
    client_id: id, client_secret: `${id}-secret-0123456789abcdef0123456789abcdef`,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['password', 'refresh_token', 'authorization_code'], response_types: ['code'],
    redirect_uris: loopbackRedirects, post_logout_redirect_uris: ['http://127.0.0.1/logged-out'],
    scope: 'openid offline_access profile email api:read',
    id_token_signed_response_alg: { rp: 'RS256', 'rp-es': 'ES256', 'rp-ed': 'EdDSA', 'rp-ps': 'PS256' }[id],
  })),
  // JWT client authentication (RFC 7523 §2.2): private_key_jwt with the key in pkjwt.key.pem of the
  // state directory, and client_secret_jwt (HS256 with the secret).
  {
    client_id: 'pkjwt', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [CLIENT_JWK] },
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
  },
  {
    client_id: 'secjwt', client_secret: 'secjwt-secret-0123456789abcdef0123456789abcdef',
    token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'HS256',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
  },
  // The resource server's own client, for introspection.
  {
    client_id: 'resource-server', client_secret: 'resource-server-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [], response_types: [], redirect_uris: [],
  },
];

const SHORT_TTL = 4;       // seconds: cc-short(-b) access tokens, device-short device codes
const shortLived = (client) => client?.clientId === 'cc-short' || client?.clientId === 'cc-short-b';
const API = 'https://api.interop.test';  // the one resource indicator (RFC 8707) it knows
const DEVICE_INTERVAL = 5; // RFC 8628 §3.2 default; oidc-provider sends no `interval`

const configuration = {
  adapter: SharedAdapter,
  clients,
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read', 'api:write'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  cookies: { keys: ['interop-cookie-key-not-a-secret'] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() { return { sub, name: `user ${sub}`, email: `${sub}@interop.test`, email_verified: true }; },
    };
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: (_ctx, _token, client) => (shortLived(client) ? SHORT_TTL : 600),
    ClientCredentials: (_ctx, _token, client) => (shortLived(client) ? SHORT_TTL : 600),
    DeviceCode: (_ctx, _code, client) => (client?.clientId === 'device-short' ? SHORT_TTL : 600),
    RefreshToken: 3600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
    IdToken: 600,
    AuthorizationCode: 60,
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      async getResourceServerInfo(_ctx, indicator) {
        if (indicator !== API) throw new errors.InvalidTarget();
        return { scope: 'api:read api:write', audience: API, accessTokenTTL: 600, accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
};

// FIXTURE: the resource owner password grant (RFC 6749 §4.3), which oidc-provider does not ship,
// through its extension-grant API. Issues an access token for the user (usable at userinfo) and,
// with offline_access, a rotating refresh token the built-in refresh grant accepts.
function passwordGrant(provider) {
  return async function passwordGrantHandler(ctx) {
    const { username, password, scope } = ctx.oidc.params;
    if (!username || !password) throw new errors.InvalidRequest('username and password are required');
    if (USERS.get(username) !== password) throw new errors.InvalidGrant('invalid username or password');
    const { client } = ctx.oidc;
    const requested = (scope || 'openid').split(' ').filter(Boolean);
    const allowed = new Set((client.scope || '').split(' '));
    const unknown = requested.filter((s) => !allowed.has(s));
    if (unknown.length) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
    const scopes = requested.join(' ');

    const grant = new provider.Grant({ accountId: username, clientId: client.clientId });
    grant.addOIDCScope(scopes);
    const grantId = await grant.save();
    const at = new provider.AccessToken({ accountId: username, client, grantId, scope: scopes, gty: 'password' });
    const body = { access_token: await at.save(), token_type: 'Bearer', expires_in: at.expiration, scope: scopes };
    if (requested.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: username, client, grantId, scope: scopes, gty: 'password', rotations: 0,
        iiat: Math.floor(Date.now() / 1000),
      });
      body.refresh_token = await rt.save();
    }
    // FIXTURE: an ID token as the built-in grants make one (OIDC Core 3.1.3.3), with at_hash.
    if (requested.includes('openid')) {
      const account = await configuration.findAccount(ctx, username);
      const idToken = new provider.IdToken(
        { ...await account.claims('id_token', scopes, {}, []), sub: username }, { ctx },
      );
      idToken.scope = scopes;
      idToken.mask = {};
      idToken.rejected = [];
      idToken.set('auth_time', Math.floor(Date.now() / 1000));
      idToken.set('at_hash', body.access_token);
      body.id_token = await idToken.issue({ use: 'idtoken' });
    }
    ctx.body = body;
  };
}

// FIXTURE: RFC 8628 §3.5 slow_down. oidc-provider never sends it (nor an `interval`), so a poll of
// a pending device code sooner than DEVICE_INTERVAL after the previous poll of that code is
// answered slow_down instead of authorization_pending; the code's state is the same either way.
function slowDown() {
  const lastPoll = new Map();
  return async function slowDownMiddleware(ctx, next) {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 400 || ctx.body?.error !== 'authorization_pending') return;
    const code = ctx.oidc.params?.device_code;
    if (!code) return;
    const now = Date.now();
    const last = lastPoll.get(code);
    lastPoll.set(code, now);
    if (last !== undefined && now - last < DEVICE_INTERVAL * 1000) {
      ctx.body = { error: 'slow_down', error_description: `poll at most every ${DEVICE_INTERVAL} seconds` };
    }
  };
}

// FIXTURE: counters the tests read at GET /__test/stats: token endpoint requests per client and
// grant type, successful or not, to prove "one request per expiry" from the provider's side.
function statsRecorder() {
  const counts = {};
  const middleware = async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.oidc?.route === 'token') {
        const key = `${ctx.oidc.client?.clientId ?? '?'} ${ctx.oidc.params?.grant_type ?? '?'}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
  };
  return { counts, middleware };
}

const key = fs.readFileSync(path.join(stateDir, 'server.key'));
const cert = fs.readFileSync(path.join(stateDir, 'server.pem'));
const server = https.createServer({ key, cert });
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}`;
  const stats = statsRecorder();
  // One Provider per key phase. They share everything else: the configuration, and the memory
  // adapter's storage (module-level in oidc-provider), so grants, sessions and tokens of one phase
  // stay valid in the next, as they would across a real key rotation.
  const makeProvider = (phase) => {
    const provider = new Provider(issuer, { ...configuration, jwks: { keys: KEY_PHASES[phase] } });
    provider.registerGrantType('password', passwordGrant(provider), ['username', 'password', 'scope'], []);
    provider.use(stats.middleware);
    provider.use(slowDown());
    provider.on('server_error', (_ctx, err) => console.error('server_error', err));
    return provider.callback();
  };
  let phase = 0;
  let callback = makeProvider(phase);

  server.on('request', (req, res) => {
    if (req.method === 'GET' && req.url === '/__test/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats.counts));
      return;
    }
    // FIXTURE: key rotation (KEY_PHASES); answers the new phase number.
    if (req.method === 'POST' && (req.url === '/__test/rotate' || req.url === '/__test/retire')) {
      const wanted = req.url === '/__test/rotate' ? 1 : 2;
      if (phase < wanted) {
        phase = wanted;
        callback = makeProvider(phase);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ phase }));
      return;
    }
    callback(req, res);
  });

  const info = path.join(stateDir, 'provider.json');
  fs.writeFileSync(`${info}.tmp`, JSON.stringify({ issuer, port, pid: process.pid }));
  fs.renameSync(`${info}.tmp`, info);  // readers never see half a file
  console.log(`oidc-provider ${issuer} (pid ${process.pid})`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();  // idle keep-alive connections would hold close() open
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
