import { mkdir } from 'node:fs/promises';
import { paths, type Plan } from '../plan.js';
import { churnStream, initialStream, redeliveryStream } from '../workload.js';
import { writeWorkload, type WorkloadTotals } from '../workload-file.js';

export type GenerateResult = Record<'big' | 'small' | 'churn' | 'redelivery', Omit<WorkloadTotals, 'perResponse'>>;

/** Writes every file-based workload of the plan once; every task then reads the same bytes. */
export async function generate(plan: Plan, base: string): Promise<GenerateResult> {
  const p = paths(base);
  await mkdir(p.workload, { recursive: true });
  const brief = ({ perResponse: _, ...rest }: WorkloadTotals) => rest;
  return {
    big: brief(await writeWorkload(p.bigStream, initialStream(plan.big))),
    small: brief(await writeWorkload(p.smallStream, initialStream(plan.small))),
    churn: brief(await writeWorkload(p.churnStream, churnStream(plan.small, plan.churn))),
    redelivery: brief(await writeWorkload(p.redeliveryStream, redeliveryStream(churnStream(plan.small, plan.redelivery), plan.redelivery.window))),
  };
}
