import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph, isProduction, type Edge } from './architecture/graph.ts';
import { dependencyViolations } from './architecture/rules.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const edge = (from: string, to: string): Edge => ({ from, to });

describe('dependency rules', () => {
  it('hold on the repository', () => {
    const edges = importGraph(root);
    expect(edges.length).toBeGreaterThan(100);
    const violations = dependencyViolations(edges);
    // Printed in full so a failure names every offending import and cycle.
    expect(violations, `\n${violations.join('\n')}`).toEqual([]);
  });

  it('report a planted import from the shipped connector or the chat into the harness', () => {
    const found = dependencyViolations([
      edge('connector/connector.ts', 'harness/lib/cleanup.ts'),
      edge('reference-app/functions/server.ts', 'harness/stack/index.ts'),
      edge('connector/bench/throughput.ts', 'harness/lib/cleanup.ts'),
    ]);
    expect(found).toHaveLength(2);
    expect(found[0]).toContain('connector/connector.ts -> harness/lib/cleanup.ts');
    expect(found[1]).toContain('reference-app/functions/server.ts -> harness/stack/index.ts');
  });

  it('apply the connector rule to connector/src once it exists', () => {
    const found = dependencyViolations([
      edge('connector/src/worker.ts', 'harness/realtime/index.ts'),
      edge('connector/cli-helper.ts', 'harness/lib/ports.ts'),
    ]);
    expect(found).toEqual([expect.stringContaining('connector/src/worker.ts -> harness/realtime/index.ts')]);
  });

  it('report stand-ins importing the chat, checks reaching past history, and lib importing anything', () => {
    const found = dependencyViolations([
      edge('harness/lambda/index.ts', 'reference-app/functions/chat-writer.ts'),
      edge('harness/checks/delivery.ts', 'harness/report/table.ts'),
      edge('harness/checks/delivery.ts', 'harness/history/types.ts'),
      edge('harness/checks/delivery.ts', 'reference-app/contract/ids.ts'),
      edge('harness/lib/rng.ts', 'harness/workload/planner.ts'),
    ]);
    expect(found.map((v) => v.split(':')[0])).toEqual([
      'harness/lambda/index.ts -> reference-app/functions/chat-writer.ts',
      'harness/checks/delivery.ts -> harness/report/table.ts',
      'harness/lib/rng.ts -> harness/workload/planner.ts',
    ]);
  });

  it('report a cycle between parts in production code, but not one closed only by a test', () => {
    const cycle = dependencyViolations([
      edge('harness/faults/spec.ts', 'harness/runner/options.ts'),
      edge('harness/runner/run.ts', 'harness/faults/spec.ts'),
    ]);
    expect(cycle).toEqual([expect.stringContaining('cycle between parts harness/faults, harness/runner')]);
    expect(cycle[0]).toContain('harness/faults/spec.ts -> harness/runner/options.ts');
    expect(dependencyViolations([
      edge('harness/runner/run.ts', 'harness/faults/spec.ts'),
      edge('harness/faults/nemesis.test.ts', 'harness/runner/run.ts'),
    ])).toEqual([]);
  });

  it('tell production code from tests, benches and test helpers', () => {
    expect(['connector/worker.ts', 'harness/stack/index.ts', 'reference-app/web/app/app.vue'].every(isProduction)).toBe(true);
    expect(['connector/bench/proc.ts', 'connector/testing/pg.ts', 'harness/realtime/testing.ts', 'reference-app/web/test/browser.ts', 'test/property/chat/property.ts', 'x.test.ts'].some(isProduction)).toBe(false);
  });
});
