import { describe, expect, it } from 'vitest';
import { renderChart } from '../src/chart.js';
import { Results } from '../src/results.js';

describe('renderChart', () => {
  it('draws a bar per twin for a charted metric, coloured by who is better', () => {
    const r = new Results();
    r.add('echo', 'round trips/s', '/s', 'higher', 'ours', 200);
    r.add('echo', 'round trips/s', '/s', 'higher', 'ws', 100);
    r.add('echo', 'round trips/s', '/s', 'higher', 'socket.io', 400);
    const svg = renderChart(r, 'test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('2.00 vs ws');
    expect(svg).toContain('0.50 vs socket.io');
    expect(svg.match(/<rect [^>]*fill="#43a047"/g)).toHaveLength(1);
    expect(svg.match(/<rect [^>]*fill="#f4511e"/g)).toHaveLength(1);
  });

  it('says so when there is nothing to draw', () => {
    expect(renderChart(new Results(), 'test')).toContain('no ratios in this run');
  });

  it('escapes text', () => {
    expect(renderChart(new Results(), 'a < b & c')).toContain('a &lt; b &amp; c');
  });
});
