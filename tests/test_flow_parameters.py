"""The flows' parameters as the Prefect UI sees them: typed, bounded, described, defaulted."""

from __future__ import annotations

import jsonschema
import pytest
from prefect.utilities.callables import parameter_schema

from flows.monitoring import monitoring_flow
from flows.training import training_flow


def schema_of(flow) -> dict:
    return parameter_schema(flow.fn).model_dump_for_openapi()


@pytest.mark.parametrize("flow", [training_flow, monitoring_flow], ids=["training", "monitoring"])
def test_every_parameter_is_described_with_a_default(flow) -> None:
    schema = schema_of(flow)
    for name, spec in schema["properties"].items():
        assert spec.get("description"), f"{flow.name}.{name} has no description"
        assert "default" in spec, f"{flow.name}.{name} has no default"


def test_defaults_come_from_the_config_files() -> None:
    training = schema_of(training_flow)["properties"]["config"]["default"]
    assert training["registry"]["model_name"] == "cicids2017-xgboost"
    monitoring = schema_of(monitoring_flow)["properties"]["config"]["default"]
    assert monitoring["drift"]["column_overrides"]["destination_port"]["method"] == "psi"


@pytest.mark.parametrize(
    ("flow", "parameters"),
    [
        (training_flow, {"config": {"model": {"learning_rate": 5}}}),
        (training_flow, {"config": {"features": {"label_grouping": "colours"}}}),
        (training_flow, {"config": {"data": {"generated_rows": 10}}}),
        (monitoring_flow, {"config": {"drift": {"drifted_share_threshold": 1.5}}}),
        (monitoring_flow, {"config": {"drift": {"column_test": {"method": "magic",
                                                                "threshold": 0.1}}}}),
        (monitoring_flow, {"config": {"retrain": {"cooldown_hours": -1}}}),
    ],
)
def test_invalid_values_are_refused_by_the_schema(flow, parameters) -> None:
    """What the server checks before it creates a run from the UI's form."""
    schema = schema_of(flow)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(parameters, schema)


@pytest.mark.parametrize("flow", [training_flow, monitoring_flow], ids=["training", "monitoring"])
def test_the_defaults_themselves_are_accepted(flow) -> None:
    schema = schema_of(flow)
    defaults = {name: spec["default"] for name, spec in schema["properties"].items()}
    jsonschema.validate(defaults, schema)
