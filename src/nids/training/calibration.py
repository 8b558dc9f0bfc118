"""What monitoring needs from a model beyond its predictions, fitted when it is trained:
probabilities calibrated on the validation split (scikit-learn's `CalibratedClassifierCV`,
isotonic per class, of the model's probabilities: `ModelProbabilities`) for confidence-based
performance estimation, a novelty model (scikit-learn's `IsolationForest`) fitted on the
training reference that tells which flows lie outside what the model was trained on, and the
destination ports of the training split's benign flows, that tell a flow the model calls benign
going where benign traffic it learnt from hardly went."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import IsolationForest
from sklearn.frozen import FrozenEstimator

from nids.data.schema import BENIGN, LABEL_COLUMN
from nids.tracking.registry import predict_probabilities
from nids.training.train import TrainedModel, encode

logger = logging.getLogger(__name__)

NOVELTY_ALL = "*"          # the novelty model of classes with too few reference rows
NOVELTY_MIN_ROWS = 50
# IsolationForest's `contamination`: a flow is novel when it is less typical of its predicted
# class than 97% of that class's reference rows. With the default ('auto') 8% of held-out rows
# counted as novel, and ordinary hour-to-hour change of real benign traffic (a Friday
# afternoon slice: 0.20 against a range up to 0.12) and a DDoS the model knows (0.18) passed
# the range: false retrains. At 0.03 real benign slices and known DDoS stay at 0.018-0.032
# (range up to about 0.05) while unseen DoS, DDoS and web attacks reach 0.10-0.51
# (bench/monitoring_decisions.py); 0.01 gave more margin but missed web brute force.
NOVELTY_CONTAMINATION = 0.03
CALIBRATION_ROWS = 100_000   # validation rows the calibrator is fitted on, at most
PORT_COLUMN = "destination_port"
# A port is rare when under this share of the training split's benign flows went to it. Real
# benign traffic keeps 14-17% of its flows on such ports (the Friday and Thursday files of
# ../shared), port scans, Bot beacons and the infiltrated host's scan 50-58% of theirs; known
# DoS and DDoS, and the other extractor's benign flows, about what benign traffic has
# (bench/monitoring_decisions.py). FTP and SSH brute force go to ports that carry 0.1-1% of
# benign flows: at 1% these would count, but so would 34% of a real benign Thursday slice.
# The cut was chosen on these measures; the normal range of the share comes from the training
# chunks, as every other statistic's.
RARE_PORT_SHARE = 0.001
# A port surges in a batch when its share of the batch's flows is over this many times its
# share of the benign training flows. FTP and SSH brute force the model never saw pass for
# benign traffic on ports benign traffic uses (rare-port share and novelty stay in range): a
# 1:1 mix with real benign rows puts half its flows on port 21 or 22 (260 and 84 times their
# share), while the training chunks never surge and the real Friday slices do not either. Real
# benign traffic does surge too: the Thursday morning's Kerberos and LDAP logons (85 and 14
# times), as much as SSH brute force, so a surge asks analysts for labels and is not taken for
# degraded health (bench/monitoring_decisions.py).
SURGE_FACTOR = 10.0


class ModelProbabilities(ClassifierMixin, BaseEstimator):
    """A classifier whose input is a trained model's class probabilities (one column per
    class, in the model's order) and whose output is that input. Calibrating it calibrates
    the model's probabilities: monitoring calibrates those it scored a batch with, and the
    training run those of its evaluation, instead of predicting the rows a second time."""

    def __init__(self, n_classes: int = 2):
        self.n_classes = n_classes

    def fit(self, probabilities: np.ndarray | None = None,
            y: np.ndarray | None = None) -> ModelProbabilities:
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, probabilities: np.ndarray) -> np.ndarray:
        return np.asarray(probabilities)

    def predict(self, probabilities: np.ndarray) -> np.ndarray:
        return self.classes_[np.asarray(probabilities).argmax(axis=1)]


@dataclass
class HealthModels:
    """The calibrated classifier, the novelty model and the benign ports of one model
    version."""

    calibrator: CalibratedClassifierCV
    novelty: dict[str, IsolationForest]   # per class; NOVELTY_ALL for classes with few rows
    classes: list[str]
    features: list[str]
    # share of the training split's benign flows per destination port; None: versions logged
    # before, or a model without the port among its features
    benign_ports: dict[int, float] | None = None

    def calibrated_probabilities(self, features: pd.DataFrame,
                                 probabilities: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities of the rows of `features`, whose probabilities by
        the model are `probabilities`; one column per class in `classes` order."""
        if isinstance(self.calibrator.estimator.estimator, ModelProbabilities):
            return self.calibrator.predict_proba(probabilities)
        # versions logged before calibrated the frozen model itself, on its features
        return self.calibrator.predict_proba(features[self.features])

    def is_novel(self, features: pd.DataFrame, predicted: np.ndarray) -> np.ndarray:
        """Whether each flow lies outside the reference rows of its predicted class
        (IsolationForest's -1): an attack the model knows is not novel, an unseen one
        taken for a known class is."""
        values = features[self.features].to_numpy(np.float32)
        novel = np.zeros(len(values), dtype=bool)
        for name in np.unique(predicted):
            rows = predicted == name
            forest = self.novelty.get(name, self.novelty[NOVELTY_ALL])
            novel[rows] = forest.predict(values[rows]) == -1
        return novel

    def benign_port_shares(self, features: pd.DataFrame) -> np.ndarray | None:
        """The share of the benign training flows that went to each flow's destination port
        (None: no port table)."""
        if self.benign_ports is None:
            return None
        return features[PORT_COLUMN].map(self.benign_ports).fillna(0.0).to_numpy()

    @classmethod
    def load(cls, path: Path) -> HealthModels:
        loaded = joblib.load(path)
        if not isinstance(loaded, cls):
            raise ValueError(f"{path} holds a {type(loaded).__name__}, not HealthModels; "
                             "retrain the model so its monitoring artifacts are logged.")
        return loaded


