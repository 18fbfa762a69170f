#!/usr/bin/env node
/*
 * run.js - driver of the ctest test conformance.openid_client.
 *
 *   node run.js --kleidi /path/to/kleidi
 *
 * Makes a temporary data folder with cheap argon2 parameters, provisions an
 * org, seven apps (confidential, confidential, public, ES256, one the org does
 * not subscribe to) and one user through the operator CLI, starts
 * `kleidi serve` on a free port, runs rp.test.js with node's own test runner
 * against it, then stops the server with SIGTERM and removes the folder,
 * whatever happened. The server must exit 0 on SIGTERM: under the sanitizer
 * build a leak or a sanitizer report is a failure of this test too.
 *
 * Exit codes: 0 passed, 1 failed, 77 skipped (node_modules missing and CI
 * not set; under CI a missing node_modules is a failure).
 */
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SKIP = 77;
const HERE = __dirname;
const READY_TIMEOUT_MS = 20000;
const CLI_TIMEOUT_MS = 60000;
const TESTS_TIMEOUT_MS = 180000;
const STOP_TIMEOUT_MS = 15000;
const START_ATTEMPTS = 3;

const ORG = 'rp-town';
const USERNAME = 'eleni';
const USER_NAME = 'Ελένη Ιωάννου';
const USER_EMAIL = 'eleni@rp-town.example';

/* The apps the tests use, and the roles the user holds in each. */
const APPS = [
	{ key: 'basic', id: 'rp-basic', args: [], roles: ['clerk', 'approver'] },
	{ key: 'post', id: 'rp-post', args: [], roles: ['viewer'] },
	{ key: 'public', id: 'rp-public', args: ['--public'], roles: ['clerk'] },
	{ key: 'es256', id: 'rp-es256', args: ['--id-token-alg', 'ES256'],
	  roles: ['auditor'] },
	{ key: 'unsubscribed', id: 'rp-unsubscribed', args: [], roles: [],
	  unsubscribed: true },
	{ key: 'refresh', id: 'rp-refresh', args: ['--refresh'],
	  roles: ['clerk'] },
	/* RP-initiated logout comes back here (nobody listens: the test
	 * reads the 302 only). */
	{ key: 'logout', id: 'rp-logout',
	  args: ['--post-logout-uri', 'http://127.0.0.1:9/bye'],
	  roles: ['clerk'] },
];

function ciIsSet() {
	const v = (process.env.CI || '').trim().toLowerCase();
	return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

function log(msg) {
	process.stdout.write(`run.js: ${msg}\n`);
}

function parseArgs(argv) {
	const i = argv.indexOf('--kleidi');
	const bin = i >= 0 ? argv[i + 1] : process.env.KLEIDI_BIN;
	if (!bin)
		throw new Error('usage: node run.js --kleidi PATH (or KLEIDI_BIN)');
	return path.resolve(bin);
}

function dependenciesPresent() {
	try {
		require.resolve('openid-client', { paths: [HERE] });
		require.resolve('jose', { paths: [HERE] });
		return true;
	} catch {
		return false;
	}
}

/* A port nobody listens on right now: bind 0, read it, close. */
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

/* One operator command with --json; returns the parsed object. */
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
		const shown = args.join(' ');
		throw new Error(`kleidi ${shown} failed (status ` +
		    `${err.status}, signal ${err.signal}):\n` +
		    `${err.stdout || ''}${err.stderr || ''}`);
	}
	const lines = out.trim().split('\n');
	try {
		return JSON.parse(lines[lines.length - 1]);
	} catch {
		throw new Error(`kleidi ${args.join(' ')}: not JSON: ${out}`);
	}
}

