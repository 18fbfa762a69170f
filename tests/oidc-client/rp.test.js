/*
 * rp.test.js - Kleidi seen by a relying-party library nobody here wrote:
 * npm openid-client (discovery, authorization URL, PKCE, callback with its
 * state / nonce / iss checks, ID token validation against the JWKS, the
 * token and userinfo requests) and jose (RFC 9068 access tokens). Only the
 * browser's part is done by hand with fetch: GET the authorization URL,
 * fill in the one form, POST it with the cookies, read the 302 Location
 * without following it.
 *
 * Run by run.js, which starts the server and passes KLEIDI_RP_CONFIG (JSON:
 * issuer, redirect_uri, username, password, name, email, org, sub, clients).
 */
'use strict';

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { Issuer, custom, generators, errors } = require('openid-client');
const jose = require('jose');

const HTTP_TIMEOUT_MS = 5000;
const TEST_TIMEOUT_MS = 20000;
const CLOCK_TOLERANCE_S = 5;
const SCOPE = 'openid profile email';
const ACR_LOW = 'http://eidas.europa.eu/LoA/low';

if (!process.env.KLEIDI_RP_CONFIG)
	throw new Error('KLEIDI_RP_CONFIG is not set: run this through run.js');
const cfg = JSON.parse(process.env.KLEIDI_RP_CONFIG);

custom.setHttpOptionsDefaults({ timeout: HTTP_TIMEOUT_MS });

let issuer;	/* openid-client Issuer from discovery */
let jwks;	/* jose remote key set over the discovered jwks_uri */

/* ---- the browser's part, by hand ------------------------------------ */

function splitSetCookie(headers) {
	if (typeof headers.getSetCookie === 'function')
		return headers.getSetCookie();
	const joined = headers.get('set-cookie');
	/* No Expires= (with its comma) in Kleidi's cookies: Max-Age only. */
	return joined ? joined.split(/,(?=\s*[A-Za-z0-9_.-]+=)/) : [];
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };

function decodeEntities(s) {
	return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
		if (e[0] === '#')
			return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ?
			    parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
		return ENTITIES[e.toLowerCase()] ?? m;
	});
}

function attributes(tag) {
	const attrs = {};
	const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
	let m;
	/* Skip the tag name itself. */
	const body = tag.replace(/^<\s*[a-zA-Z]+/, '').replace(/\/?>$/, '');
	while ((m = re.exec(body)) !== null)
		attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ??
		    '');
	return attrs;
}

/* The page must hold exactly one form; returns its method, action and
 * fields (name -> { type, value }). */
function parseOneForm(html) {
	const forms = html.match(/<form\b[^>]*>[\s\S]*?<\/form\s*>/gi) || [];
	assert.equal(forms.length, 1, `expected exactly one <form>, found ` +
	    `${forms.length}`);
	assert.equal((html.match(/<form\b/gi) || []).length, 1,
	    'a second, unclosed <form>');
	const open = /^<form\b[^>]*>/i.exec(forms[0])[0];
	const fa = attributes(open);
	const fields = {};
	for (const tag of forms[0].match(/<input\b[^>]*>/gi) || []) {
		const a = attributes(tag);
		if (a.name !== undefined)
			fields[a.name] = { type: (a.type || 'text').toLowerCase(),
				value: a.value ?? '' };
	}
	return { method: (fa.method || 'get').toLowerCase(), action: fa.action,
		fields };
}

class Browser {
	constructor() {
		this.cookies = new Map();
		this.attrs = new Map();
	}

	absorb(res) {
		for (const line of splitSetCookie(res.headers)) {
			const [pair, ...rest] = line.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const attrs = rest.map((s) => s.trim().toLowerCase());
			if (value === '' || attrs.includes('max-age=0')) {
				this.cookies.delete(name);
				continue;
			}
			this.cookies.set(name, value);
			this.attrs.set(name, attrs);
		}
	}