def calibration_rows(splits: dict[str, pd.DataFrame], classes: list[str],
                     seed: int) -> pd.DataFrame:
    """The validation split (a uniform sample of CALIBRATION_ROWS when it is larger: it keeps
    the class shares), plus the training rows of classes it lacks (classes of one or two rows
    have none there), so that every class of the model can be calibrated."""
    validation = splits["validation"]
    if len(validation) > CALIBRATION_ROWS:
        validation = validation.sample(CALIBRATION_ROWS, random_state=seed)
    missing = sorted(set(classes) - set(validation[LABEL_COLUMN]))
    if not missing:
        return validation
    logger.warning("Classes %s have no rows among the validation rows calibrated on: "
                   "calibrated on their training rows", missing)
    extra = splits["train"][splits["train"][LABEL_COLUMN].isin(missing)]
    return pd.concat([validation, extra], ignore_index=True)


def fit_calibrator(trained: TrainedModel, rows: pd.DataFrame) -> CalibratedClassifierCV:
    """Isotonic calibration, one class against the rest, of the model's probabilities."""
    given = FrozenEstimator(ModelProbabilities(len(trained.classes)).fit())
    calibrator = CalibratedClassifierCV(given, method="isotonic")
    calibrator.fit(predict_probabilities(trained.bundle, rows),
                   encode(rows[LABEL_COLUMN], trained.classes))
    return calibrator


def rare_ports(benign_shares: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Whether each flow is called benign and goes to a port under RARE_PORT_SHARE of the
    benign training flows (`benign_shares`: `HealthModels.benign_port_shares`): a scan or a
    beacon the model never saw passes for benign traffic, but not on benign traffic's ports."""
    return (np.asarray(predicted) == BENIGN) & (benign_shares < RARE_PORT_SHARE)


def port_surges(ports: np.ndarray, benign_shares: np.ndarray,
                predicted: np.ndarray) -> np.ndarray:
    """Whether each flow of a batch is called benign on a port benign training traffic used
    (`benign_shares`: each flow's port's share of the benign training flows, at least
    RARE_PORT_SHARE) that carries over SURGE_FACTOR times that share of the batch: many
    flows to one ordinary service, as brute force against a login makes."""
    ports = pd.Series(ports)
    batch_shares = ports.map(ports.value_counts(normalize=True)).to_numpy()
    return ((np.asarray(predicted) == BENIGN) & (benign_shares >= RARE_PORT_SHARE)
            & (batch_shares > SURGE_FACTOR * benign_shares))


def fit_novelty(reference: pd.DataFrame, features: list[str],
                seed: int) -> dict[str, IsolationForest]:
    """An IsolationForest (missing values allowed) on the reference rows of each class with
    at least NOVELTY_MIN_ROWS of them, and one on all rows for the other classes."""
    def forest(rows: pd.DataFrame) -> IsolationForest:
        return IsolationForest(n_estimators=100, contamination=NOVELTY_CONTAMINATION,
                               random_state=seed, n_jobs=1).fit(
            rows[features].to_numpy(np.float32))
    counts = reference[LABEL_COLUMN].astype(str).value_counts()
    forests = {name: forest(reference[reference[LABEL_COLUMN].astype(str) == name])
               for name in counts[counts >= NOVELTY_MIN_ROWS].index}
    return forests | {NOVELTY_ALL: forest(reference)}


def benign_ports(train: pd.DataFrame, features: list[str]) -> dict[int, float] | None:
    """The share of the training split's benign flows per destination port (None: the model
    does not use the port, or the split has no benign flow)."""
    if PORT_COLUMN not in features:
        return None
    benign = train.loc[train[LABEL_COLUMN].astype(str) == BENIGN, PORT_COLUMN]
    if benign.empty:
        return None
    shares = benign.value_counts(normalize=True)
    return {int(port): float(share) for port, share in shares.items()}


def fit_health_models(trained: TrainedModel, splits: dict[str, pd.DataFrame],
                      reference: pd.DataFrame, seed: int) -> HealthModels:
    """Calibrator (validation split), novelty model (reference) and benign ports (training
    split) of a trained model."""
    calibrator = fit_calibrator(trained, calibration_rows(splits, trained.classes, seed))
    return HealthModels(calibrator, fit_novelty(reference, trained.features, seed),
                        list(trained.classes), list(trained.features),
                        benign_ports(splits["train"], trained.features))