function provision(ctx) {
	// Cheap hashes; one factor (this suite checks the protocol, the C
	// integration tests the second factor); all requests come from
	// 127.0.0.1, so a large per-address burst.
	const ini = '[password]\nargon2_m_cost_kib = 8192\nargon2_t_cost = 1\n' +
	    '[policy]\nemployee_factors = 1\n[limits]\nsignin_burst = 10000\n';
	fs.writeFileSync(path.join(ctx.dir, 'kleidi.ini'), ini, { mode: 0o600 });
	cli(ctx, ['init', '--issuer', ctx.issuer]);
	cli(ctx, ['org', 'add', ORG, '--name', 'Δήμος Δοκιμών']);
	const clients = {};
	for (const app of APPS) {
		const r = cli(ctx, ['app', 'add', app.id, '--name',
		    `Conformance ${app.key}`, '--redirect-uri', ctx.redirectUri,
		    ...app.args]);
		if (r.client_id !== app.id)
			throw new Error(`app add ${app.id}: client_id ` +
			    `${r.client_id}`);
		const isPublic = app.args.includes('--public');
		if (isPublic !== (r.client_secret === undefined))
			throw new Error(`app add ${app.id}: client_secret ` +
			    `${isPublic ? 'given to a public' : 'missing for a '
			    + 'confidential'} client`);
		clients[app.key] = { client_id: r.client_id,
			client_secret: r.client_secret, roles: app.roles };
		if (!app.unsubscribed)
			cli(ctx, ['org', 'subscribe', ORG, app.id]);
	}
	const user = cli(ctx, ['user', 'add', USERNAME, '--org', ORG,
	    '--name', USER_NAME, '--email', USER_EMAIL, '--password-stdin'],
	    `${ctx.password}\n`);
	if (typeof user.sub !== 'string' || user.sub === '')
		throw new Error(`user add: no sub in ${JSON.stringify(user)}`);
	for (const app of APPS)
		for (const role of app.roles)
			cli(ctx, ['grant', 'add', USERNAME, app.id, role]);
	return { clients, sub: user.sub };
}

/* Starts the server; resolves once it printed its "serving" line. Rejects
 * with err.retry set when the port was taken in the meantime. */
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
		let out = '', settled = false;
		const settle = (err) => {
			if (settled)
				return;
			settled = true;
			clearTimeout(timer);
			if (err)
				reject(err);
			else
				resolve();
		};
		const timer = setTimeout(() => settle(new Error(
		    `no "serving" line within ${READY_TIMEOUT_MS} ms`)),
		    READY_TIMEOUT_MS);
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (d) => { ctx.serverLog += d; });
		child.stdout.on('data', (d) => {
			ctx.serverLog += d;
			out += d;
			const m = /^kleidi: serving issuer (\S+) on (\S+)$/m
			    .exec(out);
			if (!m)
				return;
			if (m[1] !== ctx.issuer || m[2] !== ctx.issuer)
				settle(new Error(`serving line "${m[0]}" does ` +
				    `not match issuer ${ctx.issuer}`));
			else
				settle();
		});
		child.on('error', (err) => settle(err));
		child.on('exit', (code, signal) => {
			const err = new Error(`kleidi serve exited (code ${code}, ` +
			    `signal ${signal}) before it was ready`);
			err.retry = /in use|EADDRINUSE/i.test(ctx.serverLog);
			settle(err);
		});
	});
}

/* SIGTERM, then wait; SIGKILL past the bound. Returns a failure message
 * or null. */
async function stopServer(ctx) {
	const child = ctx.server;
	ctx.server = null;
	if (!child || child.exitCode !== null || child.signalCode !== null) {
		if (!child)
			return null;
		const { code, signal } = await ctx.serverExit;
		return `kleidi serve had already exited (code ${code}, signal ` +
		    `${signal})`;
	}
	child.kill('SIGTERM');
	let timer;
	const timeout = new Promise((res) => {
		timer = setTimeout(() => res(null), STOP_TIMEOUT_MS);
	});
	const r = await Promise.race([ctx.serverExit, timeout]);
	clearTimeout(timer);
	if (r === null) {
		child.kill('SIGKILL');
		await ctx.serverExit;
		return `kleidi serve did not stop within ${STOP_TIMEOUT_MS} ms ` +
		    'of SIGTERM';
	}
	if (r.code !== 0)
		return `kleidi serve exited with code ${r.code}, signal ` +
		    `${r.signal} after SIGTERM`;
	return null;
}

