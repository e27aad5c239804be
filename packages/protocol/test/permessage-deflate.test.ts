import zlib from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { ProtocolError, ProtocolErrorCode } from '../src/errors.js';
import { formatExtensionHeader, parseExtensionHeader } from '../src/extension-header.js';
import {
  PerMessageDeflate,
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from '../src/permessage-deflate.js';
import { createRng, hex } from './helpers/bytes.js';
import { expectProtocolError } from './helpers/recorders.js';

const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

describe('acceptDeflateOffer (server side of RFC 7692 §7.1)', () => {
  const accepted: Array<[offer: string, options: PerMessageDeflateOptions, response: string, params: Partial<DeflateParams>]> = [
    ['permessage-deflate', {}, 'permessage-deflate', {}],
    ['permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    [
      'permessage-deflate; client_max_window_bits',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: 10 },
    ],
    // A client that names a window will use at most that one; nothing needs saying.
    ['permessage-deflate; client_max_window_bits=12', {}, 'permessage-deflate', { clientMaxWindowBits: 12 }],
    [
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: 10 },
    ],
    [
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 12 },
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 9 },
    ],
    // RFC 7692 §7.1.2.2: without the client's parameter, the response must not carry it.
    ['permessage-deflate', { clientMaxWindowBits: 10 }, 'permessage-deflate', { clientMaxWindowBits: 15 }],
    [
      'permessage-deflate; server_max_window_bits=10',
      {},
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    [
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 9 },
    ],
    [
      'permessage-deflate; server_max_window_bits=14',
      { serverMaxWindowBits: 11 },
      'permessage-deflate; server_max_window_bits=11',
      { serverMaxWindowBits: 11 },
    ],
    ['permessage-deflate', { serverMaxWindowBits: 11 }, 'permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 11 }],
    [
      'permessage-deflate; server_max_window_bits="10"',
      {},
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    [
      'permessage-deflate; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'permessage-deflate; client_no_context_takeover',
      {},
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: true },
    ],
    [
      'permessage-deflate',
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
    ],
    [
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
      {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
    ],
    // The first acceptable offer wins; unacceptable ones are passed over.
    [
      'permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9',
      {},
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 9 },
    ],
    ['x-webkit-deflate-frame, permessage-deflate', {}, 'permessage-deflate', {}],
    ['permessage-deflate; foo, permessage-deflate', {}, 'permessage-deflate', {}],
  ];

  test.each(accepted)('accepts "%s" with %j as "%s"', (offer, options, response, params) => {
    const result = acceptDeflateOffer(parseExtensionHeader(offer), options);
    expect(result).toBeDefined();
    expect(formatExtensionHeader([result!.response])).toBe(response);
    expect(result!.params).toEqual({ ...DEFAULTS, ...params });
  });

  test.each([
    // zlib cannot compress with an 8-bit window, so the package never agrees to it.
    ['server_max_window_bits=8 (zlib cannot honour it)', 'permessage-deflate; server_max_window_bits=8'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=010', 'permessage-deflate; server_max_window_bits=010'],
    ['server_max_window_bits=abc', 'permessage-deflate; server_max_window_bits=abc'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
    ['client_no_context_takeover with a value', 'permessage-deflate; client_no_context_takeover=true'],
    ['an unknown parameter', 'permessage-deflate; mystery'],
    ['a duplicated server_no_context_takeover', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['a duplicated server_max_window_bits', 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
    ['a duplicated client_max_window_bits', 'permessage-deflate; client_max_window_bits; client_max_window_bits=10'],
    ['only other extensions', 'x-webkit-deflate-frame; no_context_takeover'],
  ])('declines an offer with %s', (_what, offer) => {
    expect(acceptDeflateOffer(parseExtensionHeader(offer), {})).toBeUndefined();
  });

  test('declines an offer whose server window would fall below 9 because of the server\'s own setting', () => {
    expect(acceptDeflateOffer(parseExtensionHeader('permessage-deflate'), { serverMaxWindowBits: 8 })).toBeUndefined();
  });
});

describe('buildDeflateOffer', () => {
  test('offers a bare client_max_window_bits by default', () => {
    expect(formatExtensionHeader([buildDeflateOffer({})])).toBe('permessage-deflate; client_max_window_bits');
  });

  test('offers every configured parameter', () => {
    expect(
      formatExtensionHeader([
        buildDeflateOffer({
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 11,
        }),
      ]),
    ).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    );
  });
});

describe('acceptDeflateResponse (client side of RFC 7692 §7.1)', () => {
  const ok: Array<[response: string, offered: PerMessageDeflateOptions, params: Partial<DeflateParams>]> = [
    ['permessage-deflate', {}, {}],
    ['permessage-deflate; client_max_window_bits=10', {}, { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 12 }, { clientMaxWindowBits: 9 }],
    ['permessage-deflate', { clientMaxWindowBits: 12 }, { clientMaxWindowBits: 12 }],
    ['permessage-deflate; server_max_window_bits=10', {}, { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 12 }, { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }, { serverMaxWindowBits: 12 }],
    [
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
      { serverNoContextTakeover: true },
    ],
    ['permessage-deflate; server_no_context_takeover', {}, { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', {}, { clientNoContextTakeover: true }],
    // Having offered it, the client keeps to it even if the server does not echo it.
    ['permessage-deflate', { clientNoContextTakeover: true }, { clientNoContextTakeover: true }],
  ];

  test.each(ok)('accepts "%s" to an offer of %j', (response, offered, params) => {
    expect(acceptDeflateResponse(parseExtensionHeader(response)[0]!, offered)).toEqual({ ...DEFAULTS, ...params });
  });

  test.each([
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits', {}],
    ['client_max_window_bits=8, which zlib cannot honour', 'permessage-deflate; client_max_window_bits=8', {}],
    ['client_max_window_bits above the offer', 'permessage-deflate; client_max_window_bits=13', { clientMaxWindowBits: 12 }],
    ['server_max_window_bits above the offer', 'permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 12 }],
    ['no server_max_window_bits after one was offered', 'permessage-deflate', { serverMaxWindowBits: 12 }],
    ['no server_no_context_takeover after it was offered', 'permessage-deflate', { serverNoContextTakeover: true }],
    ['an unknown parameter', 'permessage-deflate; mystery', {}],
    ['a duplicated parameter', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover', {}],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits', {}],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16', {}],
  ] as Array<[string, string, PerMessageDeflateOptions]>)('refuses a response with %s', (_what, response, offered) => {
    expect(typeof acceptDeflateResponse(parseExtensionHeader(response)[0]!, offered)).toBe('string');
  });

  test.each<PerMessageDeflateOptions>([
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 10 },
    { clientMaxWindowBits: 9 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 11 },
  ])('agrees with the server on the same parameters for client options %j', (clientOptions) => {
    const offer = parseExtensionHeader(formatExtensionHeader([buildDeflateOffer(clientOptions)]));
    const server = acceptDeflateOffer(offer, {});
    expect(server).toBeDefined();
    const response = parseExtensionHeader(formatExtensionHeader([server!.response]))[0]!;
    expect(acceptDeflateResponse(response, clientOptions)).toEqual(server!.params);
  });
});

describe('PerMessageDeflate data path', () => {
  const open: PerMessageDeflate[] = [];
  function create(params: Partial<DeflateParams> = {}, role: 'server' | 'client' = 'client', maxPayload = 1 << 24): PerMessageDeflate {
    const pmd = new PerMessageDeflate({ ...DEFAULTS, ...params }, role, maxPayload);
    open.push(pmd);
    return pmd;
  }
  afterEach(() => {
    for (const pmd of open.splice(0)) pmd.close();
  });

  const compress = (pmd: PerMessageDeflate, data: Buffer) =>
    new Promise<Buffer>((resolve, reject) => pmd.compress(data, (err, out) => (err ? reject(err) : resolve(out!))));
  const decompress = (pmd: PerMessageDeflate, data: Buffer) =>
    new Promise<Buffer>((resolve, reject) => pmd.decompress(data, (err, out) => (err ? reject(err) : resolve(out!))));

  test('inflates "Hello" from RFC 7692 §7.2.3.1', async () => {
    expect(await decompress(create(), hex('f2 48 cd c9 c9 07 00'))).toEqual(Buffer.from('Hello'));
  });

  test('inflates a second message that refers back to the first one\'s window (RFC 7692 §7.2.3.2)', async () => {
    const pmd = create();
    expect(await decompress(pmd, hex('f2 48 cd c9 c9 07 00'))).toEqual(Buffer.from('Hello'));
    expect(await decompress(pmd, hex('f2 00 11 00 00'))).toEqual(Buffer.from('Hello'));
  });

  test('inflates a DEFLATE block with no compression (RFC 7692 §7.2.3.3)', async () => {
    expect(await decompress(create(), hex('00 05 00 fa ff 48 65 6c 6c 6f 00'))).toEqual(Buffer.from('Hello'));
  });

  test('inflates a DEFLATE block with BFINAL set (RFC 7692 §7.2.3.4)', async () => {
    expect(await decompress(create(), hex('f3 48 cd c9 c9 07 00 00'))).toEqual(Buffer.from('Hello'));
  });

  test('inflates two DEFLATE blocks in one message (RFC 7692 §7.2.3.5)', async () => {
    expect(await decompress(create(), hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'))).toEqual(Buffer.from('Hello'));
  });

  test('compresses "Hello" to the bytes of RFC 7692 §7.2.3.1, the sync-flush trailer removed', async () => {
    expect(await compress(create({}, 'server'), Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('compresses a repeated "Hello" against the shared window as in RFC 7692 §7.2.3.2', async () => {
    const pmd = create({}, 'server');
    await compress(pmd, Buffer.from('Hello'));
    expect(await compress(pmd, Buffer.from('Hello'))).toEqual(hex('f2 00 11 00 00'));
  });

  test('resets its own context after each message with server_no_context_takeover (server role)', async () => {
    const pmd = create({ serverNoContextTakeover: true }, 'server');
    expect(await compress(pmd, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
    expect(await compress(pmd, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('resets its own context after each message with client_no_context_takeover (client role)', async () => {
    const pmd = create({ clientNoContextTakeover: true }, 'client');
    await compress(pmd, Buffer.from('Hello'));
    expect(await compress(pmd, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('inflates independent messages from a peer that resets its context', async () => {
    const pmd = create({ serverNoContextTakeover: true }, 'client');
    for (let i = 0; i < 3; i++) expect(await decompress(pmd, hex('f2 48 cd c9 c9 07 00'))).toEqual(Buffer.from('Hello'));
  });

  test('compresses an empty message to a single 0x00 byte (RFC 7692 §7.2.3.6)', async () => {
    const pmd = create({}, 'server');
    const out = await compress(pmd, Buffer.alloc(0));
    expect(out).toEqual(hex('00'));
    expect(await decompress(create(), out)).toEqual(Buffer.alloc(0));
  });

  test.each([9, 10, 12, 15])('round-trips random and repetitive data with a %i-bit window', async (bits) => {
    const rng = createRng(bits);
    const sender = create({ serverMaxWindowBits: bits }, 'server');
    const receiver = create({ serverMaxWindowBits: bits }, 'client');
    const samples = [rng.bytes(100_000), Buffer.from('abcdefgh'.repeat(50_000)), rng.bytes(10), Buffer.alloc(300_000, 1)];
    for (const data of samples) {
      const wire = await compress(sender, data);
      expect((await decompress(receiver, wire)).equals(data)).toBe(true);
    }
  });

  test('serves many connections at once, more than the zlib limiter runs together', async () => {
    // Each connection compresses one message at a time (the connection queues
    // its sends); different connections share the process-wide limiter.
    const pairs = Array.from({ length: 30 }, () => [create({}, 'server'), create({}, 'client')] as const);
    await Promise.all(
      pairs.map(async ([sender, receiver], p) => {
        for (let i = 0; i < 5; i++) {
          const message = Buffer.from(`connection ${p} message ${i} `.repeat(200 + i));
          const echoed = await decompress(receiver, await compress(sender, message));
          expect(echoed.equals(message), `connection ${p} message ${i}`).toBe(true);
        }
      }),
    );
  });

  test('fails an inflation bomb with 1009 once the output passes maxPayload', async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(10 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(bomb.length).toBeLessThan(20_000);
    const err = await decompress(create({}, 'client', 100_000), bomb.subarray(0, bomb.length - 4)).catch((e: unknown) => e);
    expectProtocolError(err, ProtocolErrorCode.MessageTooBig, 1009);
  });

  test('inflates a message of exactly maxPayload bytes', async () => {
    const data = Buffer.alloc(100_000, 7);
    const wire = await compress(create({}, 'server'), data);
    expect((await decompress(create({}, 'client', 100_000), wire)).length).toBe(100_000);
  });

  test('fails data that is not DEFLATE with 1007', async () => {
    const err = await decompress(create(), hex('ff ff ff ff ff')).catch((e: unknown) => e);
    expectProtocolError(err, ProtocolErrorCode.InvalidCompressedData, 1007);
  });

  test('inflates the next message after a failed one (the stream is replaced)', async () => {
    const pmd = create();
    await expect(decompress(pmd, hex('ff ff ff ff ff'))).rejects.toBeInstanceOf(ProtocolError);
    expect(await decompress(pmd, hex('f2 48 cd c9 c9 07 00'))).toEqual(Buffer.from('Hello'));
  });

  test('reports an error to every job after close()', async () => {
    const pmd = create();
    pmd.close();
    await expect(compress(pmd, Buffer.from('x'))).rejects.toThrow(/closed/);
    await expect(decompress(pmd, hex('f2 48 cd c9 c9 07 00'))).rejects.toThrow(/closed/);
  });

  test('releases its limiter slots when closed with jobs in flight, so other connections go on', async () => {
    // More connections than the limiter's concurrency, all closed mid-job.
    const doomed = Array.from({ length: 30 }, () => create({}, 'server'));
    const results = doomed.map((pmd) => compress(pmd, Buffer.alloc(1 << 20, 3)).catch((e: unknown) => e));
    for (const pmd of doomed) pmd.close();
    await Promise.all(results);
    const survivor = create({}, 'server');
    expect(await compress(survivor, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('uses the default threshold of 1024 bytes unless told otherwise', () => {
    expect(create().threshold).toBe(1024);
    const pmd = new PerMessageDeflate(DEFAULTS, 'server', 100, { threshold: 0 });
    open.push(pmd);
    expect(pmd.threshold).toBe(0);
  });
});
