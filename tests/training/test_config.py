"""Flow configuration: the project's YAML loads; bad files are refused naming file and key."""

from pathlib import Path

import pytest

from nids.config import (
    LabelGrouping,
    TrainingConfig,
    load_config,
    load_training_config,
    load_training_profile,
    project_path,
)
from nids.paths import CONFIG_DIR, PROJECT_ROOT


def test_training_yaml_loads():
    config = load_training_config()
    assert isinstance(config, TrainingConfig)
    assert config.features.label_grouping is LabelGrouping.LABELS
    assert config.model.n_estimators == 400
    assert config.registry.promotion_metric == "macro_f1"
    assert config.data.raw_dir == "data/raw"
    assert load_training_config(CONFIG_DIR / "training.yaml") == config


def test_empty_file_gives_the_defaults(tmp_path):
    path = tmp_path / "training.yaml"
    path.write_text("")
    assert load_config(TrainingConfig, path) == TrainingConfig()


BAD_CONFIGS = {
    "unknown-section": ("modle:\n  n_estimators: 10\n", ["modle"]),
    "misspelt-key": ("model:\n  n_estimator: 10\n", ["model.n_estimator"]),
    "out-of-range": ("features:\n  test_share: 0.9\n", ["features.test_share"]),
    "wrong-type": ("data:\n  generated_rows: many\n", ["data.generated_rows"]),
    "unknown-grouping": ("features:\n  label_grouping: days\n", ["features.label_grouping"]),
    "unknown-metric": ("registry:\n  promotion_metric: auc\n", ["registry.promotion_metric"]),
    "malformed-yaml": ("model: [unclosed\n", ["cannot read"]),
}


@pytest.mark.parametrize(("text", "fragments"), BAD_CONFIGS.values(), ids=BAD_CONFIGS)
def test_bad_config_names_the_file_and_the_key(tmp_path, text, fragments):
    path = tmp_path / "training.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        load_training_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="absent.yaml: cannot read"):
        load_training_config(tmp_path / "absent.yaml")


def test_project_path_resolves_against_the_project_root():
    assert project_path("data/raw") == PROJECT_ROOT / "data" / "raw"
    assert project_path(Path("/srv/flows")) == Path("/srv/flows")


def test_the_search_profile_extends_training_yaml():
    config = load_training_profile(CONFIG_DIR / "training-search.yaml")
    base = load_training_config()
    assert config.search.enabled and not base.search.enabled
    assert config.model_dump(exclude={"search"}) == base.model_dump(exclude={"search"})


@pytest.mark.parametrize(("text", "fragment"), [
    ("search:\n  n_trial: 3\n", "search.n_trial"),
    ("extends: absent.yaml\n", "absent.yaml: cannot read"),
    ("search: [unclosed\n", "cannot read the config profile"),
], ids=["misspelt-key", "missing-base", "malformed-yaml"])
def test_a_bad_profile_is_named(tmp_path, text, fragment):
    profile = tmp_path / "training-bad.yaml"
    extends = "" if text.startswith("extends") else f"extends: {CONFIG_DIR / 'training.yaml'}\n"
    profile.write_text(extends + text)
    with pytest.raises(ValueError, match=fragment):
        load_training_profile(profile)
