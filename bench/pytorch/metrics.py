"""Classification metrics with kdc's definitions (runtime/exec,
ClassificationMetrics): per class from the confusion matrix, then the
unweighted mean over classes; a ratio whose denominator is zero counts as 0.
"""

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[label, predicted]; out-of-range entries are ignored, as kdc does."""
    valid = (labels >= 0) & (labels < classes) & (predicted >= 0) & (predicted < classes)
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels[valid], predicted[valid]), 1)
    return counts


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def classification_report(counts: np.ndarray) -> dict:
    total = counts.sum()
    hits = np.diag(counts)
    actual = counts.sum(axis=1)      # samples of each class
    predicted = counts.sum(axis=0)   # predictions of each class
    sensitivity = _ratio(hits, actual)
    specificity = _ratio(total - actual - predicted + hits, total - actual)
    precision = _ratio(hits, predicted)
    f1 = _ratio(2 * precision * sensitivity, precision + sensitivity)
    return {
        "samples": int(total),
        "accuracy": float(_ratio(hits.sum(), total)),
        "sensitivity": float(sensitivity.mean()),
        "specificity": float(specificity.mean()),
        "precision": float(precision.mean()),
        "f1": float(f1.mean()),
        "confusion": counts.tolist(),
    }
