#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) so the CLI runs straight from src/, no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
