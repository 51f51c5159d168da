// The drift report's first section: the multivariate verdict and the explained drift (which features carry the
// domain classifier's signal, and how much of it reaches the champion).
import type { MultivariateDrift } from './domain-classifier';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The explained-drift section: the domain classifier's AUC against its maximum, then the features by impact. */
export function renderExplainedDriftHtml(m: MultivariateDrift | undefined): string {
  if (!m) return '';
  const rows = m.explained
    .map(
      (f) => `<tr><td>${escape(f.feature)}</td><td>${pct(f.impact)}</td><td>${pct(f.share)}</td><td>${f.domainImportance.toFixed(4)}</td>`
        + `<td>${f.championSensitivity === null ? '—' : f.championSensitivity.toFixed(4)}</td></tr>`,
    )
    .join('\n');
  return `<h2>Explained drift</h2>
<p><strong>${m.drifted ? 'MULTIVARIATE DRIFT' : 'No multivariate drift'}</strong>: a domain classifier (${escape(m.estimator)}, ${m.folds}-fold, ${m.referenceRows} reference and ${m.currentRows} current rows) tells the window from the reference with a cross-validated ROC AUC of ${m.auc.toFixed(4)} (folds ${m.foldAucs.map((a) => a.toFixed(3)).join(', ')}; maximum ${m.maxAuc}; 0.5 = indistinguishable).</p>
<p>Impact = the feature's share of the classifier's signal (ROC AUC lost when it is shuffled in the held-out folds) × the champion's sensitivity to it (${escape(m.sensitivity)}), normalised to 100%.</p>
<table><thead><tr><th>feature</th><th>impact</th><th>share of the drift signal</th><th>AUC lost when shuffled</th><th>champion's sensitivity</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}
