"""Typed settings of the scoring service: config/serving.yaml and NIDS_SCORING_* variables.

Precedence: explicit arguments, then environment variables (`NIDS_SCORING_PORT=8001`), then
config/serving.yaml, then the defaults below.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from nids.config import project_path
from nids.paths import CONFIG_DIR

ENV_PREFIX = "NIDS_SCORING_"
DEFAULT_PORT = 8000
SETTINGS_FILE = CONFIG_DIR / "serving.yaml"


class ServingSettings(BaseSettings):
    """Where the service listens, what it serves, and how it records the traffic it scores."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid",
                                      yaml_file=SETTINGS_FILE)

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless configured.")
    port: int = Field(DEFAULT_PORT, ge=1, le=65_535)
    model_name: str = Field("cicids2017-xgboost", description="Registered model to serve.")
    alias: str = Field("champion", description="Registry alias followed by the service.")
    refresh_seconds: float = Field(
        30.0, gt=0, le=86_400, description="How often the alias is re-resolved.")
    max_request_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Larger request bodies are refused (413).")
    top_k: int = Field(5, ge=1, le=100, description="Feature contributions returned per flow.")
    exact_max_flows: int = Field(
        32, ge=0, description="With contributions=auto, exact (TreeSHAP) contributions when at "
        "most this many flows are explained in a request; approximate (Saabas) above.")
    incoming_dir: str = Field(
        "data/incoming", description="Scored flows are appended to batches here.")
    write_batches: bool = Field(True, description="Record scored flows for the monitoring flow.")
    bucket_seconds: int = Field(
        3600, ge=1, le=86_400, description="One batch file per bucket of this many seconds.")
    flush_seconds: float = Field(
        60.0, gt=0, description="How often buffered flows are spooled and ended buckets closed.")
    flush_rows: int = Field(
        100_000, ge=1, description="Spool sooner when this many flows are buffered.")

    @property
    def incoming_path(self) -> Path:
        return project_path(self.incoming_dir)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)


def load_serving_settings(**overrides: object) -> ServingSettings:
    """The settings, with an error that names the bad key and where settings come from."""
    try:
        return ServingSettings(**overrides)
    except ValidationError as error:
        raise ValueError(f"Invalid scoring service settings (from {SETTINGS_FILE} or "
                         f"{ENV_PREFIX}* environment variables); fix these keys:\n{error}"
                         ) from error
