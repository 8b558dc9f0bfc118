"""Check docker/docker-compose.yml: Compose Specification schema plus this project's rules.

    python scripts/check_compose.py [COMPOSE_FILE] [--schema FILE] [--env-example FILE]

The schema is the vendored docker/compose-spec.schema.json (see docker/README.md). The file is
validated as written: `${VAR:-default}` stays a string, as the schema allows almost everywhere.
The project's rules: every published port binds to a loopback address when the variables keep
their defaults, every service has a health check, `depends_on` waits for `service_healthy`, and
the env example defines every variable the compose file uses without a default.
Exit status: 0 when all checks pass, 1 when a check fails, 2 when an input cannot be read.
"""

import argparse
import ipaddress
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

logger = logging.getLogger("check_compose")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_COMPOSE = REPO_ROOT / "docker" / "docker-compose.yml"
DEFAULT_SCHEMA = REPO_ROOT / "docker" / "compose-spec.schema.json"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_REQUIRED_OPERATORS = (None, "?", ":?")


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; the error names the file and the position."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read YAML: {error}") from error


def load_schema(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read JSON schema: {error}") from error


def _location(path: Iterator[Any]) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return text.lstrip(".") or "(top level)"


def _deepest(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """Place and message of the innermost sub-error of a oneOf/anyOf failure.

    Among equally deep sub-errors, one from the alternative whose type matched says more than
    "is not of type"; when all are type mismatches, the message lists the accepted types.
    """
    while error.context:
        depth = max(len(sub_error.absolute_path) for sub_error in error.context)
        deepest = [e for e in error.context if len(e.absolute_path) == depth]
        informative = [e for e in deepest if e.validator != "type"]
        if not informative and len(deepest) > 1:
            types = " or ".join(dict.fromkeys(repr(e.validator_value) for e in deepest))
            return tuple(
                deepest[0].absolute_path
            ), f"{deepest[0].instance!r} is not of type {types}"
        error = (informative or deepest)[0]
    return tuple(error.absolute_path), error.message


def schema_errors(document: Any, schema: Mapping[str, Any]) -> list[str]:
    """Messages for every place where the document breaks the schema."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = list(validator.iter_errors(document))
    found = [_deepest(error) for error in errors]
    paths = [path for path, _ in found]
    return sorted(
        f"{_location(path)}: {message}"
        for error, (path, message) in zip(errors, found, strict=True)
        if not _is_cascade(error.validator, path, paths)
    )


def _is_cascade(keyword: str, here: tuple, paths: list[tuple]) -> bool:
    """An `unevaluatedProperties` error caused only by an error further down the same path."""
    return keyword == "unevaluatedProperties" and any(
        len(path) > len(here) and path[: len(here)] == here for path in paths
    )


class _Interpolator:
    """Compose variable interpolation; `references` records each (name, operator) met."""

    def __init__(self, env: Mapping[str, str], strict: bool = True) -> None:
        self.env = env
        self.strict = strict  # False: `${VAR:?message}` with VAR unset yields "" instead
        self.references: list[tuple[str, str | None]] = []

    def expand(self, text: str) -> str:
        value, _ = self._expand(text, 0, in_braces=False)
        return value

    def _expand(self, text: str, pos: int, in_braces: bool) -> tuple[str, int]:
        out = []
        while pos < len(text):
            char = text[pos]
            if in_braces and char == "}":
                return "".join(out), pos
            if text.startswith("$$", pos):
                out.append("$")
                pos += 2
            elif text.startswith("${", pos):
                value, pos = self._expand_braced(text, pos + 2)
                out.append(value)
            elif char == "$" and (match := _NAME.match(text, pos + 1)):
                self.references.append((match.group(), None))
                out.append(self.env.get(match.group(), ""))
                pos = match.end()
            else:
                out.append(char)
                pos += 1
        if in_braces:
            raise ValueError(f"unclosed '${{' in {text!r}")
        return "".join(out), pos

    def _expand_braced(self, text: str, pos: int) -> tuple[str, int]:
        match = _NAME.match(text, pos)
        if not match:
            raise ValueError(f"invalid variable name at {text[pos:]!r} in {text!r}")
        name, pos = match.group(), match.end()
        operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        argument = ""
        if operator:
            argument, pos = self._expand(text, pos + len(operator), in_braces=True)
        elif pos >= len(text):
            raise ValueError(f"unclosed '${{{name}' in {text!r}")
        elif not text.startswith("}", pos):
            raise ValueError(f"unexpected {text[pos : pos + 1]!r} after ${{{name} in {text!r}")
        self.references.append((name, operator))
        return self._resolve(name, operator, argument), pos + 1

    def _resolve(self, name: str, operator: str | None, argument: str) -> str:
        value = self.env.get(name)
        is_set = value is not None and (value != "" or operator not in (":-", ":?", ":+"))
        if operator in ("?", ":?") and not is_set and self.strict:
            raise ValueError(f"required variable {name} is not set: {argument or 'no message'}")
        if operator in ("+", ":+"):
            return argument if is_set else ""
        if operator in ("-", ":-") and not is_set:
            return argument
        return value or ""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Expand `$VAR`, `${VAR}`, `${VAR:-default}` and the other Compose forms, `$$` to `$`."""
    return _Interpolator(env).expand(text)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def required_variables(document: Any) -> set[str]:
    """Names the document uses with no default (`${VAR}`, `$VAR`, `${VAR:?message}`)."""
    interpolator = _Interpolator({}, strict=False)
    for text in _strings(document):
        interpolator.expand(text)
    return {name for name, operator in interpolator.references if operator in _REQUIRED_OPERATORS}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file; blank lines and comments are skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.removeprefix("export ").split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


def _host_ip(port: Any, env: Mapping[str, str]) -> str:
    """Host address a `ports:` entry binds to with these variables ('' means every interface)."""
    if isinstance(port, Mapping):
        published = port.get("published") is not None
        return interpolate(str(port.get("host_ip", "")), env) if published else ""
    spec = interpolate(str(port), env).split("/", 1)[0]
    if spec.startswith("["):
        return spec[1 : spec.index("]")]
    parts = spec.split(":")
    return parts[0] if len(parts) == 3 else ""


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def port_binding_errors(document: Mapping[str, Any]) -> list[str]:
    """Published ports that do not bind to a loopback address when defaults apply."""
    errors = []
    for name, service in document.get("services", {}).items():
        if service.get("network_mode") == "host":
            errors.append(f"services.{name}: network_mode 'host' publishes every port")
        for index, port in enumerate(service.get("ports", [])):
            where = f"services.{name}.ports[{index}]"
            try:
                address = _host_ip(port, env={})
            except ValueError as error:
                errors.append(f"{where}: {error}")
                continue
            if not _is_loopback(address):
                shown = address or "every interface"
                errors.append(f"{where}: {port!r} binds to {shown} by default, not 127.0.0.1")
    return errors


def healthcheck_errors(document: Mapping[str, Any]) -> list[str]:
    """Services without a health check, or whose dependencies do not wait for health."""
    errors = []
    for name, service in document.get("services", {}).items():
        check = service.get("healthcheck") or {}
        disabled = check.get("disable") in (True, "true") or check.get("test") == ["NONE"]
        if not check.get("test") or disabled:
            errors.append(f"services.{name}: no healthcheck with a test command")
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):  # short form: waits only for the container to start
            depends_on = {dependency: {} for dependency in depends_on}
        for dependency, options in depends_on.items():
            if options.get("condition") != "service_healthy":
                errors.append(
                    f"services.{name}.depends_on.{dependency}: use condition: service_healthy"
                )
    return errors


def env_example_errors(document: Any, env_example: Path) -> list[str]:
    """Variables used without a default that the env example leaves undefined or empty."""
    defined = read_env_file(env_example)
    missing = sorted(name for name in required_variables(document) if not defined.get(name))
    return [f"{env_example}: no value for {name}, which the compose file needs" for name in missing]


def check(compose: Path, schema: Path, env_example: Path) -> list[str]:
    """Every problem found in the compose file, each as one line naming its place."""
    document = load_yaml(compose)
    if not isinstance(document, Mapping):
        return [f"top level must be a mapping, found {type(document).__name__}"]
    problems = schema_errors(document, load_schema(schema))
    if problems:
        return problems  # the project's rules assume a structurally valid file
    if not env_example.is_file():
        raise ValueError(f"{env_example}: env example not found (pass --env-example)")
    try:
        return (
            port_binding_errors(document)
            + healthcheck_errors(document)
            + env_example_errors(document, env_example)
        )
    except ValueError as error:  # a malformed ${...} somewhere in the file
        return [str(error)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compose", nargs="?", type=Path, default=DEFAULT_COMPOSE)
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--env-example", type=Path, help="default: .env.example beside the file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    env_example = args.env_example or args.compose.parent / ".env.example"
    try:
        problems = check(args.compose, args.schema, env_example)
    except ValueError as error:
        logger.error("%s", error)
        return 2
    for problem in problems:
        logger.error("%s: %s", args.compose, problem)
    if problems:
        logger.error("%s: INVALID (%d problem(s))", args.compose, len(problems))
        return 1
    logger.info("%s: valid (Compose Specification schema and project rules)", args.compose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
