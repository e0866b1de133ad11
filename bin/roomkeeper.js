#!/usr/bin/env node
import { main } from '../dist/main.js';

// main resolves only once stdout and stderr have drained: a pipe to a slower reader holds what
// the kernel's pipe buffer (64 KiB) cannot, and process.exit would drop it. Exit explicitly
// then: after the daemon stops, an abandoned long-poll socket of matrix-bot-sdk's HTTP agent
// could keep the event loop alive for up to its 30 s timeout.
process.exit(await main(process.argv.slice(2)));
