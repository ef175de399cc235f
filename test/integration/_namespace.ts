// Servers that run in a private network namespace (scripts/krb5-nas,
// scripts/secure-nas): starting one and reading its variables, and running a
// child inside it that prints one JSON result as its last line.
import { execFileSync, spawn } from 'node:child_process';

/** `SCRIPT start`: the server's variables (NAME=value lines of its output). */
export function startNamespaced(script: string): Record<string, string> {
  const env: Record<string, string> = {};
  const out = execFileSync(script, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * Runs `child` (a test-side TypeScript file) under this node inside the
 * namespace with `input` as JSON, and resolves with the JSON of its last
 * stdout line; a child that prints none rejects with its whole output.
 */
export function runNamespaced<T>(script: string, child: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(script, ['exec', process.execPath, ...process.execArgv, child, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`child exited ${code} without a result: ${stdout}\n${stderr}`));
      }
    });
  });
}
