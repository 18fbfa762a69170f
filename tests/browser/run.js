#!/usr/bin/env node
/*
 * run.js - driver of the ctest test browser.pages: Kleidi's pages in a real
 * browser (Debian's chromium, headless, driven by npm playwright-core, which
 * never downloads a browser of its own), checked by npm axe-core against
 * WCAG 2.1 A and AA, in Greek and in English.
 *
 *   node run.js --kleidi /path/to/kleidi
 *
 * Makes a temporary data folder (cheap argon2, a large sign-in burst),
 * provisions an org, an employee app that requires two factors, a citizen
 * app, and per language a TOTP user and an SMS user through the operator
 * CLI, starts `kleidi serve` on a free port, and then per language:
 *   - signs in with TOTP (visiting the recovery-code page on the way),
 *     opens the account page and the authenticator enrolment, changes the
 *     password (a refused attempt first), signs out in this browser;
 *   - signs in with SMS in two browsers, signs out everywhere from one,
 *     and checks the other's session is gone;
 *   - registers a citizen (a refused attempt first), confirms the phone
 *     with the SMS code and reaches the app;
 *   - opens an error page.
 * Every page it passes through must have zero axe violations, the lang of
 * the language asked for, no horizontal scrolling at 360 px and no CSP
 * report; each is screenshotted at 1280 px and 360 px into
 * tests/artifacts/browser/ (gitignored), with a summary in summary.json.
 *
 * Exit codes: 0 passed, 1 failed, 77 skipped (node_modules or chromium
 * missing and CI not set; under CI that is a failure).
 */
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SKIP = 77;
const HERE = __dirname;
const ARTIFACTS = path.resolve(HERE, '..', 'artifacts', 'browser');
const CHROMIUM = process.env.KLEIDI_CHROMIUM || '/usr/bin/chromium';
const READY_TIMEOUT_MS = 20000;
const CLI_TIMEOUT_MS = 60000;
const TOTAL_TIMEOUT_MS = 240000;
const STOP_TIMEOUT_MS = 15000;
const NAV_TIMEOUT_MS = 15000;
const ORG = 'browser-town';
const EMP_APP = 'payroll';
const CIT_APP = 'eservices';
const LANGS = ['el', 'en'];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function ciIsSet() {
	const v = (process.env.CI || '').trim().toLowerCase();
	return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

function log(msg) {
	process.stdout.write(`run.js: ${msg}\n`);
}

function fail(msg) {
	throw new Error(msg);
}

function check(cond, msg) {
	if (!cond)
		fail(msg);
}

function parseArgs(argv) {
	const i = argv.indexOf('--kleidi');
	const bin = i >= 0 ? argv[i + 1] : process.env.KLEIDI_BIN;
	if (!bin)
		fail('usage: node run.js --kleidi PATH (or KLEIDI_BIN)');
	return path.resolve(bin);
}

/* What is missing to run at all, or null. */
function missingPieces() {
	for (const m of ['playwright-core', 'axe-core']) {
		try {
			require.resolve(m, { paths: [HERE] });
		} catch {
			return `npm package ${m} (run npm ci in tests/browser)`;
		}
	}
	try {
		fs.accessSync(CHROMIUM, fs.constants.X_OK);
	} catch {
		return `${CHROMIUM} (apt-get install chromium)`;
	}
	return null;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

function cli(ctx, args, input) {
	const full = [...args, '--data', ctx.dir, '--json'];
	let out;
	try {
		out = execFileSync(ctx.bin, full, {
			input: input === undefined ? '' : input,
			encoding: 'utf8',
			timeout: CLI_TIMEOUT_MS,
			stdio: ['pipe', 'pipe', 'pipe'],
		});
	} catch (err) {
		fail(`kleidi ${args.join(' ')} failed (status ${err.status}):\n` +
		    `${err.stdout || ''}${err.stderr || ''}`);
	}
	const lines = out.trim().split('\n');
	return JSON.parse(lines[lines.length - 1]);
}

/* A valid Greek tax number (AFM): 8 digits and their check digit. */
function taxId() {
	for (;;) {
		const d = [...crypto.randomBytes(8)].map((b) => b % 10);
		if (d[0] === 0)
			continue;
		let sum = 0;
		for (let i = 0; i < 8; i++)
			sum += d[i] * 2 ** (8 - i);
		return d.join('') + String((sum % 11) % 10);
	}
}

function provision(ctx) {
	const ini = '[password]\nargon2_m_cost_kib = 8192\nargon2_t_cost = 1\n' +
	    '[limits]\nsignin_burst = 10000\n';
	fs.writeFileSync(path.join(ctx.dir, 'kleidi.ini'), ini, { mode: 0o600 });
	cli(ctx, ['init', '--issuer', ctx.issuer]);
	cli(ctx, ['org', 'add', ORG, '--name', 'Δήμος Δοκιμών']);
	cli(ctx, ['app', 'add', EMP_APP, '--name', 'Μισθοδοσία',
	    '--redirect-uri', ctx.callback, '--require-2fa']);
	cli(ctx, ['org', 'subscribe', ORG, EMP_APP]);
	cli(ctx, ['app', 'add', CIT_APP, '--name', 'e-Δημότης',
	    '--redirect-uri', ctx.callback, '--audience', 'citizens']);
	ctx.users = {};
	for (const lang of LANGS) {
		const totp = `totp-${lang}`, sms = `sms-${lang}`;
		cli(ctx, ['user', 'add', totp, '--org', ORG, '--name',
		    'Ελένη Παπαδοπούλου', '--password-stdin'],
		    `${ctx.password}\n`);
		const t = cli(ctx, ['user', 'totp', totp]);
		check(/^[A-Z2-7]+=*$/.test(t.secret), 'user totp: no secret');
		const phone = `+3069${lang === 'el' ? '1' : '2'}0000${
		    String(crypto.randomInt(1000)).padStart(3, '0')}`;
		cli(ctx, ['user', 'add', sms, '--org', ORG, '--name',
		    'Γιώργος Νικολάου', '--phone', phone, '--password-stdin'],
		    `${ctx.password}\n`);
		for (const u of [totp, sms])
			cli(ctx, ['grant', 'add', u, EMP_APP, 'clerk']);
		ctx.users[lang] = { totp, secret: t.secret, sms, phone };
	}
}

function startServer(ctx) {
	return new Promise((resolve, reject) => {
		const child = spawn(ctx.bin, ['serve', '--data', ctx.dir,
		    '--listen', `127.0.0.1:${ctx.port}`],
		    { stdio: ['ignore', 'pipe', 'pipe'] });
		ctx.server = child;
		ctx.serverLog = '';
		ctx.serverExit = new Promise((res) => {
			child.on('exit', (code, signal) => res({ code, signal }));
		});
		let settled = false;
		const settle = (err) => {
			if (settled)
				return;
			settled = true;
			clearTimeout(timer);
			err ? reject(err) : resolve();
		};
		const timer = setTimeout(() => settle(new Error(
		    'kleidi serve not ready in time')), READY_TIMEOUT_MS);
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (d) => { ctx.serverLog += d; });
		child.stdout.on('data', (d) => {
			ctx.serverLog += d;
			if (/^kleidi: serving issuer /m.test(ctx.serverLog))
				settle();
		});
		child.on('exit', (code, signal) => settle(new Error(
		    `kleidi serve exited (code ${code}, signal ${signal})`)));
	});
}

async function stopServer(ctx) {
	const child = ctx.server;
	ctx.server = null;
	if (!child)
		return null;
	if (child.exitCode !== null || child.signalCode !== null)
		return 'kleidi serve had already exited';
	child.kill('SIGTERM');
	let timer;
	const r = await Promise.race([ctx.serverExit, new Promise((res) => {
		timer = setTimeout(() => res(null), STOP_TIMEOUT_MS);
	})]);
	clearTimeout(timer);
	if (r === null) {
		child.kill('SIGKILL');
		await ctx.serverExit;
		return 'kleidi serve did not stop on SIGTERM';
	}
	return r.code === 0 ? null :
	    `kleidi serve exited with code ${r.code}, signal ${r.signal}`;
}

/* RFC 6238 with the defaults: SHA-1, 30 s, 6 digits. */
function totpCode(secret) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const ch of secret.replace(/=+$/, ''))
		bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
	const key = Buffer.from(bits.match(/.{8}/g).map((b) =>
	    parseInt(b, 2)));
	const counter = Buffer.alloc(8);
	counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
	const mac = crypto.createHmac('sha1', key).update(counter).digest();
	const off = mac[mac.length - 1] & 0xf;
	return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6)
	    .padStart(6, '0');
}

