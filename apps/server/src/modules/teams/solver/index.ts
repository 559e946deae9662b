// Team assembly's exact solver: a pure module (no database, no HTTP). See solve.ts for the
// objective and how exactness is kept, prune.ts for the pruning proofs, pool.ts for the workers.
export { closeSolverPool, solveTeamInWorker, warmSolverPool } from './pool.ts';
export { solveTeam } from './solve.ts';
export * from './types.ts';
