"""Feature contributions: the per-class split gives XGBoost's own numbers for the predicted
class, they add up to its margin, and a split that does not match is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from nids.config import XGBoostConfig
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.serving.explain import Explainer, build_explainer, check_split
from nids.serving.scoring import Explanations, top_contributions
from nids.tracking import registry
from nids.training.features import clean_features
from nids.training.train import train_model
from tests.support.serving import MODEL


@pytest.fixture(scope="module")
def bundle(serving_store):
    """The deeper of the two registered versions, loaded from the registry."""
    registry.set_alias(MODEL, "explain-test", serving_store.second_version)
    return registry.load_bundle(MODEL, "explain-test")


@pytest.fixture(scope="module")
def scored(bundle, real_flows):
    """600 real rows (all attacks of the first 12,001 plus benign ones), cleaned, with codes."""
    attacks = real_flows[real_flows[LABEL_COLUMN] != "BENIGN"].head(400)
    rows = pd.concat([attacks, real_flows[real_flows[LABEL_COLUMN] == "BENIGN"].head(200)])
    values = clean_features(rows, bundle.features).to_numpy()
    codes = bundle.model.predict_proba(values).argmax(axis=1)
    return values, codes


def full_model_contributions(bundle, values, codes, exact):
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    everything = explainer.booster.predict(
        xgb.DMatrix(values, feature_names=bundle.features), pred_contribs=True,
        approx_contribs=not exact, iteration_range=explainer.iteration_range)
    return everything[np.arange(len(values)), codes]


@pytest.mark.parametrize("exact", [False, True], ids=["approx", "exact"])
def test_per_class_boosters_give_the_full_models_contributions(bundle, scored, exact):
    values, codes = scored
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    assert explainer.class_boosters is not None and len(explainer.class_boosters) > 2
    ours = explainer.contributions(values, codes, exact)
    np.testing.assert_allclose(ours, full_model_contributions(bundle, values, codes, exact),
                               atol=1e-5)


def test_bias_and_contributions_add_up_to_the_predicted_class_margin(bundle, scored):
    values, codes = scored
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    margins = explainer.booster.predict(
        xgb.DMatrix(values, feature_names=bundle.features), output_margin=True,
        iteration_range=explainer.iteration_range)
    for exact in (False, True):
        total = explainer.contributions(values, codes, exact).sum(axis=1)
        np.testing.assert_allclose(total, margins[np.arange(len(values)), codes], atol=1e-4)


def test_a_split_that_does_not_reproduce_the_margins_is_refused(bundle):
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    swapped = list(explainer.class_boosters)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    with pytest.raises(ValueError, match="class 1's booster differs from the model"):
        check_split(explainer.booster, swapped, explainer.iteration_range, len(bundle.features))


def test_two_class_models_explain_class_zero_with_the_opposite_sign(real_flows):
    rows = real_flows[real_flows[LABEL_COLUMN].isin(["BENIGN", "DDoS"])].head(3_000)
    values = clean_features(rows, list(FEATURE_COLUMNS))
    labels = rows[LABEL_COLUMN].astype(str)
    model = train_model(values, labels, values, labels, ["BENIGN", "DDoS"],
                        XGBoostConfig(n_estimators=10, max_depth=3, n_jobs=1))
    explainer = build_explainer(model, list(FEATURE_COLUMNS), 2)
    assert explainer.class_boosters is None
    codes = model.predict_proba(values).argmax(axis=1)
    assert set(codes) == {0, 1}
    margin = model.get_booster().predict(xgb.DMatrix(values), output_margin=True,
                                         iteration_range=explainer.iteration_range)
    total = explainer.contributions(values.to_numpy(), codes, exact=False).sum(axis=1)
    np.testing.assert_allclose(total, np.where(codes == 1, margin, -margin), atol=1e-4)


def test_top_contributions_rank_by_magnitude_with_the_values_used():
    contributions = np.array([[0.1, -2.0, 0.5, 1.0], [3.0, 0.0, -0.2, -1.0]], dtype=np.float32)
    values = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    explanations = Explanations(np.array([0, 1]), "approx", contributions, values)
    first, second = top_contributions(explanations, ["a", "b", "c"], top_k=2)
    assert (first["features"], first["contributions"]) == (["b", "c"], [-2.0, 0.5])
    assert np.isnan(first["values"][0]) and first["values"][1] == 3.0 and first["bias"] == 1.0
    assert (second["features"], second["values"]) == (["a", "c"], [4.0, 6.0])
    assert second["method"] == "approx"


def test_no_flows_no_contributions(bundle):
    explainer: Explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    empty = explainer.contributions(np.empty((0, len(bundle.features)), np.float32),
                                    np.empty(0, np.int64), exact=True)
    assert empty.shape == (0, len(bundle.features) + 1)
