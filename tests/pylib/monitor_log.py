"""Writes prediction logs as `plinth serve` writes them (docs/FORMATS.md), for the monitoring
tests and benchmarks: requests of adult rows over consecutive windows, later windows shifted,
feedback for some rows, a few error lines."""
import json
import os

import numpy as np
import pandas as pd


def column(values, numeric):
    out = [None if pd.isna(v) else (float(v) if numeric else str(v)) for v in values]
    if numeric:
        return out
    labels = list(dict.fromkeys(v for v in out if v is not None))
    return {"dictionary": labels,
            "indices": [None if v is None else labels.index(v) for v in out]}


def write_log(logdir, rows, inputs, numeric, labels, start, windows, per_window, request_rows,
              window_seconds, shift_from=None, feedback_share=0.0, errors_per_window=0,
              seed=0, predict=None):
    """`rows`: a DataFrame with the model's inputs and the label column `labels[0]`'s name in
    `labels` = (target, class labels). `predict(frame)` -> (predictions, P(positive)).
    Windows from `shift_from` on take their rows from people over 50. Returns the number of
    feedback rows written."""
    os.makedirs(logdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    target, classes = labels
    old = rows[rows["age"] > 50]
    fed = 0
    pred_path = os.path.join(logdir, "predictions-20261201T000000Z-1-000001.jsonl")
    fb_path = os.path.join(logdir, "feedback-20261201T000000Z-1-000001.jsonl")
    with open(pred_path, "w") as f, open(fb_path, "w") as fb:
        k = 0
        for w in range(windows):
            pool = old if shift_from is not None and w >= shift_from else rows
            for r in range(per_window):
                at = start + w * window_seconds + (r + 0.5) * window_seconds / per_window
                chunk = pool.iloc[rng.integers(0, len(pool), size=request_rows)]
                preds, proba = predict(chunk)
                t = pd.Timestamp(at, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                line = {"time": t, "request_id": f"r{k}", "model": "adult-income",
                        "model_version": "1", "route": "/predict",
                        "latency_ms": float(rng.gamma(2.0, 1.5)), "rows": request_rows,
                        "features": {c: column(chunk[c], numeric[c]) for c in inputs},
                        "predictions": list(preds),
                        "probabilities": {classes[1]: [float(p) for p in proba]}}
                f.write(json.dumps(line) + "\n")
                for i in range(request_rows):
                    if rng.random() < feedback_share:
                        fb.write(json.dumps({"time": t, "request_id": f"r{k}", "row": i,
                                             "label": str(chunk[target].iloc[i])}) + "\n")
                        fed += 1
                k += 1
            for e in range(errors_per_window):
                at = start + w * window_seconds + (e + 0.25) * window_seconds / (errors_per_window + 1)
                t = pd.Timestamp(at, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                f.write(json.dumps({"time": t, "request_id": f"e{w}-{e}", "model": "adult-income",
                                    "model_version": "1", "route": "/predict", "latency_ms": 0.2,
                                    "status": 400, "rows": 0}) + "\n")
    return fed