	headers(extra) {
		const h = { ...extra };
		if (this.cookies.size > 0)
			h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`)
			    .join('; ');
		return h;
	}

	async request(url, init) {
		const res = await fetch(url, { ...init, redirect: 'manual',
			signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
		this.absorb(res);
		return { status: res.status, location: res.headers.get('location'),
			type: res.headers.get('content-type') || '',
			body: await res.text() };
	}

	get(url) {
		return this.request(url, { headers: this.headers() });
	}

	post(url, fields) {
		return this.request(url, { method: 'POST',
			headers: this.headers({ 'content-type':
			    'application/x-www-form-urlencoded' }),
			body: new URLSearchParams(fields).toString() });
	}
}

/* Asserts that a response is the sign-in page and returns its form. A
 * page that refuses a password may say so in its status too. */
function loginForm(page, statuses = [200]) {
	assert.ok(statuses.includes(page.status), `sign-in page: status ` +
	    `${page.status}: ${page.body.slice(0, 300)}`);
	assert.equal(page.location, null, 'sign-in page must not redirect');
	assert.match(page.type, /^text\/html/);
	const form = parseOneForm(page.body);
	assert.equal(form.method, 'post');
	assert.equal(form.action, '/login');
	assert.ok(form.fields.username, 'field username');
	assert.equal(form.fields.password?.type, 'password');
	assert.equal(form.fields.csrf?.type, 'hidden');
	assert.match(form.fields.csrf.value, /^[A-Za-z0-9_-]{20,}$/);
	return form;
}

async function submit(browser, baseUrl, form, username, password) {
	const fields = {};
	for (const [name, f] of Object.entries(form.fields))
		if (f.type === 'hidden')
			fields[name] = f.value;
	fields.username = username;
	fields.password = password;
	return browser.post(new URL(form.action, baseUrl), fields);
}

/* GET the authorization URL, sign in on the form; returns the response
 * to the POST (a 302 to the client on success). */
async function signIn(browser, authUrl, password = cfg.password) {
	const page = await browser.get(authUrl);
	const form = loginForm(page);
	assert.ok(browser.cookies.has('kleidi_b'),
	    'the sign-in page sets the browser cookie kleidi_b');
	return submit(browser, authUrl, form, cfg.username, password);
}

/* The 302 to the registered redirect URI; returns its URL. */
function redirectToClient(res) {
	assert.equal(res.status, 302, `expected a redirect to the client, got ` +
	    `${res.status}: ${res.body.slice(0, 300)}`);
	const loc = new URL(res.location);
	const want = new URL(cfg.redirect_uri);
	assert.equal(loc.origin + loc.pathname, want.origin + want.pathname);
	return res.location;
}

/* ---- the relying party's part, by openid-client ---------------------- */

function makeClient(key, method, alg = 'RS256') {
	const c = cfg.clients[key];
	const meta = { client_id: c.client_id, redirect_uris: [cfg.redirect_uri],
		response_types: ['code'], token_endpoint_auth_method: method,
		id_token_signed_response_alg: alg };
	if (method !== 'none')
		meta.client_secret = c.client_secret;
	const client = new issuer.Client(meta);
	client[custom.clock_tolerance] = CLOCK_TOLERANCE_S;
	return client;
}

/* Everything an RP keeps between the redirect and the callback. */
function startAuth(client, extra = {}) {
	const checks = { state: generators.state(), nonce: generators.nonce(),
		code_verifier: generators.codeVerifier(), response_type: 'code' };
	const url = client.authorizationUrl({ scope: SCOPE, state: checks.state,
		nonce: checks.nonce, code_challenge_method: 'S256',
		code_challenge: generators.codeChallenge(checks.code_verifier),
		...extra });
	return { url, checks };
}

async function callback(client, location, checks) {
	return client.callback(cfg.redirect_uri, client.callbackParams(location),
	    checks);
}

function sorted(a) {
	return [...a].sort();
}

/* What every ID token for this person must say, beyond what the library
 * checked (iss, aud, exp, iat, nonce, at_hash, signature). */
function assertIdClaims(claims, key, t0) {
	const c = cfg.clients[key];
	const now = Math.floor(Date.now() / 1000);
	assert.equal(claims.iss, cfg.issuer);
	assert.equal(claims.sub, cfg.sub);
	assert.deepEqual([].concat(claims.aud), [c.client_id]);
	assert.equal(claims.user_type, 'employee');
	assert.equal(claims.org, cfg.org);
	assert.deepEqual(sorted(claims.roles), sorted(c.roles));
	assert.equal(claims.acr, ACR_LOW);
	assert.deepEqual(claims.amr, ['pwd']);
	assert.equal(typeof claims.auth_time, 'number');
	assert.ok(claims.auth_time <= now + CLOCK_TOLERANCE_S);
	if (t0 !== undefined)
		assert.ok(claims.auth_time >= t0 - CLOCK_TOLERANCE_S,
		    `auth_time ${claims.auth_time} before the sign-in ${t0}`);
	assert.ok(claims.exp > now);
	assert.equal(typeof claims.at_hash, 'string');
}

/* RFC 9068: the access token is a JWT with typ at+jwt, verified here with
 * jose over the issuer's JWKS. */
async function assertAccessToken(tokenSet, key, idClaims) {
	const c = cfg.clients[key];
	const { payload, protectedHeader } = await jose.jwtVerify(
	    tokenSet.access_token, jwks, { issuer: cfg.issuer,
		audience: c.client_id, typ: 'at+jwt',
		algorithms: ['RS256', 'ES256'],
		clockTolerance: CLOCK_TOLERANCE_S });
	assert.equal(protectedHeader.typ.toLowerCase(), 'at+jwt');
	assert.equal(payload.sub, idClaims.sub);
	assert.equal(payload.client_id, c.client_id);
	assert.equal(payload.user_type, 'employee');
	assert.equal(payload.org, cfg.org);
	assert.deepEqual(sorted(payload.roles), sorted(c.roles));
	assert.equal(payload.acr, ACR_LOW);
	assert.deepEqual(payload.amr, ['pwd']);
	assert.equal(typeof payload.jti, 'string');
	assert.ok(payload.scope.split(' ').includes('openid'));
	assert.equal(tokenSet.token_type.toLowerCase(), 'bearer');
	assert.ok(tokenSet.expires_in > 0);
}

async function assertUserinfo(client, tokenSet, sub) {
	const info = await client.userinfo(tokenSet);
	assert.equal(info.sub, sub);
	assert.equal(info.email, cfg.email);
	assert.equal(info.name, cfg.name);
}

/* Expects fn to reject with an OPError carrying this OAuth error code. */
async function rejectsWith(fn, code) {
	await assert.rejects(fn, (err) => {
		assert.ok(err instanceof errors.OPError,
		    `expected OPError ${code}, got ${err.name}: ${err.message}`);
		assert.equal(err.error, code);
		return true;
	});
}

/* A sign-in and code exchange for one client in a fresh browser. */
async function signInFlow(key, method, alg) {
	const client = makeClient(key, method, alg);
	const browser = new Browser();
	const { url, checks } = startAuth(client);
	const t0 = Math.floor(Date.now() / 1000);
	const location = redirectToClient(await signIn(browser, url));
	assert.equal(new URL(location).searchParams.get('iss'), cfg.issuer);
	const tokenSet = await callback(client, location, checks);
	return { client, browser, tokenSet, claims: tokenSet.claims(), t0 };
}

/* What a full flow must have given. */
async function assertFlow(r, key) {
	assertIdClaims(r.claims, key, r.t0);
	await assertAccessToken(r.tokenSet, key, r.claims);
	await assertUserinfo(r.client, r.tokenSet, r.claims.sub);
}

async function fullFlow(key, method, alg) {
	const r = await signInFlow(key, method, alg);
	await assertFlow(r, key);
	return r;
}

/* ---- the tests ------------------------------------------------------- */

let first;	/* the result of (a): its browser holds the SSO session */

/* The signed-in browser and client of (a), for the tests that build on it. */
function fromA() {
	assert.ok(first, 'needs the sign-in of test (a), which failed');
	return first;
}

before(async () => {
	issuer = await Issuer.discover(cfg.issuer);
	jwks = jose.createRemoteJWKSet(new URL(issuer.metadata.jwks_uri),
	    { timeoutDuration: HTTP_TIMEOUT_MS });
});

test('discovery and JWKS describe what the tests rely on', async () => {
	const m = issuer.metadata;
	assert.equal(m.issuer, cfg.issuer);
	for (const ep of ['authorization_endpoint', 'token_endpoint',
	    'userinfo_endpoint', 'jwks_uri'])
		assert.ok(m[ep].startsWith(`${cfg.issuer}/`), `${ep}: ${m[ep]}`);
	assert.deepEqual(m.response_types_supported, ['code']);
	assert.ok(m.code_challenge_methods_supported.includes('S256'));
	assert.ok(!m.code_challenge_methods_supported.includes('plain'));
	for (const a of ['RS256', 'ES256'])
		assert.ok(m.id_token_signing_alg_values_supported.includes(a));
	assert.ok(!m.id_token_signing_alg_values_supported.includes('none'));
	for (const a of ['client_secret_basic', 'client_secret_post', 'none'])
		assert.ok(m.token_endpoint_auth_methods_supported.includes(a));
	assert.equal(m.authorization_response_iss_parameter_supported, true);

	const res = await fetch(m.jwks_uri,
	    { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
	assert.equal(res.status, 200);
	const { keys } = await res.json();
	assert.ok(keys.some((k) => k.kty === 'RSA'), 'an RSA key');
	assert.ok(keys.some((k) => k.kty === 'EC' && k.crv === 'P-256'),
	    'an EC P-256 key');
	for (const k of keys) {
		assert.equal(typeof k.kid, 'string');
		for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
			assert.equal(k[priv], undefined,
			    `JWKS key ${k.kid} exposes private member ${priv}`);
	}
});

test('(a) confidential client, client_secret_basic, code + PKCE',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	/* Kept before the checks: the later tests need only the session. */
	first = await signInFlow('basic', 'client_secret_basic');
	await assertFlow(first, 'basic');
	assert.equal(jose.decodeProtectedHeader(first.tokenSet.id_token).alg,
	    'RS256');
	const sid = first.browser.attrs.get('kleidi_sid');
	assert.ok(sid, 'a successful sign-in sets the session cookie kleidi_sid');
	assert.ok(sid.includes('httponly'), 'kleidi_sid is HttpOnly');
	assert.ok(sid.some((a) => a.startsWith('samesite=')),
	    'kleidi_sid has SameSite');
});

test('(b) confidential client, client_secret_post, code + PKCE',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await fullFlow('post', 'client_secret_post');
	assert.equal(jose.decodeProtectedHeader(r.tokenSet.id_token).alg,
	    'RS256');
});

test('(c) public client, token_endpoint_auth_method none, PKCE',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await fullFlow('public', 'none');

	/* A public client without PKCE is refused, by redirect (RFC 9700
	 * 2.1.1), and the library reports it. */
	const url = new URL(r.client.authorizationUrl({ scope: SCOPE,
		state: 'no-pkce' }));
	assert.equal(url.searchParams.get('code_challenge'), null);
	const res = await r.browser.get(url.href);
	const location = redirectToClient(res);
	assert.equal(new URL(location).searchParams.get('code'), null);
	await rejectsWith(() => callback(r.client, location,
	    { state: 'no-pkce', response_type: 'code' }), 'invalid_request');
});

test('(d) ES256 ID tokens for a client registered with ES256',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await fullFlow('es256', 'client_secret_basic', 'ES256');
	const header = jose.decodeProtectedHeader(r.tokenSet.id_token);
	assert.equal(header.alg, 'ES256');
	const keys = (await (await fetch(issuer.metadata.jwks_uri,
	    { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })).json()).keys;
	const key = keys.find((k) => k.kid === header.kid);
	assert.ok(key, `kid ${header.kid} is in the JWKS`);
	assert.equal(key.kty, 'EC');
	assert.equal(key.crv, 'P-256');

	/* An RP that expects RS256 from this client refuses the ES256 token. */
	const strict = makeClient('es256', 'client_secret_basic', 'RS256');
	const browser = r.browser;	/* signed in: SSO gives a code at once */
	const { url, checks } = startAuth(strict);
	const location = redirectToClient(await browser.get(url));
	await assert.rejects(() => callback(strict, location, checks),
	    (err) => err instanceof errors.RPError &&
	    /unexpected JWT alg received/.test(err.message));
});

test('(e) SSO: the session cookie gives a code without the form',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const a = fromA();
	const { browser } = a;
	assert.ok(browser.cookies.has('kleidi_sid'));

	/* Another app, same browser: straight back with a code. */
	const client = makeClient('post', 'client_secret_post');
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));
	const tokenSet = await callback(client, location, checks);
	const claims = tokenSet.claims();
	assertIdClaims(claims, 'post');
	assert.equal(claims.sub, a.claims.sub);
	assert.equal(claims.auth_time, a.claims.auth_time,
	    'auth_time is the time of the one sign-in');
	await assertAccessToken(tokenSet, 'post', claims);
	await assertUserinfo(client, tokenSet, claims.sub);

	/* The same app again. */
	const again = startAuth(a.client);
	const loc2 = redirectToClient(await browser.get(again.url));
	const ts2 = await callback(a.client, loc2, again.checks);
	assert.equal(ts2.claims().sub, a.claims.sub);

	/* prompt=login asks again even with a session. */
	const forced = startAuth(client, { prompt: 'login' });
	loginForm(await browser.get(forced.url));

	/* Without the session cookie the form is shown, and prompt=none
	 * comes back with login_required. */
	const other = new Browser();
	other.cookies.set('kleidi_b', browser.cookies.get('kleidi_b'));
	loginForm(await other.get(startAuth(client).url));
	const silent = startAuth(client, { prompt: 'none' });
	const back = redirectToClient(await other.get(silent.url));
	await rejectsWith(() => callback(client, back, silent.checks),
	    'login_required');
	/* With it, prompt=none gives a code. */
	const quiet = startAuth(client, { prompt: 'none' });
	await callback(client, redirectToClient(await browser.get(quiet.url)),
	    quiet.checks);
});

test('(f) wrong password shows the form again, without a redirect',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const client = makeClient('basic', 'client_secret_basic');
	const browser = new Browser();
	const { url, checks } = startAuth(client);
	const res = await signIn(browser, url, `${cfg.password}-wrong`);
	const form = loginForm(res, [200, 401]);
	assert.ok(!browser.cookies.has('kleidi_sid'),
	    'no session after a wrong password');
	assert.ok(!res.body.includes(`${cfg.password}-wrong`),
	    'the page does not echo the password');

	/* The same form, now with the right password, completes the flow. */
	const ok = await submit(browser, url, form, cfg.username, cfg.password);
	const tokenSet = await callback(client, redirectToClient(ok), checks);
	assert.equal(tokenSet.claims().sub, cfg.sub);
});

test('(f) unknown user is refused like a wrong password',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const client = makeClient('basic', 'client_secret_basic');
	const browser = new Browser();
	const page = await browser.get(startAuth(client).url);
	const res = await submit(browser, issuer.metadata.authorization_endpoint,
	    loginForm(page), 'nobody-here', cfg.password);
	loginForm(res, [200, 401]);
	assert.ok(!browser.cookies.has('kleidi_sid'));
});

test('(f) a code is good once: reuse gives invalid_grant',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));
	await callback(client, location, checks);
	await rejectsWith(() => callback(client, location, checks),
	    'invalid_grant');
});

test('(f) wrong code_verifier gives invalid_grant',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));
	await rejectsWith(() => callback(client, location, { ...checks,
		code_verifier: generators.codeVerifier() }), 'invalid_grant');
	/* Nor without one, when the request had a challenge. */
	const second = startAuth(client);
	const loc2 = redirectToClient(await browser.get(second.url));
	const { code_verifier: _, ...noVerifier } = second.checks;
	await rejectsWith(() => callback(client, loc2, noVerifier),
	    'invalid_grant');
});

test('(f) state mismatch is caught by the library',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));
	assert.equal(new URL(location).searchParams.get('state'), checks.state);
	await assert.rejects(() => callback(client, location, { ...checks,
		state: generators.state() }), (err) =>
	    err instanceof errors.RPError && /state mismatch/.test(err.message));
});

test('(f) nonce mismatch is caught by the library',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));
	await assert.rejects(() => callback(client, location, { ...checks,
		nonce: generators.nonce() }), (err) =>
	    err instanceof errors.RPError && /nonce mismatch/.test(err.message));
});

test('(f) a code is bound to its client; a wrong secret is invalid_client',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const location = redirectToClient(await browser.get(url));

	const wrongSecret = new issuer.Client({ ...client.metadata,
		client_secret: `${client.client_secret}x` });
	await rejectsWith(() => callback(wrongSecret, location, checks),
	    'invalid_client');

	/* Another client, with its own right secret, cannot redeem it. */
	await rejectsWith(() => callback(makeClient('post',
	    'client_secret_post'), location, checks), 'invalid_grant');
});

test('(f) unregistered redirect_uri: an error page, no redirect',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const client = makeClient('basic', 'client_secret_basic');
	const evil = new URL(cfg.redirect_uri);
	evil.pathname = '/evil';
	const { url } = startAuth(client, { redirect_uri: evil.href });
	for (const browser of [new Browser(), fromA().browser]) {
		const res = await browser.get(url);
		assert.equal(res.status, 400);
		assert.equal(res.location, null);
		assert.ok(!/<form\b/i.test(res.body), 'no sign-in form');
	}
});

test('(f) an app the org does not subscribe to: a clear page, no code',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const client = makeClient('unsubscribed', 'client_secret_basic');
	const { url } = startAuth(client);
	const res = await fromA().browser.get(url);
	assert.equal(res.status, 403);
	assert.equal(res.location, null);
	assert.match(res.type, /^text\/html/);
	assert.ok(!/[?&]code=/.test(res.body));
});

test('(f) userinfo refuses a tampered access token',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { client, browser } = fromA();
	const { url, checks } = startAuth(client);
	const tokenSet = await callback(client,
	    redirectToClient(await browser.get(url)), checks);
	const [h, p, s] = tokenSet.access_token.split('.');
	const claims = JSON.parse(Buffer.from(p, 'base64url'));
	claims.roles = ['admin'];
	const forged = [h, Buffer.from(JSON.stringify(claims))
	    .toString('base64url'), s].join('.');
	await rejectsWith(() => client.userinfo(forged), 'invalid_token');
	/* And the ID token is not an access token. */
	await rejectsWith(() => client.userinfo(tokenSet.id_token),
	    'invalid_token');
});

/* Issue 5: prompt=none with and without a session, in a browser of its
 * own (a fresh sign-in replaces the session of the browser it runs in). */
test('(g) prompt=none: a code with a session, login_required without',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await signInFlow('basic', 'client_secret_basic');
	const quiet = startAuth(r.client, { prompt: 'none' });
	const ts = await callback(r.client,
	    redirectToClient(await r.browser.get(quiet.url)), quiet.checks);
	assert.equal(ts.claims().sub, r.claims.sub);
	assert.equal(ts.claims().auth_time, r.claims.auth_time);

	const stranger = new Browser();
	const silent = startAuth(r.client, { prompt: 'none' });
	const back = redirectToClient(await stranger.get(silent.url));
	assert.equal(new URL(back).searchParams.get('state'),
	    silent.checks.state);
	await rejectsWith(() => callback(r.client, back, silent.checks),
	    'login_required');
});

test('(g) max_age=0 forces the form; the new auth_time is not older',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await signInFlow('basic', 'client_secret_basic');
	/* A generous max_age: the session serves without the form. */
	const fresh = startAuth(r.client, { max_age: 86400 });
	const ts1 = await callback(r.client,
	    redirectToClient(await r.browser.get(fresh.url)),
	    { ...fresh.checks, max_age: 86400 });
	assert.equal(ts1.claims().auth_time, r.claims.auth_time);

	const forced = startAuth(r.client, { max_age: 0 });
	const form = loginForm(await r.browser.get(forced.url));
	const res = await submit(r.browser, forced.url, form, cfg.username,
	    cfg.password);
	/* The library checks auth_time is present when max_age was sent. */
	const ts2 = await callback(r.client, redirectToClient(res),
	    { ...forced.checks, max_age: 0 });
	const claims = ts2.claims();
	assert.equal(typeof claims.auth_time, 'number');
	assert.ok(claims.auth_time >= r.claims.auth_time,
	    'a new sign-in has a new auth_time');
	assert.equal(claims.sub, r.claims.sub);
});

/* ---- (h) refresh tokens, revocation, introspection (RFC 6749 6,
 * RFC 9700 4.14, RFC 7009, RFC 7662) ---------------------------------- */

test('(h) refresh rotates the token; replaying the old one ends the family',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await fullFlow('refresh', 'client_secret_basic');
	const rt0 = r.tokenSet.refresh_token;
	assert.equal(typeof rt0, 'string');
	const t1 = await r.client.refresh(r.tokenSet);
	assert.equal(typeof t1.refresh_token, 'string');
	assert.notEqual(t1.refresh_token, rt0);
	assert.equal(t1.claims().sub, r.claims.sub);
	await assertAccessToken(t1, 'refresh', t1.claims());
	await rejectsWith(() => r.client.refresh(rt0), 'invalid_grant');
	/* The family is gone: the newest token fails too. */
	await rejectsWith(() => r.client.refresh(t1.refresh_token),
	    'invalid_grant');
});

test('(h) no refresh token for an app not registered for them',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const { tokenSet } = fromA();
	assert.equal(tokenSet.refresh_token, undefined);
});

test('(h) revoke then introspect: active false; other clients see nothing',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await signInFlow('refresh', 'client_secret_basic');
	const rt = r.tokenSet.refresh_token;
	let i = await r.client.introspect(rt, 'refresh_token');
	assert.equal(i.active, true);
	assert.equal(i.client_id, cfg.clients.refresh.client_id);
	assert.equal(i.sub, r.claims.sub);
	i = await r.client.introspect(r.tokenSet.access_token, 'access_token');
	assert.equal(i.active, true);
	assert.deepEqual(i.roles, ['clerk']);
	const other = makeClient('basic', 'client_secret_basic');
	i = await other.introspect(rt);
	assert.deepEqual(i, { active: false });
	i = await other.introspect(r.tokenSet.access_token);
	assert.deepEqual(i, { active: false });
	await r.client.revoke(rt, 'refresh_token');
	i = await r.client.introspect(rt, 'refresh_token');
	assert.deepEqual(i, { active: false });
	await rejectsWith(() => r.client.refresh(rt), 'invalid_grant');
	/* Unknown tokens are revoked without complaint (RFC 7009 2.2). */
	await r.client.revoke('not-a-token');
});

/* ---- (i) RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) */

test('(i) RP-initiated logout then prompt=none gives login_required',
    { timeout: TEST_TIMEOUT_MS }, async () => {
	const r = await signInFlow('logout', 'client_secret_basic');
	assert.equal(typeof r.claims.sid, 'string');
	const old = r.browser.cookies.get('kleidi_sid');
	assert.ok(old, 'signed in: a kleidi_sid cookie');
	const state = generators.state();
	const url = r.client.endSessionUrl({
		id_token_hint: r.tokenSet.id_token,
		post_logout_redirect_uri: cfg.post_logout_uri, state });
	assert.ok(url.startsWith(`${issuer.metadata.end_session_endpoint}?`),
	    url);
	const res = await r.browser.get(url);
	assert.equal(res.status, 302, `logout: ${res.status}: ` +
	    `${res.body.slice(0, 300)}`);
	const back = new URL(res.location);
	assert.equal(back.origin + back.pathname, cfg.post_logout_uri);
	assert.equal(back.searchParams.get('state'), state);
	assert.ok(!r.browser.cookies.has('kleidi_sid'),
	    'the session cookie is expired');

	const silent = startAuth(r.client, { prompt: 'none' });
	await rejectsWith(() => r.browser.get(silent.url).then((page) =>
	    callback(r.client, redirectToClient(page), silent.checks)),
	    'login_required');
	/* A copy of the old cookie opens nothing either: the session is gone
	 * from the server, not only from the browser. */
	const copy = new Browser();
	copy.cookies.set('kleidi_sid', old);
	const again = startAuth(r.client, { prompt: 'none' });
	await rejectsWith(() => copy.get(again.url).then((page) =>
	    callback(r.client, redirectToClient(page), again.checks)),
	    'login_required');
});