/* The code of the newest SMS to phone in the outbox. */
function smsCode(ctx, phone) {
	const dir = path.join(ctx.dir, 'sms-outbox');
	const files = fs.readdirSync(dir).filter((f) => !f.startsWith('.'))
	    .sort().reverse();
	for (const f of files) {
		const text = fs.readFileSync(path.join(dir, f), 'utf8');
		if (!text.includes(phone))
			continue;
		const body = text.slice(text.indexOf('\n\n'));
		const m = /(?<![0-9])[0-9]{6}(?![0-9])/.exec(body);
		check(m, `no code in SMS ${f}`);
		return m[0];
	}
	fail(`no SMS to ${phone} in the outbox`);
}

/* ---- checking a page */

class Checker {
	constructor(ctx, axeSource) {
		this.ctx = ctx;
		this.axeSource = axeSource;
		this.results = [];
		this.failures = [];
		this.shots = 0;
	}

	/* axe, lang, headers, 360 px, screenshots of the page now shown. */
	async page(page, lang, name, response) {
		const url = page.url();
		const entry = { lang, name, url: url.replace(/[?#].*/, ''),
			violations: 0 };
		this.results.push(entry);
		const htmlLang = await page.getAttribute('html', 'lang');
		if (htmlLang !== lang)
			this.failures.push(`${lang}/${name}: html lang is ` +
			    `${htmlLang}`);
		if (response)
			this.headers(lang, name, response,
			    await page.$('form') !== null);
		await page.evaluate(this.axeSource);
		const r = await page.evaluate((tags) => globalThis.axe.run(
		    document, { runOnly: { type: 'tag', values: tags },
			resultTypes: ['violations'] }), AXE_TAGS);
		entry.violations = r.violations.length;
		for (const v of r.violations)
			this.failures.push(`${lang}/${name}: axe ${v.id} ` +
			    `(${v.impact}): ${v.help} at ` +
			    v.nodes.map((n) => n.target.join(' ')).join(', '));
		const base = path.join(ARTIFACTS, `${lang}-${name}`);
		await page.screenshot({ path: `${base}-1280.png`,
			fullPage: true });
		await page.setViewportSize({ width: 360, height: 740 });
		const wide = await page.evaluate(() =>
		    document.documentElement.scrollWidth);
		if (wide > 360)
			this.failures.push(`${lang}/${name}: ${wide} px wide ` +
			    'at a 360 px viewport');
		await page.screenshot({ path: `${base}-360.png`,
			fullPage: true });
		await page.setViewportSize({ width: 1280, height: 900 });
		this.shots += 2;
	}

	headers(lang, name, response, hasForm) {
		const h = response.headers();
		const csp = h['content-security-policy'] || '';
		const want = [
			[!/unsafe-inline|unsafe-eval/.test(csp) && csp !== '',
			    'a CSP without unsafe-inline'],
			[/frame-ancestors 'none'/.test(csp),
			    "frame-ancestors 'none'"],
			[h['referrer-policy'] === 'no-referrer',
			    'Referrer-Policy no-referrer'],
			[h['x-content-type-options'] === 'nosniff',
			    'X-Content-Type-Options nosniff'],
			[!hasForm || /no-store/.test(h['cache-control'] || ''),
			    'Cache-Control no-store'],
		];
		for (const [ok, what] of want)
			if (!ok)
				this.failures.push(`${lang}/${name}: no ${what}`);
	}
}

/* ---- the scenarios */

async function newPage(browser, ctx, lang) {
	/* The browser asks for the other language: what the person picks
	 * must win over Accept-Language. */
	const context = await browser.newContext({
		locale: lang === 'el' ? 'en-US' : 'el-GR',
		viewport: { width: 1280, height: 900 },
	});
	const page = await context.newPage();
	page.ctxCallbackOrigin = new URL(ctx.callback).origin;
	page.setDefaultTimeout(NAV_TIMEOUT_MS);
	page.on('console', (m) => {
		if (/Content Security Policy/i.test(m.text()))
			ctx.checker.failures.push(`CSP report: ${m.text()}`);
	});
	return { context, page };
}

/* Submits the form that holds selector (a button) and waits for the page
 * that answers. */
async function submit(page, selector) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.click(selector),
	]);
	return resp;
}

