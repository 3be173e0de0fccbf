// Local Bluesky reference network for Resonanz end-to-end tests:
// PLC directory (in-memory) + PDS (sqlite in a temp dir) + AppView (PostgreSQL),
// wired like @atproto/dev-env's TestNetwork but without Ozone/Redis, and bound
// to 127.0.0.1 only.
//
// Protocol with the parent process (see src/resonanz/testing/bluesky_network.py):
//   * stdout carries exactly one line: the "ready" JSON object. Everything else
//     (library logging, diagnostics) goes to stderr.
//   * SIGTERM / SIGINT / EOF on stdin => graceful shutdown: close servers, drop
//     this run's PostgreSQL schema, delete the PDS data directory, exit.
//     (EOF on stdin means the parent died, so we never outlive it.)
//
// Environment (all optional):
//   RESONANZ_BSKY_PLC_PORT, RESONANZ_BSKY_PDS_PORT, RESONANZ_BSKY_APPVIEW_PORT
//       fixed ports; default: free ports chosen at start.
//   RESONANZ_BSKY_DB_URL  AppView database, default
//       postgresql://postgres@127.0.0.1:5432/resonanz_bsky (created if missing).
//   RESONANZ_BSKY_IGNORE_STDIN=1  do not shut down on stdin EOF (manual runs).

import dns from 'node:dns'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const LOOPBACK = '127.0.0.1'

// --- 1. Never listen on anything but loopback -------------------------------
// PLC (@did-plc/server dist/index.js `this.app.listen(this.ctx.port)`), PDS
// (@atproto/pds dist/index.js:209), AppView (@atproto/bsky dist/index.js:258)
// and the AppView's data-plane / bsync servers
// (@atproto/bsky dist/data-plane/{server,bsync}/index.js) all call
// `listen(port)` without a host, which binds every interface. Every such
// call ends up in net.Server.prototype.listen, so force the host there.
const WILDCARD_HOSTS = new Set([undefined, null, '', '0.0.0.0', '::', '::0'])
const origListen = net.Server.prototype.listen
net.Server.prototype.listen = function patchedListen(...args) {
  const first = args[0]
  if (first === undefined || typeof first === 'function') {
    // listen() / listen(cb): random port on loopback.
    return origListen.call(this, { port: 0, host: LOOPBACK }, ...args.filter((a) => typeof a === 'function'))
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb])
    const rest = args.slice(1)
    if (typeof rest[0] === 'string' || rest[0] === null || rest[0] === undefined && rest.length > 0) {
      if (WILDCARD_HOSTS.has(rest[0])) rest[0] = LOOPBACK
    } else {
      rest.unshift(LOOPBACK)
    }
    return origListen.call(this, Number(first), ...rest)
  }
  if (first !== null && typeof first === 'object' && !('_handle' in first) && !('fd' in first) && !('path' in first)) {
    // listen(options[, cb])
    const opts = { ...first }
    if (WILDCARD_HOSTS.has(opts.host)) opts.host = LOOPBACK
    return origListen.call(this, opts, ...args.slice(1))
  }
  // Unix socket path, handle or fd: not a network listener.
  return origListen.apply(this, args)
}

// All the servers talk to each other via `http://localhost:PORT`
// (dev-env dist/{plc,pds,bsky}.js). On hosts where localhost resolves to ::1
// first that would miss our 127.0.0.1 listeners.
dns.setDefaultResultOrder('ipv4first')

// --- 2. Keep stdout for the ready line only ---------------------------------
const log = (...parts) => process.stderr.write(`[bluesky-devserver] ${parts.join(' ')}\n`)
console.log = (...a) => process.stderr.write(a.map(String).join(' ') + '\n')
console.info = console.log
console.debug = console.log

const require = createRequire(import.meta.url)
const { TestPlc, TestPds, TestBsky, mockNetworkUtilities } = require('@atproto/dev-env')
const getPort = require('get-port')
const pg = require('pg')

const envPort = (name) => {
  const v = process.env[name]
  if (!v) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} must be a TCP port, got ${v}`)
  return n
}
const freePort = () => getPort({ host: LOOPBACK })

// --- 3. PostgreSQL: own database, unique schema per run ---------------------
// @atproto/bsky dist/data-plane/server/db/db.js:104 only accepts schema names
// matching /^[a-z_]+$/i, so the pid is spelled with letters (0->a ... 9->j).
const DB_URL = process.env.RESONANZ_BSKY_DB_URL || `postgresql://postgres@${LOOPBACK}:5432/resonanz_bsky`
const SCHEMA_PREFIX = 'resonanz_'
const pidToLetters = (pid) => String(pid).replace(/\d/g, (d) => String.fromCharCode(97 + Number(d)))
const lettersToPid = (s) => Number(s.replace(/[a-j]/g, (c) => String(c.charCodeAt(0) - 97)))
const randomLetters = (n) => Array.from(crypto.randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('')
const SCHEMA = `${SCHEMA_PREFIX}${pidToLetters(process.pid)}_${randomLetters(8)}`

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function ensureDatabase() {
  const url = new URL(DB_URL)
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]+$/.test(dbName)) throw new Error(`unsupported database name ${dbName}`)
  const adminUrl = new URL(DB_URL)
  adminUrl.pathname = '/postgres'
  await withClient(adminUrl.toString(), async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])
    if (rowCount) return
    try {
      await c.query(`CREATE DATABASE "${dbName}"`)
      log(`created database ${dbName}`)
    } catch (err) {
      // 42P04 duplicate_database / 23505 unique_violation: a parallel run won the race.
      if (err.code !== '42P04' && err.code !== '23505') throw err
    }
  })
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

