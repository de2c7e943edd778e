// Significance tests for "did this failure rate really change between two captures?". Counts, not percentages:
// 1 failure of 10 against 0 of 10 is noise, 190 of 903 against 3 of 812 is not, and only a test on the counts
// tells those apart.

/** Below this p-value a change counts as significant. Strict, because one diff runs dozens of tests (per layer and per service). */
export const SIGNIFICANCE_LEVEL = 0.01;

export type ProportionTest = "fisher-exact" | "two-proportion-z";

export interface ProportionComparison {
  test: ProportionTest;
  /** Two-sided p-value of "both captures have the same failure rate". */
  pValue: number;
}

/**
 * Compares k1 of n1 with k2 of n2 (both n > 0). Uses Fisher's exact test when any expected cell of the 2×2 table is
 * below 5 (Cochran's rule: the normal approximation is poor there), else the pooled two-proportion z-test, which is
 * accurate at those counts and costs O(1) where Fisher's test would sum over thousands of tables.
 */
export function compareProportions(k1: number, n1: number, k2: number, n2: number): ProportionComparison {
  const total = n1 + n2;
  const failures = k1 + k2;
  const smallestRow = Math.min(n1, n2);
  const smallestColumn = Math.min(failures, total - failures);
  if ((smallestRow * smallestColumn) / total < 5) return { test: "fisher-exact", pValue: fisherExactTwoSided(k1, n1, k2, n2) };
  return { test: "two-proportion-z", pValue: twoProportionZ(k1, n1, k2, n2) };
}

/** Pooled two-proportion z-test, two-sided p-value. */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): number {
  const pooled = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = (k2 / n2 - k1 / n1) / se;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/**
 * Fisher's exact test on [[k1, n1-k1], [k2, n2-k2]], two-sided: the probability, under fixed margins, of a table at
 * most as likely as the one seen (the convention of R's fisher.test). Sums min(failures, successes) + 1 terms.
 */
export function fisherExactTwoSided(k1: number, n1: number, k2: number, n2: number): number {
  const failures = k1 + k2;
  const total = n1 + n2;
  const logDenominator = logChoose(total, failures);
  const logP = (x: number): number => logChoose(n1, x) + logChoose(n2, failures - x) - logDenominator;
  const observed = logP(k1);
  const tolerance = 1e-7; // relative: tables as likely as the observed one, up to rounding, count
  let p = 0;
  for (let x = Math.max(0, failures - n2); x <= Math.min(failures, n1); x++) {
    const lp = logP(x);
    if (lp <= observed + tolerance) p += Math.exp(lp);
  }
  return Math.min(1, p);
}

/**
 * Whether `k2` events in `t2` differ from `k1` events in `t1` (counts of a Poisson process, e.g. packets per second):
 * given k1 + k2 events, k2 is binomial with p = t2 / (t1 + t2) if the rate did not change. Exact binomial test for
 * small totals, the normal approximation (continuity-corrected) otherwise. Two-sided p-value.
 */
export function poissonRateTest(k1: number, t1: number, k2: number, t2: number): number {
  const n = k1 + k2;
  if (n === 0 || t1 <= 0 || t2 <= 0) return 1;
  const p = t2 / (t1 + t2);
  const variance = n * p * (1 - p);
  if (variance >= 25) {
    const z = (Math.abs(k2 - n * p) - 0.5) / Math.sqrt(variance);
    return z <= 0 ? 1 : erfc(z / Math.SQRT2);
  }
  const logPmf = (x: number): number => logChoose(n, x) + x * Math.log(p) + (n - x) * Math.log(1 - p);
  const observed = logPmf(k2);
  let sum = 0;
  for (let x = 0; x <= n; x++) {
    const lp = logPmf(x);
    if (lp <= observed + 1e-7) sum += Math.exp(lp);
  }
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x ≥ 0.5 (Lanczos, g = 7: about 15 significant digits). */
export function logGamma(x: number): number {
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Complementary error function (Numerical Recipes' erfcc: Chebyshev fit, relative error below 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