/* The page is in lang, else the switcher makes it so: on a sign-in page
 * a fresh authorization request with ui_locales, elsewhere GET /lang,
 * which sets the language cookie. */
async function ensureLang(page, lang, resp) {
	if (await page.getAttribute('html', 'lang') === lang)
		return resp;
	const r = await submit(page, `nav.lang a[hreflang="${lang}"]`);
	check(await page.getAttribute('html', 'lang') === lang,
	    `the switcher did not change the page to ${lang}`);
	return r;
}

function authorizeUrl(ctx, app, lang) {
	const q = new URLSearchParams({ response_type: 'code',
		client_id: app, redirect_uri: ctx.callback, scope: 'openid',
		state: crypto.randomBytes(8).toString('hex'),
		nonce: crypto.randomBytes(8).toString('hex') });
	/* English is asked for with ui_locales, Greek with the switcher. */
	if (lang === 'en')
		q.set('ui_locales', 'en');
	return `${ctx.issuer}/authorize?${q}`;
}

async function signIn(ctx, page, lang, username, password, name) {
	let r = await page.goto(authorizeUrl(ctx, EMP_APP, lang));
	r = await ensureLang(page, lang, r);
	if (name)
		await ctx.checker.page(page, lang, name, r);
	check(await page.textContent('h1').then((t) => t.includes(
	    'Μισθοδοσία')), 'the sign-in page does not name the app');
	await page.fill('#username', username);
	await page.fill('#password', password);
	return submit(page, 'form button[type=submit]');
}

