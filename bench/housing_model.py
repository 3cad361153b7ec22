"""The model the serving and batch benchmarks share: python3-xgboost trained on California
housing's 8 numeric columns (binary: is the district's median house value above the median),
saved as model.ubj and wrapped into a Plinth bundle with `plinth models import-xgboost`, so
that Python and Plinth run the very same booster."""
import json
import os
import subprocess

FEATURES = ["longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
            "population", "households", "median_income"]
DATASETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                        "datasets")


def build(plinth, work, trees=100):
    """Returns (the housing DataFrame, the booster, model.ubj's path, the bundle's path)."""
    import pandas as pd
    import xgboost as xgb
    df = pd.read_csv(os.path.join(DATASETS, "california_housing.csv"))
    y = (df["median_house_value"] > df["median_house_value"].median()).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "tree_method": "hist",
                         "seed": 1}, xgb.DMatrix(df[FEATURES], label=y), num_boost_round=trees)
    model = os.path.join(work, "model.ubj")
    booster.save_model(model)
    schema = os.path.join(work, "schema.json")
    with open(schema, "w") as f:
        json.dump({"task": "binary", "class_labels": ["0", "1"], "target": "above_median",
                   "name": "housing",
                   "inputs": [{"name": c, "type": "float64"} for c in FEATURES]}, f)
    bundle = os.path.join(work, "housing")
    subprocess.run([plinth, "models", "import-xgboost", model, "--schema", schema, "-o", bundle],
                   check=True, stdout=subprocess.DEVNULL)
    return df, booster, model, bundle
