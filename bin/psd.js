#!/usr/bin/env node
// The psd CLI runs its TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../host-bridge/cli.ts');
await main(process.argv);