function atCallback(page, what) {
	const u = new URL(page.url());
	check(u.origin === page.ctxCallbackOrigin && u.searchParams.get('code'),
	    `${what}: did not end at the app with a code (at ${page.url()})`);
}

async function scenarioTotp(ctx, browser, lang) {
	const u = ctx.users[lang], c = ctx.checker;
	const { context, page } = await newPage(browser, ctx, lang);
	let r = await signIn(ctx, page, lang, u.totp, ctx.password, 'signin');
	check(await page.$('input[name=otp][autocomplete=one-time-code]' +
	    '[inputmode=numeric]'), 'TOTP page: no numeric one-time-code');
	await c.page(page, lang, 'otp-totp', r);
	r = await submit(page, 'button[name=switch][value=recovery]');
	await c.page(page, lang, 'otp-recovery', r);
	r = await submit(page, 'button[name=switch][value=totp]');
	await page.fill('#otp', totpCode(u.secret));
	r = await submit(page, 'form button:not([name])');
	atCallback(page, 'TOTP sign-in');

	r = await ensureLang(page, lang, await page.goto(
	    `${ctx.issuer}/account`));
	await c.page(page, lang, 'account', r);
	r = await submit(page, 'form[action="/account/totp"] button');
	check(await page.$('p.qr img'), 'enrolment page: no QR code');
	await c.page(page, lang, 'account-totp-enrol', r);
	await page.goto(`${ctx.issuer}/account`);

	/* A refused change, then the change. */
	const fresh = `new-${ctx.password}`;
	await page.fill('#current_password', 'not the password at all');
	await page.fill('#new_password', fresh);
	await page.fill('#new_password2', fresh);
	r = await submit(page, 'form[action="/account/password"] button');
	check(await page.$('[role=alert]'), 'a wrong current password ' +
	    'was not refused');
	await c.page(page, lang, 'account-password-refused', r);
	await page.fill('#current_password', ctx.password);
	await page.fill('#new_password', fresh);
	await page.fill('#new_password2', fresh);
	r = await submit(page, 'form[action="/account/password"] button');
	check(await page.$('[role=status]') && !await page.$('[role=alert]'),
	    'the password change did not report success');
	await c.page(page, lang, 'account-password-changed', r);
	r = await submit(page, 'form[action="/logout"] button');
	check(await page.$('form[action="/logout"]') === null,
	    'sign-out did not end at the signed-out page');
	await c.page(page, lang, 'logged-out', r);
	await context.close();

	/* The old password no longer works, the new one does. */
	const second = await newPage(browser, ctx, lang);
	await signIn(ctx, second.page, lang, u.totp, ctx.password);
	check(await second.page.$('#username') &&
	    await second.page.$('[role=alert]'), 'the old password still ' +
	    'signs in');
	await c.page(second.page, lang, 'signin-refused', null);
	await signIn(ctx, second.page, lang, u.totp, fresh);
	check(await second.page.$('input[name=otp]'), 'the new password ' +
	    'does not sign in');
	await second.context.close();
}

