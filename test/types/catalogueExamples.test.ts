/** Every catalogue entry's `example` is a payload its own schema accepts (the suites use them as fixtures). */
import { describe, expect, it } from 'vitest';
import { JOB_CATALOGUE, JOB_TYPE_LIST } from '../../shared/catalogue.ts';

describe('catalogue examples', () => {
  it.each(JOB_TYPE_LIST)('%s: the example parses', (type) => {
    const parsed = JOB_CATALOGUE[type].payload.safeParse(JOB_CATALOGUE[type].example);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
