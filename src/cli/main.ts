#!/usr/bin/env node
/**
 * The `mountless` command. Everything is in run.ts (so tests can call it
 * with their own streams); this file only sets the exit status.
 */
import { run } from './run.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`mountless: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
