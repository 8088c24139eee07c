#!/usr/bin/env node
// The pss CLI runs its TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../server/cli.ts');
await main(process.argv);
