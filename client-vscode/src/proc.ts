import { spawn } from 'child_process';

/**
 * Runs a process, passing each output line to `onLine`; resolves with the exit code (-1 if it could not
 * start). `env` replaces the environment when given.
 */
export function runProcess(
    command: string,
    args: string[],
    onLine: (line: string) => void,
    env?: NodeJS.ProcessEnv,
): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
        const forward = (chunk: Buffer) =>
            chunk
                .toString('utf8')
                .split(/\r?\n/)
                .filter((l) => l.trim() !== '')
                .forEach(onLine);
        child.stdout.on('data', forward);
        child.stderr.on('data', forward);
        child.on('error', (err) => {
            onLine(`could not run ${command}: ${err.message}`);
            resolve(-1);
        });
        child.on('close', (code) => resolve(code ?? -1));
    });
}
