/** Indices 0 … count-1 with the `n` largest scores, largest first (ties: lower index first). O(count · n), no sort. */
export function topN(count: number, n: number, score: (index: number) => number): number[] {
  const best: number[] = [];
  const bestScores: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = score(i);
    if (best.length === n && s <= bestScores[n - 1]!) continue;
    let at = best.length;
    while (at > 0 && bestScores[at - 1]! < s) at--;
    best.splice(at, 0, i);
    bestScores.splice(at, 0, s);
    if (best.length > n) {
      best.pop();
      bestScores.pop();
    }
  }
  return best;
}
