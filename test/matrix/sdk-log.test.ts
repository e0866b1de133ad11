import { describe, expect, it } from 'vitest';
import { routeSdkLogs, scrubText, sdkLogEntry, sdkLogLevel } from '../../src/matrix/sdk-log.js';
import { matrixSdk } from '../../src/matrix/sdk.js';

const { LogService } = matrixSdk();
import { memoryLogger } from '../support/memory-log.js';

describe('sdkLogLevel', () => {
  it('downgrades the http layer to debug when it logs a failed request', () => {
    expect(sdkLogLevel('error', 'MatrixHttpClient', ['(REQ-3)', { errcode: 'M_FORBIDDEN' }])).toBe('debug');
  });

  it('downgrades to debug when the error is M_NOT_FOUND for unset account data', () => {
    expect(sdkLogLevel('warn', 'MatrixClient', ['Error getting m.direct account data:', { errcode: 'M_NOT_FOUND', error: 'x' }])).toBe('debug');
  });

  it('downgrades routine sync lines to debug when the client logs them', () => {
    expect(sdkLogLevel('info', 'MatrixClientLite', ['Received sync. Next token: s5'])).toBe('debug');
  });

  it('keeps the level when the line is not known noise', () => {
    expect(sdkLogLevel('warn', 'DMs', ['Unable to check !r:x for room members - assuming invalid DM'])).toBe('warn');
    expect(sdkLogLevel('error', 'MatrixClientLite', ['Decryption error on !r:x $e'])).toBe('error');
  });
});

describe('scrubText', () => {
  it('removes tokens when a URL or header quotes them', () => {
    expect(scrubText('GET https://hs/_matrix/x?access_token=syt_abc&limit=1')).toBe('GET https://hs/_matrix/x?access_token=[redacted]&limit=1');
    expect(scrubText('Authorization: Bearer syt_abc')).toBe('Authorization: Bearer [redacted]');
    expect(scrubText('token is syt_verysecret', ['syt_verysecret'])).toBe('token is [redacted]');
  });
});

describe('sdkLogEntry', () => {
  it('redacts secret keys at any depth when the SDK logs an object', () => {
    const { fields, msg } = sdkLogEntry('MatrixHttpClient', ['(REQ-1)', 'body =', { auth: { password: 'p', nested: { access_token: 't' } } }]);
    expect(msg).toBe('(REQ-1) body =');
    expect(fields).toEqual({ sdkModule: 'MatrixHttpClient', detail: { auth: { password: '[redacted]', nested: { access_token: '[redacted]' } } } });
  });
});

describe('routeSdkLogs', () => {
  it('writes SDK lines to the pino child with mod matrix-bot-sdk when the SDK logs', () => {
    const { log, lines } = memoryLogger('trace');
    routeSdkLogs(log);
    LogService.warn('DMs', 'Unable to check', new Error('boom'));
    LogService.error('MatrixHttpClient', '(REQ-9)', { errcode: 'M_FORBIDDEN' });
    const [warn, http] = lines();
    expect(warn).toMatchObject({ level: 40, mod: 'matrix-bot-sdk', sdkModule: 'DMs', msg: 'Unable to check', err: { message: 'boom' } });
    expect(http).toMatchObject({ level: 20, sdkModule: 'MatrixHttpClient', msg: '(REQ-9)' });
  });

  it('never writes a known secret when the SDK quotes it', () => {
    const { log, text } = memoryLogger('trace');
    routeSdkLogs(log, { secrets: ['syt_secret_token_1'] });
    LogService.info('X', 'url with syt_secret_token_1', new Error('fails with syt_secret_token_1'), { headers: { Authorization: 'Bearer syt_secret_token_1' } });
    expect(text()).not.toContain('syt_secret_token_1');
  });
});
