"""No pointless retrains: a retrain whose data would be the champion's exact data (same
fingerprint, as tagged on the champion's version by the training flow) is skipped, and the
outcome says so; a labelled batch added to the corpus changes the data and lets it start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mlflow import MlflowClient
from prefect.states import Completed

from nids.config import RetrainConfig, TrainingConfig
from nids.data import corpus
from nids.data.sources import training_fingerprint
from nids.monitoring import retrain
from nids.monitoring.retrain import RetrainGate
from nids.monitoring.retrain_data import same_data_as_champion
from tests.support.builders import flow_frame


def crown(model_name: str, fingerprint: str, folder: Path, alias: str = "champion") -> None:
    """A version with `alias` in the store, tagged as the training flow tags it."""
    client = MlflowClient()
    if not client.search_registered_models(f"name = '{model_name}'"):
        client.create_registered_model(model_name)
    version = client.create_model_version(model_name, source=str(folder / "model"),
                                          tags={"data_fingerprint": fingerprint})
    client.set_registered_model_alias(model_name, alias, version.version)


def add_labelled_batch(config: TrainingConfig) -> None:
    corpus.append_batch(flow_frame(["DDoS", "BENIGN"]), "labelled.csv",
                        datetime(2026, 11, 29, 18, tzinfo=UTC), Path(config.data.corpus.dir))


def test_the_champions_own_data_are_no_reason_to_retrain(mlflow_sqlite, corpus_training,
                                                         tmp_path):
    crown("corpus-model", training_fingerprint(corpus_training.data), tmp_path)
    why = same_data_as_champion(corpus_training)
    assert why is not None and "the champion's exact data" in why
    add_labelled_batch(corpus_training)
    assert same_data_as_champion(corpus_training) is None


def test_without_a_champion_or_with_unreadable_data_the_retrain_goes_on(
        mlflow_sqlite, corpus_training, tmp_path):
    assert same_data_as_champion(corpus_training) is None   # no champion yet
    crown("corpus-model", training_fingerprint(corpus_training.data), tmp_path)
    corpus_training.data.raw_dir = str(Path(corpus_training.data.raw_dir).parent / "nothing")
    assert same_data_as_champion(corpus_training) is None   # the training run will say why


def test_a_skipped_retrain_starts_nothing_and_says_why(mlflow_sqlite, corpus_training,
                                                       tmp_path):
    crown("corpus-model", training_fingerprint(corpus_training.data), tmp_path)
    calls: list[dict] = []

    def training(**parameters):
        calls.append(parameters)
        return Completed()

    config = RetrainConfig(training_config=corpus_training)
    outcome = retrain.retrain_if_allowed(RetrainGate(True, "none within the cooldown"),
                                         "drift in a.csv", config, run_locally=training)
    assert calls == [] and not outcome.started and outcome.unchanged_data
    assert "the champion's exact data" in outcome.why
    add_labelled_batch(corpus_training)
    outcome = retrain.retrain_if_allowed(RetrainGate(True, "none within the cooldown"),
                                         "drift in a.csv", config, run_locally=training)
    assert outcome.started and not outcome.unchanged_data and len(calls) == 1


def test_the_challengers_own_data_are_no_reason_either(mlflow_sqlite, corpus_training,
                                                       tmp_path):
    """A retrain that was not promoted (the challenger) is not trained again on its data."""
    crown("corpus-model", "an older fingerprint", tmp_path)
    add_labelled_batch(corpus_training)
    crown("corpus-model", training_fingerprint(corpus_training.data), tmp_path, "challenger")
    why = same_data_as_champion(corpus_training)
    assert why is not None and "the challenger's exact data" in why