// Schemas left behind by runs that were SIGKILLed (no chance to clean up).
async function dropStaleSchemas() {
  await withClient(DB_URL, async (c) => {
    const { rows } = await c.query(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'resonanz\\_%'`,
    )
    for (const { nspname } of rows) {
      const m = /^resonanz_([a-j]+)_[a-z]+$/.exec(nspname)
      if (!m || nspname === SCHEMA) continue
      if (pidAlive(lettersToPid(m[1]))) continue
      log(`dropping stale schema ${nspname}`)
      await c.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`).catch((err) => log(`could not drop ${nspname}: ${err.message}`))
    }
  })
}

async function dropOwnSchema() {
  await withClient(DB_URL, (c) => c.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`))
}

// --- 4. Start the network ---------------------------------------------------
const state = { plc: null, pds: null, bsky: null, dataDir: null, schemaCreated: false, stopping: false }

async function start() {
  const t0 = Date.now()
  // TestPds puts its sqlite files and blobs in random dirs under os.tmpdir()
  // and never deletes them (dev-env dist/pds.js, TestPds.create). os.tmpdir()
  // reads $TMPDIR on every call, so point it at a directory we remove at stop.
  state.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resonanz-bsky-'))
  process.env.TMPDIR = state.dataDir
  await ensureDatabase()
  await dropStaleSchemas()

  const plcPort = envPort('RESONANZ_BSKY_PLC_PORT') ?? (await freePort())
  const pdsPort = envPort('RESONANZ_BSKY_PDS_PORT') ?? (await freePort())
  const bskyPort = envPort('RESONANZ_BSKY_APPVIEW_PORT') ?? (await freePort())

  state.plc = await TestPlc.create({ port: plcPort })
  log(`plc up on ${plcPort} (+${Date.now() - t0}ms)`)

  // Same wiring as dev-env dist/network.js TestNetwork.create, minus Ozone,
  // Redis and the "third party" PDS. The AppView subscribes to the PDS's
  // firehose, so it is created first and the PDS port is fixed in advance.
  state.schemaCreated = true // the migration below creates it
  state.bsky = await TestBsky.create({
    port: bskyPort,
    plcUrl: state.plc.url,
    pdsPort,
    repoProvider: `ws://localhost:${pdsPort}`,
    dbPostgresUrl: DB_URL,
    dbPostgresSchema: SCHEMA,
  })
  log(`appview up on ${bskyPort}, schema ${SCHEMA} (+${Date.now() - t0}ms)`)

  const adminPassword = crypto.randomBytes(16).toString('hex')
  state.pds = await TestPds.create({
    port: pdsPort,
    didPlcUrl: state.plc.url,
    adminPassword,
    // The PDS proxies app.bsky.* reads to this AppView (service-auth JWT with
    // aud = the AppView's did).
    bskyAppViewUrl: state.bsky.url,
    bskyAppViewDid: state.bsky.ctx.cfg.serverDid,
  })
  log(`pds up on ${pdsPort} (+${Date.now() - t0}ms)`)

  // Make `*.test` handles and the PDS's did documents resolve locally, for
  // both the PDS and the AppView (dev-env dist/util.js). Must happen before
  // any event flows from the PDS so no handle resolution is missed.
  mockNetworkUtilities(state.pds, state.bsky)

  const ready = {
    ready: true,
    plc: `http://${LOOPBACK}:${plcPort}`,
    pds: `http://${LOOPBACK}:${pdsPort}`,
    appview: `http://${LOOPBACK}:${bskyPort}`,
    appview_did: state.bsky.ctx.cfg.serverDid,
    pds_did: state.pds.ctx.cfg.service.did,
    admin_username: 'admin',
    admin_password: adminPassword,
    handle_domains: state.pds.ctx.cfg.identity.serviceHandleDomains,
    invite_required: state.pds.ctx.cfg.invites.required,
    db_schema: SCHEMA,
    pid: process.pid,
    startup_ms: Date.now() - t0,
  }
  process.stdout.write(JSON.stringify(ready) + '\n')
}

// --- 5. Shutdown ------------------------------------------------------------
async function stop(reason, code = 0) {
  if (state.stopping) return
  state.stopping = true
  log(`stopping (${reason})`)
  // Never hang: if a graceful close stalls, still exit (and the next run's
  // dropStaleSchemas() will clean the schema up).
  const hard = setTimeout(() => {
    log('shutdown timed out; exiting anyway')
    process.exit(code || 1)
  }, 10_000)
  hard.unref()
  const step = async (name, fn) => {
    try {
      await fn()
    } catch (err) {
      log(`error closing ${name}: ${err?.stack || err}`)
    }
  }
  if (state.pds) await step('pds', () => state.pds.close())
  if (state.bsky) await step('appview', () => state.bsky.close())
  if (state.plc) await step('plc', () => state.plc.close())
  if (state.schemaCreated) await step('schema', dropOwnSchema)
  if (state.dataDir) await step('data dir', () => fs.promises.rm(state.dataDir, { recursive: true, force: true }))
  log('stopped')
  process.exit(code)
}

process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGHUP', () => stop('SIGHUP'))
if (!process.env.RESONANZ_BSKY_IGNORE_STDIN && !process.stdin.isTTY) {
  process.stdin.on('end', () => stop('stdin closed'))
  process.stdin.on('error', () => stop('stdin error'))
  process.stdin.resume() // we read (and discard) stdin only to notice EOF
}
process.on('uncaughtException', (err) => {
  log(`uncaught: ${err?.stack || err}`)
  stop('uncaughtException', 1)
})

start().catch((err) => {
  log(`startup failed: ${err?.stack || err}`)
  stop('startup failed', 1)
})
