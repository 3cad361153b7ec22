"""sklearn.metrics' values for the metrics Plinth reports (ml::ToJson's keys),
shared by the tests that compare Plinth's metrics with sklearn's."""
import numpy as np
from sklearn import metrics


def classification(y, proba, threshold=0.5):
    """Expected metrics for labels y (0..k-1) and an n x k probability matrix."""
    proba = np.asarray(proba, dtype=np.float64)
    k = proba.shape[1]
    out = {}
    if k == 2:
        pred = (proba[:, 1] >= threshold).astype(int)
        out["precision"] = metrics.precision_score(y, pred, zero_division=0)
        out["recall"] = metrics.recall_score(y, pred, zero_division=0)
        out["f1"] = metrics.f1_score(y, pred, zero_division=0)
        out["roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
        out["pr_auc"] = metrics.average_precision_score(y, proba[:, 1])
    else:
        pred = proba.argmax(axis=1)
        for avg in ("macro", "weighted"):
            out[f"precision_{avg}"] = metrics.precision_score(y, pred, average=avg, zero_division=0)
            out[f"recall_{avg}"] = metrics.recall_score(y, pred, average=avg, zero_division=0)
            out[f"f1_{avg}"] = metrics.f1_score(y, pred, average=avg, zero_division=0)
        out["roc_auc"] = metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
        out["pr_auc"] = metrics.average_precision_score(np.eye(k)[y], proba, average="macro")
    out["accuracy"] = metrics.accuracy_score(y, pred)
    out["log_loss"] = metrics.log_loss(y, proba, labels=list(range(k)))
    out["confusion_matrix"] = metrics.confusion_matrix(y, pred, labels=list(range(k))).tolist()
    return out


def regression(y, pred):
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    return {
        "mae": metrics.mean_absolute_error(y, pred),
        "rmse": np.sqrt(metrics.mean_squared_error(y, pred)),
        "r2": metrics.r2_score(y, pred),
        "mape": metrics.mean_absolute_percentage_error(y, pred),
    }


def compare(name, got, expected, tol):
    """Failure messages for each expected metric that Plinth's JSON `got` misses."""
    failures = []
    for key, want in expected.items():
        have = got.get(key)
        if key == "confusion_matrix":
            have = have["rows_true_cols_predicted"] if have else None
            ok = have == want
        elif want is None or (isinstance(want, float) and np.isnan(want)):
            ok = have is None
        else:
            ok = have is not None and abs(have - want) <= tol * max(1.0, abs(want))
        if not ok:
            failures.append(f"{name} {key}: plinth {have} sklearn {want}")
    return failures
