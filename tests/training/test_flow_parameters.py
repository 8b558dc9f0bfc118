"""The flows' parameters as the Prefect UI sees them: typed, bounded, described, defaulted."""

from __future__ import annotations

import jsonschema
import pytest
from prefect.utilities.callables import parameter_schema

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import load_monitoring_config, load_training_config


def schema_of(flow) -> dict:
    return parameter_schema(flow.fn).model_dump_for_openapi()


@pytest.mark.parametrize("flow", [training_flow, monitoring_flow], ids=["training", "monitoring"])
def test_every_parameter_is_described_with_a_default(flow) -> None:
    schema = schema_of(flow)
    for name, spec in schema["properties"].items():
        assert spec.get("description"), f"{flow.name}.{name} has no description"
        assert "default" in spec, f"{flow.name}.{name} has no default"


def form_defaults(schema: dict, spec: dict) -> object:
    """What the UI's form fills in for a field: its default, else its model's field defaults."""
    if "default" in spec:
        return spec["default"]
    [ref] = [option["$ref"] for option in [spec, *spec.get("anyOf", [])] if "$ref" in option]
    model = schema["definitions"][ref.rsplit("/", 1)[-1]]
    return {name: form_defaults(schema, field) for name, field in model["properties"].items()}


@pytest.mark.parametrize(("flow", "load"), [(training_flow, load_training_config),
                                            (monitoring_flow, load_monitoring_config)],
                         ids=["training", "monitoring"])
def test_defaults_come_from_the_config_files(flow, load) -> None:
    """`config` is read from config/*.yaml when a run starts (null in the schema); the form the
    UI shows for it starts from the models' defaults, which are the YAML files' values."""
    schema = schema_of(flow)
    config = schema["properties"]["config"]
    assert config["default"] is None
    assert form_defaults(schema, {"anyOf": config["anyOf"]}) == load().model_dump(mode="json")


def test_the_forms_show_the_project_settings() -> None:
    training = schema_of(training_flow)
    training_form = form_defaults(training, training["properties"]["config"]["anyOf"][0])
    assert training_form["registry"]["model_name"] == "cicids2017-xgboost"
    monitoring = schema_of(monitoring_flow)
    monitoring_form = form_defaults(monitoring, monitoring["properties"]["config"]["anyOf"][0])
    assert monitoring_form["drift"]["column_overrides"]["destination_port"]["method"] == "psi"


@pytest.mark.parametrize(
    ("flow", "parameters"),
    [
        (training_flow, {"config": {"model": {"learning_rate": 5}}}),
        (training_flow, {"config": {"features": {"label_grouping": "colours"}}}),
        (training_flow, {"config": {"data": {"generated_rows": 10}}}),
        (training_flow, {"config": {"search": {"n_trials": 0}}}),
        (training_flow, {"search": "sometimes"}),
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


def test_the_search_is_a_run_parameter() -> None:
    """A deployment run turns the search on with `--param search=true`."""
    schema = schema_of(training_flow)
    assert schema["properties"]["search"]["default"] is None
    jsonschema.validate({"search": True}, schema)
