import { config } from 'zod';

// zod 4 compiles object parsers with `new Function` when it may. Our page's CSP
// allows no eval, and merely probing for it (even inside try/catch) makes the
// browser report a CSP violation in the console on every load. Parsing without
// the compiled fast path costs nothing that matters for one socket's messages.
// Imported first by main.ts, before any schema parses.
config({ jitless: true });
