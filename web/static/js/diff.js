// A small line diff: longest common subsequence over the lines that differ.

/**
 * diffLines(a, b) → [{op: ' '|'-'|'+', line}], in order.
 * Common leading and trailing lines are matched first, so the table is only as big as the change.
 */
export function diffLines(a, b) {
  const x = a === '' ? [] : a.split('\n');
  const y = b === '' ? [] : b.split('\n');
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let ex = x.length;
  let ey = y.length;
  while (ex > start && ey > start && x[ex - 1] === y[ey - 1]) { ex--; ey--; }

  const out = x.slice(0, start).map((line) => ({ op: ' ', line }));
  const xs = x.slice(start, ex);
  const ys = y.slice(start, ey);
  const n = xs.length;
  const m = ys.length;
  if (n * m > 4e6) {
    // Too big for the table: show it as a replacement.
    for (const line of xs) out.push({ op: '-', line });
    for (const line of ys) out.push({ op: '+', line });
  } else {
    // lcs[i][j] = length of the LCS of xs[i:] and ys[j:], in one flat array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = xs[i] === ys[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (xs[i] === ys[j]) { out.push({ op: ' ', line: xs[i] }); i++; j++; }
      else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) out.push({ op: '-', line: xs[i++] });
      else out.push({ op: '+', line: ys[j++] });
    }
    while (i < n) out.push({ op: '-', line: xs[i++] });
    while (j < m) out.push({ op: '+', line: ys[j++] });
  }
  for (const line of x.slice(ex)) out.push({ op: ' ', line });
  return out;
}
