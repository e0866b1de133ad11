#!/usr/bin/env node
import { main } from '../dist/main.js';

// Exit explicitly: after the daemon stops, an abandoned long-poll socket of matrix-bot-sdk's HTTP
// agent could keep the event loop alive for up to its 30 s timeout. Writes to stdout/stderr are
// synchronous for files and pipes on Linux, and the logger writes synchronously.
process.exit(await main(process.argv.slice(2)));