async function smsSignIn(ctx, browser, lang, shots) {
	const u = ctx.users[lang], c = ctx.checker;
	const s = await newPage(browser, ctx, lang);
	let r = await signIn(ctx, s.page, lang, u.sms, ctx.password, null);
	check(await s.page.$('button[name=switch][value=sms]'),
	    'SMS page: no resend button');
	check(await s.page.$('#resend-when'), 'SMS page: does not say ' +
	    'when a new code may be asked for');
	if (shots)
		await c.page(s.page, lang, 'otp-sms', r);
	await s.page.fill('#otp', smsCode(ctx, u.phone));
	await submit(s.page, 'form button:not([name])');
	atCallback(s.page, 'SMS sign-in');
	return s;
}

async function scenarioSms(ctx, browser, lang) {
	const c = ctx.checker;
	const a = await smsSignIn(ctx, browser, lang, true);
	const b = await smsSignIn(ctx, browser, lang, false);
	let r = await ensureLang(b.page, lang, await b.page.goto(
	    `${ctx.issuer}/account`));
	const listed = await b.page.$$eval('ul.sessions li', (l) => l.length);
	check(listed === 2, `account page lists ${listed} sessions, not 2`);
	check((await b.page.textContent('main')).includes('Δήμος Δοκιμών'),
	    'account page does not name the organisation');
	await c.page(b.page, lang, 'account-sessions', r);
	r = await submit(b.page, 'form[action="/account/signout-all"] button');
	await c.page(b.page, lang, 'logged-out-everywhere', r);
	await a.page.goto(`${ctx.issuer}/account`);
	check(await a.page.$('#username') && await a.page.$('#password'),
	    'the other browser is still signed in after "sign out ' +
	    'everywhere"');
	await a.context.close();
	await b.context.close();
}

async function scenarioCitizen(ctx, browser, lang) {
	const c = ctx.checker;
	const { context, page } = await newPage(browser, ctx, lang);
	let r = await ensureLang(page, lang, await page.goto(
	    authorizeUrl(ctx, CIT_APP, lang)));
	await c.page(page, lang, 'signin-citizens', r);
	r = await submit(page, 'a[href^="/register"]');
	await c.page(page, lang, 'register', r);
	const afm = taxId();
	const phone = `+3069300${String(crypto.randomInt(1e5)).padStart(5,
	    '0')}`;
	const fill = async (pw2) => {
		await page.fill('[name=tax_id]', afm);
		await page.fill('[name=given_name]', 'Μαρία');
		await page.fill('[name=family_name]', 'Κωνσταντίνου');
		await page.fill('[name=phone]', phone);
		await page.fill('[name=password]', ctx.password);
		await page.fill('[name=password_confirm]', pw2);
	};
	await fill('something else entirely');
	r = await submit(page, 'form button[type=submit]');
	check(await page.$('[role=alert]'), 'registration: mismatched ' +
	    'passwords were not refused');
	await c.page(page, lang, 'register-refused', r);
	await fill(ctx.password);
	r = await submit(page, 'form button[type=submit]');
	check(await page.$('input[name=otp][inputmode=numeric]'),
	    'registration did not lead to the phone check');
	await c.page(page, lang, 'verify', r);
	await page.fill('[name=otp]', smsCode(ctx, phone));
	r = await submit(page, 'form button:not([name])');
	/* Then the app, maybe through the sign-in, a code and consent. */
	for (let i = 0; i < 4 && !page.url().startsWith(
	    page.ctxCallbackOrigin); i++) {
		if (await page.$('input[name=password]')) {
			await c.page(page, lang, 'signin-citizen-again', r);
			await page.fill('#username', afm);
			await page.fill('#password', ctx.password);
			r = await submit(page, 'form button[type=submit]');
		} else if (await page.$('input[name=otp]')) {
			await page.fill('#otp', smsCode(ctx, phone));
			r = await submit(page, 'form button:not([name])');
		} else if (await page.$('button[name=decision]')) {
			check(await page.$$eval('main li', (l) => l.length) >
			    0, 'consent page lists no data');
			await c.page(page, lang, 'consent', r);
			r = await submit(page, 'button[name=decision]' +
			    '[value=allow]');
		} else
			fail(`registration: stuck at ${page.url()}`);
	}
	atCallback(page, 'citizen registration');
	await context.close();
}