function runTests(ctx, config) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['--test',
		    path.join(HERE, 'rp.test.js')], {
			cwd: HERE,
			stdio: ['ignore', 'inherit', 'inherit'],
			env: { ...process.env,
				KLEIDI_RP_CONFIG: JSON.stringify(config) },
		});
		ctx.tests = child;
		const timer = setTimeout(() => {
			log(`tests still running after ${TESTS_TIMEOUT_MS} ms: ` +
			    'stopping them');
			child.kill('SIGKILL');
		}, TESTS_TIMEOUT_MS);
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			ctx.tests = null;
			resolve(code === 0 && signal === null);
		});
	});
}

function removeDir(ctx) {
	if (ctx.dir) {
		fs.rmSync(ctx.dir, { recursive: true, force: true });
		ctx.dir = null;
	}
}

/* A fresh folder and port per attempt: the issuer names the port. */
async function setUp(ctx) {
	for (let attempt = 1; ; attempt++) {
		ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kleidi-rp-'));
		ctx.port = await freePort();
		do
			ctx.redirectPort = await freePort();
		while (ctx.redirectPort === ctx.port);
		ctx.issuer = `http://127.0.0.1:${ctx.port}`;
		ctx.redirectUri = `http://127.0.0.1:${ctx.redirectPort}/cb`;
		const prov = provision(ctx);
		try {
			await startServer(ctx);
			return prov;
		} catch (err) {
			await stopServer(ctx);
			if (!err.retry || attempt === START_ATTEMPTS)
				throw err;
			log(`port ${ctx.port} was taken: trying another`);
			removeDir(ctx);
		}
	}
}

async function main() {
	const ctx = { bin: parseArgs(process.argv.slice(2)), dir: null,
		server: null, tests: null, serverLog: '',
		password: `Pw-${crypto.randomBytes(12).toString('base64url')}` };
	if (!fs.existsSync(ctx.bin))
		throw new Error(`${ctx.bin}: no such file (build target kleidi)`);
	if (!dependenciesPresent()) {
		const msg = `node_modules missing in ${HERE}: run ` +
		    '`npm ci --no-audit --no-fund` there';
		if (ciIsSet()) {
			log(`FAIL: ${msg} (CI is set)`);
			return 1;
		}
		log(`SKIP: ${msg}`);
		return SKIP;
	}
	const stop = async (sig) => {
		log(`${sig}: cleaning up`);
		if (ctx.tests)
			ctx.tests.kill('SIGKILL');
		await stopServer(ctx);
		removeDir(ctx);
		process.exit(1);
	};
	process.once('SIGTERM', () => stop('SIGTERM'));
	process.once('SIGINT', () => stop('SIGINT'));

	let ok = false, failure = null;
	try {
		const prov = await setUp(ctx);
		log(`server ready: ${ctx.issuer} (data ${ctx.dir})`);
		ok = await runTests(ctx, {
			issuer: ctx.issuer,
			redirect_uri: ctx.redirectUri,
			org: ORG,
			username: USERNAME,
			password: ctx.password,
			name: USER_NAME,
			email: USER_EMAIL,
			sub: prov.sub,
			clients: prov.clients,
			post_logout_uri: 'http://127.0.0.1:9/bye',
		});
		if (!ok)
			failure = 'rp.test.js failed';
	} catch (err) {
		failure = err.stack || String(err);
	} finally {
		const stopFailure = await stopServer(ctx);
		if (stopFailure)
			failure = failure ? `${failure}\n${stopFailure}` :
			    stopFailure;
		removeDir(ctx);
	}
	if (failure) {
		log(`server log:\n${ctx.serverLog}`);
		log(`FAIL: ${failure}`);
		return 1;
	}
	log('PASS');
	return 0;
}

main().then((code) => process.exit(code), (err) => {
	log(`FAIL: ${err.stack || err}`);
	process.exit(1);
});
