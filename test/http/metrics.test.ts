import { describe, expect, it } from 'vitest';
import { eventTypeLabel, Metrics, type MetricsSource } from '../../src/http/metrics.js';

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('http/metrics', () => {
  it('counts events of a known type under that type', async () => {
    const m = new Metrics({ processMetrics: false });
    m.countEvents('applied', 'm.room.member', 3);
    m.countEvents('applied', 'm.room.member');
    const text = await m.render();
    expect(sample(text, 'roomkeeper_events_applied_total', '{type="m.room.member"}')).toBe(4);
  });

  it('counts events of an unknown or missing type as other', async () => {
    const m = new Metrics({ processMetrics: false });
    m.countEvents('duplicate', 'com.example.custom', 2);
    m.countEvents('invalid', undefined);
    const text = await m.render();
    expect(sample(text, 'roomkeeper_events_duplicate_total', '{type="other"}')).toBe(2);
    expect(sample(text, 'roomkeeper_events_invalid_total', '{type="other"}')).toBe(1);
    expect(text).not.toContain('com.example.custom');
  });

  it('maps a type to its label without keeping arbitrary strings', () => {
    expect(eventTypeLabel('m.room.name')).toBe('m.room.name');
    expect(eventTypeLabel('m.room.name\nx')).toBe('other');
  });

  it('counts commands by name and outcome, unlisted names as other', async () => {
    const m = new Metrics({ processMetrics: false, commandNames: ['rooms', 'help'] });
    m.countCommand('rooms', 'ok');
    m.countCommand('rooms', 'ok');
    m.countCommand('nonsense', 'rejected');
    m.countCommand(undefined, 'rate_limited');
    const text = await m.render();
    expect(sample(text, 'roomkeeper_commands_total', '{name="rooms",outcome="ok"}')).toBe(2);
    expect(sample(text, 'roomkeeper_commands_total', '{name="other",outcome="rejected"}')).toBe(1);
    expect(sample(text, 'roomkeeper_commands_total', '{name="other",outcome="rate_limited"}')).toBe(1);
  });

  it('records commit durations in the histogram buckets', async () => {
    const m = new Metrics({ processMetrics: false });
    m.observeCommit(0.003);
    m.observeCommit(0.2);
    const text = await m.render();
    expect(sample(text, 'roomkeeper_commit_duration_seconds_bucket', '{le="0.005"}')).toBe(1);
    expect(sample(text, 'roomkeeper_commit_duration_seconds_bucket', '{le="+Inf"}')).toBe(2);
    expect(sample(text, 'roomkeeper_commit_duration_seconds_count')).toBe(2);
  });

  it('records sync durations by outcome', async () => {
    const m = new Metrics({ processMetrics: false });
    m.observeSync(29.5);
    m.observeSync(1, 'error');
    const text = await m.render();
    expect(sample(text, 'roomkeeper_sync_request_duration_seconds_count', '{outcome="ok"}')).toBe(1);
    expect(sample(text, 'roomkeeper_sync_request_duration_seconds_bucket', '{le="30",outcome="ok"}')).toBe(1);
    expect(sample(text, 'roomkeeper_sync_request_duration_seconds_count', '{outcome="error"}')).toBe(1);
  });

  it('reads the gauges from the source at every scrape, sync or async', async () => {
    let guard = 10;
    const source: MetricsSource = { roomCount: () => 3, userCount: () => Promise.resolve(7), guardEntries: () => guard };
    const m = new Metrics({ processMetrics: false, source });
    expect(sample(await m.render(), 'roomkeeper_guard_entries')).toBe(10);
    guard = 12;
    const text = await m.render();
    expect(sample(text, 'roomkeeper_rooms_tracked')).toBe(3);
    expect(sample(text, 'roomkeeper_users_tracked')).toBe(7);
    expect(sample(text, 'roomkeeper_guard_entries')).toBe(12);
  });

  it('fails the scrape when the source fails', async () => {
    const m = new Metrics({
      processMetrics: false,
      source: { roomCount: () => Promise.reject(new Error('closed')), userCount: () => 0, guardEntries: () => 0 },
    });
    await expect(m.render()).rejects.toThrow('closed');
  });

  it('includes process metrics by default', async () => {
    const text = await new Metrics().render();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps two instances apart when both live in one process', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.countEvents('applied', 'm.room.topic');
    expect(sample(await a.render(), 'roomkeeper_events_applied_total', '{type="m.room.topic"}')).toBe(1);
    expect(sample(await b.render(), 'roomkeeper_events_applied_total', '{type="m.room.topic"}')).toBeUndefined();
  });

  it('renders the Prometheus text content type', () => {
    expect(new Metrics({ processMetrics: false }).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
