import { postgresUnavailable } from './postgres.js';

/** Says once, at the top of the run, why the `server-postgres` project skips everything (see postgres-runner.ts). */
export default async function setup(): Promise<void> {
  const reason = await postgresUnavailable();
  if (reason !== undefined) {
    console.warn(`server-postgres: every test is skipped: ${reason}. To run them, point DATABASE_URL at a PostgreSQL database this machine can reach.`);
  }
}