async function scenarioError(ctx, browser, lang) {
	const { context, page } = await newPage(browser, ctx, lang);
	let r = await page.goto(`${ctx.issuer}/authorize?response_type=code` +
	    '&client_id=no-such-app&scope=openid');
	r = await ensureLang(page, lang, r);
	check(r.status() === 400 && await page.$('h1'),
	    'unknown client: no error page');
	await ctx.checker.page(page, lang, 'error', r);
	/* The switcher route goes nowhere but this server. */
	const out = await page.goto(`${ctx.issuer}/lang?set=${lang}` +
	    '&back=//evil.example/');
	check(new URL(out.url()).origin === ctx.issuer,
	    '/lang redirected off the server');
	await context.close();
}

async function runAll(ctx) {
	const { chromium } = require(require.resolve('playwright-core',
	    { paths: [HERE] }));
	const axePath = require.resolve('axe-core/axe.min.js',
	    { paths: [HERE] });
	ctx.checker = new Checker(ctx, fs.readFileSync(axePath, 'utf8'));
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update', '--disable-sync',
			'--no-first-run'],
	});
	try {
		for (const lang of LANGS) {
			log(`${lang}: TOTP sign-in, account, password, sign-out`);
			await scenarioTotp(ctx, browser, lang);
			log(`${lang}: SMS sign-in twice, sign out everywhere`);
			await scenarioSms(ctx, browser, lang);
			log(`${lang}: citizen registration`);
			await scenarioCitizen(ctx, browser, lang);
			log(`${lang}: error page`);
			await scenarioError(ctx, browser, lang);
		}
	} finally {
		await browser.close();
	}
}

function report(ctx) {
	const c = ctx.checker;
	fs.writeFileSync(path.join(ARTIFACTS, 'summary.json'), JSON.stringify(
	    { pages: c.results, failures: c.failures }, null, 2));
	for (const e of c.results)
		log(`axe ${e.lang} ${e.name.padEnd(26)} ${e.violations} ` +
		    `violations  ${e.url}`);
	log(`${c.results.length} page checks, ${c.shots} screenshots in ` +
	    `${ARTIFACTS}`);
}

async function main() {
	const bin = parseArgs(process.argv.slice(2));
	const missing = missingPieces();
	if (missing) {
		if (!ciIsSet()) {
			log(`SKIP: missing ${missing}`);
			return SKIP;
		}
		log(`FAIL: missing ${missing} and CI is set`);
		return 1;
	}
	fs.rmSync(ARTIFACTS, { recursive: true, force: true });
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	const ctx = { bin, dir: fs.mkdtempSync(path.join(os.tmpdir(),
	    'kleidi-browser-')), password: `Pw-${crypto.randomBytes(9)
	    .toString('base64url')}`, server: null };
	let status = 1, timer;
	try {
		ctx.app = http.createServer((req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/plain' });
			res.end('the application\n');
		});
		await new Promise((res) => ctx.app.listen(0, '127.0.0.1', res));
		ctx.callback = `http://127.0.0.1:${ctx.app.address().port}/cb`;
		ctx.port = await freePort();
		ctx.issuer = `http://127.0.0.1:${ctx.port}`;
		provision(ctx);
		await startServer(ctx);
		log(`serving on ${ctx.issuer}`);
		await Promise.race([runAll(ctx), new Promise((_, rej) => {
			timer = setTimeout(() => rej(new Error(
			    `not done within ${TOTAL_TIMEOUT_MS} ms`)),
			    TOTAL_TIMEOUT_MS);
		})]);
		report(ctx);
		if (ctx.checker.failures.length === 0)
			status = 0;
		for (const f of ctx.checker.failures)
			log(`FAIL: ${f}`);
	} catch (err) {
		log(`FAIL: ${err.stack || err}`);
		if (ctx.checker)
			report(ctx);
	} finally {
		clearTimeout(timer);
		const stopped = await stopServer(ctx);
		if (stopped) {
			log(`FAIL: ${stopped}`);
			status = 1;
		}
		if (status !== 0 && ctx.serverLog)
			process.stdout.write(`--- server log ---\n` +
			    `${ctx.serverLog.slice(-4000)}\n`);
		fs.rmSync(ctx.dir, { recursive: true, force: true });
		if (ctx.app)
			ctx.app.close();
	}
	return status;
}

main().then((code) => process.exit(code), (err) => {
	log(`FAIL: ${err.stack || err}`);
	process.exit(1);
});
