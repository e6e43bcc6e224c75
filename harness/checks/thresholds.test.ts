import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './histogram.ts';
import { computeMetrics, type MetricSet } from './metrics.ts';
import { evaluateThresholds, mergeThresholds, parseExpression, parseThresholdFlag, parseThresholds } from './thresholds.ts';
import { cleanRun } from './testing.ts';

function metricsWith(values: number[]): MetricSet {
  const run = cleanRun();
  const m = computeMetrics(run.history, run.final);
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return { ...m, e2e_latency: { type: 'trend', histogram: h }, lost: { type: 'counter', count: 2, rate: 0.5 } };
}

describe('thresholds', () => {
  it('parses every aggregation and operator of the k6 syntax', () => {
    expect(parseExpression('e2e_latency', 'p(99.9) < 50')).toMatchObject({ aggregation: { kind: 'p', p: 99.9 }, op: '<', target: 50, expr: 'p(99.9) < 50' });
    expect(parseExpression('e2e_latency', 'med>=1e1')).toMatchObject({ aggregation: { kind: 'med' }, op: '>=', target: 10 });
    expect(parseExpression('lost', 'count===0')).toMatchObject({ op: '==', target: 0 });
    expect(parseExpression('errors', 'rate!=-1.5')).toMatchObject({ aggregation: { kind: 'rate' }, op: '!=', target: -1.5 });
    expect(parseExpression('author_reorder_rate', 'rate<=0.1').op).toBe('<=');
    expect(parseExpression('generator_cpu', 'value>90').op).toBe('>');
    const spec = parseThresholds({ e2e_latency: ['p(99)<50', { threshold: 'p(50)<=10', abortOnFail: true }], lost: ['count==0'] });
    expect(spec.map((t) => `${t.metric} ${t.expr} ${t.abortOnFail}`)).toEqual([
      'e2e_latency p(99)<50 false',
      'e2e_latency p(50)<=10 true',
      'lost count==0 false',
    ]);
  });

  it('names the metric and the expression on bad input', () => {
    expect(() => parseThresholds({ e2e_latncy: ['p(99)<50'] })).toThrow(/unknown metric 'e2e_latncy' \("p\(99\)<50"\); expected one of e2e_latency/);
    expect(() => parseThresholds({ e2e_latency: ['p99<50'] })).toThrow(/threshold e2e_latency: "p99<50" is not "<aggregation> <op> <number>"/);
    expect(() => parseThresholds({ e2e_latency: ['p(99)<fast'] })).toThrow(/"p\(99\)<fast"/);
    expect(() => parseThresholds({ e2e_latency: ['p(101)<5'] })).toThrow(/percentile 101 is above 100/);
    expect(() => parseThresholds({ lost: ['p(99)<5'] })).toThrow(/lost: "p\(99\)<5": p\(N\) does not apply to a counter; use count, rate/);
    expect(() => parseThresholds({ generator_cpu: ['max<5'] })).toThrow(/use value/);
    expect(() => parseThresholds({ lost: 'count==0' })).toThrow(/thresholds\.lost: .*expected \{ metric/);
    expect(() => parseThresholds({ lost: [7] })).toThrow(/thresholds\.lost\.0/);
  });

  it('evaluates against metric values, failing on missing data', () => {
    const m = metricsWith([1, 2, 3, 4, 100]);
    const results = evaluateThresholds(
      parseThresholds({
        e2e_latency: ['p(50)<=3', 'p(99)<50', 'max==100', 'min>0', 'avg<25', 'count==5', 'med!=3'],
        lost: ['count==0', 'rate<1'],
        edit_propagation: ['p(99)<1000'],
      }),
      { ...m, edit_propagation: { type: 'trend', histogram: new LatencyHistogram() } },
    );
    expect(results).toEqual([
      { metric: 'e2e_latency', expr: 'p(50)<=3', value: 3, passed: true },
      { metric: 'e2e_latency', expr: 'p(99)<50', value: 100, passed: false },
      { metric: 'e2e_latency', expr: 'max==100', value: 100, passed: true },
      { metric: 'e2e_latency', expr: 'min>0', value: 1, passed: true },
      { metric: 'e2e_latency', expr: 'avg<25', value: 22, passed: true },
      { metric: 'e2e_latency', expr: 'count==5', value: 5, passed: true },
      { metric: 'e2e_latency', expr: 'med!=3', value: 3, passed: false },
      { metric: 'lost', expr: 'count==0', value: 2, passed: false },
      { metric: 'lost', expr: 'rate<1', value: 0.5, passed: true },
      { metric: 'edit_propagation', expr: 'p(99)<1000', value: null, passed: false },
    ]);
  });

  it('reads --threshold flags and lets them replace a metric\u2019s expressions', () => {
    expect(parseThresholdFlag('e2e_latency=p(99)<25')).toEqual({ metric: 'e2e_latency', expr: 'p(99)<25' });
    expect(parseThresholdFlag('lost:count==0')).toEqual({ metric: 'lost', expr: 'count==0' });
    expect(() => parseThresholdFlag('p(99)<25')).toThrow(/--threshold "p\(99\)<25": expected metric=expression/);
    expect(() => parseThresholdFlag('nope=count==0')).toThrow(/unknown metric 'nope'/);
    const merged = mergeThresholds({ e2e_latency: ['p(99)<50', 'p(50)<10'], lost: ['count==0'] }, ['e2e_latency=p(99)<25', 'e2e_latency=p(90)<20', 'dropped=count<5']);
    expect(merged).toEqual({ e2e_latency: ['p(99)<25', 'p(90)<20'], lost: ['count==0'], dropped: ['count<5'] });
  });
});
