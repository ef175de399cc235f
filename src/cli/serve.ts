import { readFile } from 'node:fs/promises';
import { connect } from '../connect.js';
import { ConfigError, ENV_NAMES, resolveConfig } from '../sidecar/config.js';
import { errorFields, jsonLogger, silentLogger } from '../sidecar/log.js';
import { Sidecar } from '../sidecar/server.js';
import type { OptionSpec } from './args.js';
import type { Command } from './command.js';
import { describeError } from './io.js';

const VALUED = ['url', 'listen', 'admin-listen', 'token-file', 'max-body', 'max-concurrent', 'header-timeout', 'idle-timeout', 'keep-alive-timeout', 'drain-timeout', 'max-lock-timeout', 'log'];

export const serve: Command = {
  name: 'serve',
  summary: 'the sidecar: serve the volume over HTTP and WebDAV',
  help: `usage: mountless serve --url nfs://host/export[/dir] [options]

Serve the volume (the directory the URL names, and nothing above it) over HTTP
(GET/HEAD with ranges and validators, PUT, DELETE, JSON/HTML listings) and
WebDAV class 1 and 2 (PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK).
SIGTERM or SIGINT lets requests in flight finish, then unmounts.

  --url URL              the volume                       ${ENV_NAMES.url} or NFS_URL
  --listen ADDR          host:port (default 127.0.0.1:8080) ${ENV_NAMES.listen}
  --admin-listen ADDR    /healthz /readyz /metrics here   ${ENV_NAMES['admin-listen']}
  --token-file FILE      require this token: Authorization: Bearer TOKEN,
                         or Basic auth with TOKEN as the password
                                                          ${ENV_NAMES['token-file']}, MOUNTLESS_TOKEN
  --read-only            refuse every write (405)         ${ENV_NAMES['read-only']}
  --max-body SIZE        largest upload (default 1G; K/M/G 1024-based)
                                                          ${ENV_NAMES['max-body']}
  --max-concurrent N     requests at once, 503 beyond (default 256)
                                                          ${ENV_NAMES['max-concurrent']}
  --header-timeout DUR   to receive request headers (default 20s)
  --idle-timeout DUR     a connection with no bytes moving (default 60s)
  --keep-alive-timeout DUR  between requests on a connection (default 5s)
  --drain-timeout DUR    to finish requests on shutdown (default 30s)
  --max-lock-timeout SEC longest WebDAV lock granted (default 3600)
  --log json|off         one JSON line per request on stderr (default json)

Each option also reads MOUNTLESS_<NAME> (e.g. MOUNTLESS_IDLE_TIMEOUT=2m).
A --listen address other than loopback is refused unless a token is set.`,
  options: [...VALUED.map((name): OptionSpec => ({ name, value: true })), { name: 'read-only' }, { name: 'help', short: 'h' }],
  async run({ io, args, remotes }) {
    let config;
    try {
      config = await resolveConfig(args.flags, io.env, (p) => readFile(p, 'utf8'));
    } catch (err) {
      if (err instanceof ConfigError) {
        io.stderr.write(`mountless serve: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const log = config.log === 'off' ? silentLogger : jsonLogger((l) => io.stderr.write(l));
    let nfs;
    try {
      nfs = await connect(config.url, remotes.connectOptions);
    } catch (err) {
      io.stderr.write(`mountless serve: cannot mount ${config.url}: ${describeError(err)}\n`);
      return 1;
    }
    const sidecar = new Sidecar(nfs, config, { logger: log });
    try {
      await sidecar.listen();
    } catch (err) {
      io.stderr.write(`mountless serve: cannot listen: ${describeError(err)}\n`);
      await sidecar.close();
      await nfs.close();
      return 1;
    }
    return new Promise<number>((done) => {
      let stopping = false;
      const resolve = (code: number) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        done(code);
      };
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          log.warn('second signal: exiting without draining', { signal });
          process.exit(1);
        }
        stopping = true;
        log.info('signal', { signal });
        sidecar
          .close()
          .then(() => nfs.close())
          .then(
            () => resolve(0),
            (err) => {
              log.error('shutdown failed', errorFields(err));
              resolve(1);
            },
          );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  },
};
