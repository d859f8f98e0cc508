"""Replay the Stripe CLI's trigger fixtures (the request sequences behind ``stripe trigger``)
against a sandbox, exactly as the CLI sends them, and report which ones pass.

How the CLI runs a fixture (``pkg/fixtures/fixtures.go`` and ``pkg/parsers/parsers.go`` of
stripe/stripe-cli): requests in file order; each response is kept under the request's
``name``; a string holding ``${name:path}`` or ``${name:path|default}`` is replaced, as a
whole, by that field of an earlier response (a gjson path such as ``data.0.id``), else by
the default, else left as it was; ``${.env:VAR}`` is replaced in place by the environment
variable; ``${time-now-RFC3339}`` and ``${generate-uuid}`` by what they say. Parameters are
form-encoded with the CLI's own quirks: hashes in arrays get ``[i]`` (and their nested
hashes repeat it), scalars in arrays get ``[]``, and numbers or booleans inside arrays are
dropped. No ``Stripe-Version`` header is sent unless one is asked for, so the account's
default version applies. A non-2xx answer stops the fixture unless its
``expected_error_type`` equals the error's ``type``.

A fixture passes when every request is answered as the CLI expects and the event it is
named after (``issuing_card.created.eu`` names ``issuing_card.created``) is listed by
``/v1/events`` afterwards, once the jobs already due have run (``/_sandbox/jobs/run``).
``api_base`` overrides in a fixture are ignored: every request goes to the sandbox.

``python -m simulator.sandbox.fixture_replay FOLDER`` replays every fixture in FOLDER
against an in-process sandbox (or ``--base-url`` for a running one) and prints the count.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator

API_KEY = "sk_test_cli_fixture_replay"
# The CLI's query pattern: ${name:json_path} or ${name:json_path|default}.
QUERY = re.compile(r"\$\{([^|}]+):([^|}]+)\|?([^/\n]+)?\}")
REGION_SUFFIXES = (".eu", ".gb")

Pairs = list[tuple[str, str]]
Responses = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


# (method, path, query pairs, form pairs or a JSON body, headers) -> answer
Transport = Callable[[str, str, Pairs, "Pairs | dict[str, Any]", dict[str, str]], Answer]


@dataclass(frozen=True)
class FixtureRequest:
    name: str
    method: str
    path: str
    params: dict[str, Any]
    expected_error_type: str | None = None
    idempotency_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fixture:
    name: str  # the file's stem, as ``stripe trigger`` names it
    requests: tuple[FixtureRequest, ...]
    aliases: tuple[str, ...] = ()

    @property
    def event_type(self) -> str:
        """The event the fixture is named after (regional variants share it)."""
        for suffix in REGION_SUFFIXES:
            if self.name.endswith(suffix):
                return self.name.removesuffix(suffix)
        return self.name


@dataclass
class ReplayResult:
    fixture: str
    event_type: str
    passed: bool
    reason: str = ""
    steps_run: int = 0
    # Where it stopped, without ids or messages (stable from run to run): for COVERAGE.md.
    brief: str = ""
    responses: Responses = field(default_factory=dict)


class FixtureReferenceError(Exception):
    """A ``${name:...}`` reference to a request the fixture has not run."""


# -- reading fixtures --------------------------------------------------------------------
def load_fixture(path: Path) -> Fixture:
    data = json.loads(path.read_text())
    requests = tuple(
        FixtureRequest(
            name=item["name"],
            method=item.get("method", "post").upper(),
            path=item["path"],
            params=item.get("params") or {},
            expected_error_type=item.get("expected_error_type") or None,
            idempotency_key=item.get("idempotency_key") or None,
            headers=dict(item.get("headers") or {}),
        )
        for item in data.get("fixtures", [])
    )
    aliases = tuple(data.get("_meta", {}).get("aliases") or ())
    return Fixture(name=path.stem, requests=requests, aliases=aliases)


def fixture_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


# -- the CLI's references ----------------------------------------------------------------
def gjson_string(document: Any, path: str) -> str:
    """What gjson's ``Get(path).String()`` gives for the simple paths fixtures use:
    dotted keys, array indexes, ``#`` for a length; missing and null read as ``""``."""
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            if part == "#":
                node = len(node)
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return ""
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return ""
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, (dict, list)):
        return json.dumps(node, separators=(",", ":"))
    return str(node)


def resolve(value: str, responses: Responses, env: dict[str, str] | None = None) -> str:
    """The CLI's ``ParseQuery``: a string with a reference is replaced as a whole."""
    if value == "${time-now-RFC3339}":
        return Clock().datetime().astimezone().isoformat(timespec="seconds")
    if value == "${generate-uuid}":
        digits = IdGenerator().hex(16)
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
    match = QUERY.search(value)
    if match is None:
        return value
    name, query, default = match.group(1), match.group(2), match.group(3)
    fallback = default or value
    if name == ".env":
        found = (env if env is not None else os.environ).get(query, "")
        return value.replace(match.group(0), found) if found else fallback
    if name not in responses:
        raise FixtureReferenceError(f"an undeclared fixture name was referenced: {name}")
    return gjson_string(responses[name], query) or fallback


def resolve_path(path: str, responses: Responses, env: dict[str, str] | None = None) -> str:
    """References in a URL path are replaced one by one; the CLI then cleans the path."""
    replaced = QUERY.sub(lambda m: resolve(m.group(0), responses, env), path)
    return posixpath.normpath(replaced)


# -- the CLI's form encoding -------------------------------------------------------------
def _scalar(value: Any) -> str | None:
    """Go's formatting of a JSON scalar: floats without a needless ``.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _encode_map(params: dict[str, Any], parent: str, index: int, responses: Responses,
                env: dict[str, str] | None) -> Pairs:
    pairs: Pairs = []
    for key, value in params.items():
        if parent and index >= 0:
            name = f"{parent}[{index}][{key}]"  # the CLI repeats the index in nested hashes
        elif parent:
            name = f"{parent}[{key}]"
        else:
            name = key
        if isinstance(value, str):
            pairs.append((name, resolve(value, responses, env)))
        elif isinstance(value, dict):
            pairs += _encode_map(value, name, index, responses, env)
        elif isinstance(value, list):
            pairs += _encode_array(value, name, responses, env)
        elif (text := _scalar(value)) is not None:
            pairs.append((name, text))
    return pairs


def _encode_array(items: list[Any], parent: str, responses: Responses,
                  env: dict[str, str] | None) -> Pairs:
    """Only strings and hashes survive: JSON numbers and booleans in an array are not
    among the kinds the CLI's ``ParseArray`` handles."""
    pairs: Pairs = []
    index = -1
    for item in items:
        if isinstance(item, str):
            pairs.append((f"{parent}[]", resolve(item, responses, env)))
        elif isinstance(item, dict):
            index += 1
            pairs += _encode_map(item, parent, index, responses, env)
        elif isinstance(item, list):
            pairs += _encode_array(item, parent, responses, env)
    return pairs


def form_pairs(params: dict[str, Any], responses: Responses,
               env: dict[str, str] | None = None) -> Pairs:
    return _encode_map(params, "", -1, responses, env)


def _json_body(value: Any, responses: Responses, env: dict[str, str] | None) -> Any:
    """/v2 POSTs are JSON; their strings are resolved the same way."""
    if isinstance(value, str):
        return resolve(value, responses, env)
    if isinstance(value, dict):
        return {k: _json_body(v, responses, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_body(v, responses, env) for v in value]
    return value


# -- running -----------------------------------------------------------------------------
def _error_type(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error_type = body["error"].get("type")
        return str(error_type) if error_type else None
    return None


def _error_text(answer: Answer) -> str:
    if isinstance(answer.body, dict) and isinstance(answer.body.get("error"), dict):
        error = answer.body["error"]
        return f"{answer.status} {error.get('type')}: {error.get('message')}"
    return f"{answer.status}: {str(answer.body)[:200]}"


def _send(transport: Transport, request: FixtureRequest, responses: Responses,
          api_version: str | None, env: dict[str, str] | None) -> Answer:
    path = resolve_path(request.path, responses, env)
    headers = {name: resolve(value, responses, env) for name, value in request.headers.items()}
    if api_version:
        headers["Stripe-Version"] = api_version
    if request.idempotency_key:
        headers["Idempotency-Key"] = resolve(request.idempotency_key, responses, env)
    if path.startswith("/v2/") and request.method == "POST":
        return transport(request.method, path, [], _json_body(request.params, responses, env),
                         headers)
    pairs = form_pairs(request.params, responses, env)
    if request.method in ("GET", "DELETE"):
        return transport(request.method, path, pairs, [], headers)
    return transport(request.method, path, [], pairs, headers)


def newest_event_id(transport: Transport) -> str | None:
    answer = transport("GET", "/v1/events", [("limit", "1")], [], {})
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    return data[0]["id"] if data else None


def event_produced(transport: Transport, event_type: str, since: str | None) -> bool:
    """Whether ``/v1/events`` lists an event of that type newer than ``since``."""
    query: Pairs = [("type", event_type), ("limit", "1")]
    if since is not None:
        query.append(("ending_before", since))
    answer = transport("GET", "/v1/events", query, [], {})
    return answer.status == 200 and bool(answer.body.get("data"))


def replay(fixture: Fixture, transport: Transport, *, api_version: str | None = None,
           env: dict[str, str] | None = None) -> ReplayResult:
    """Run one fixture as the CLI would, then look for the event it is named after."""
    result = ReplayResult(fixture.name, fixture.event_type, passed=False)
    since = newest_event_id(transport)
    for request in fixture.requests:
        try:
            answer = _send(transport, request, result.responses, api_version, env)
        except FixtureReferenceError as error:
            result.reason = f"{request.name}: {error}"
            result.brief = f"`{request.name}` refers to a field no answer has"
            return result
        result.steps_run += 1
        result.responses[request.name] = answer.body
        expected = request.expected_error_type
        if not 200 <= answer.status < 300 and (expected is None
                                               or _error_type(answer.body) != expected):
            result.reason = (f"{request.method} {request.path} ({request.name}):"
                             f" {_error_text(answer)}")
            result.brief = (f"`{request.method} {request.path}` answered {answer.status}"
                            f" {_error_type(answer.body) or ''}".rstrip())
            return result
    # What Stripe does a moment later (a test clock turning ready) is a job that is
    # already due: run it now rather than wait for the sandbox's ticker.
    transport("POST", "/_sandbox/jobs/run", [], [], {})
    types = (fixture.event_type, *fixture.aliases)
    if not any(event_produced(transport, t, since) for t in types):
        result.reason = result.brief = f"no {fixture.event_type} event"
        return result
    result.passed = True
    return result


def replay_all(paths: Iterable[Path], transport: Transport, *, api_version: str | None = None
               ) -> list[ReplayResult]:
    return [replay(load_fixture(p), transport, api_version=api_version) for p in paths]


# -- transports --------------------------------------------------------------------------
def http_transport(base_url: str, api_key: str = API_KEY, timeout: float = 30.0) -> Transport:
    """Requests to a running sandbox (only ever the URL given)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"

    def send(method: str, path: str, query: Pairs, body: Pairs | dict[str, Any],
             headers: dict[str, str]) -> Answer:
        kwargs: dict[str, Any] = {"params": query, "headers": headers, "timeout": timeout}
        if isinstance(body, dict):
            kwargs["json"] = body
        elif body:
            kwargs["data"] = body
        response = session.request(method, base_url.rstrip("/") + path, **kwargs)
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text
        return Answer(response.status_code, parsed)

    return send


def in_process_transport(db_path: str, api_key: str = API_KEY) -> Transport:
    """A fresh sandbox in this process, through Flask's test client."""
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    client = create_app(SandboxConfig(db_path=db_path)).test_client()
    auth = {"Authorization": f"Bearer {api_key}"}

    def send(method: str, path: str, query: Pairs, body: Pairs | dict[str, Any],
             headers: dict[str, str]) -> Answer:
        kwargs: dict[str, Any] = {"query_string": urlencode(query),
                                  "headers": {**auth, **headers}}
        if isinstance(body, dict):
            kwargs["json"] = body
        elif body:
            kwargs["data"] = urlencode(body)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        response = client.open(path, method=method, **kwargs)
        parsed = response.get_json(silent=True)
        return Answer(response.status_code,
                      parsed if parsed is not None else response.get_data(as_text=True))

    return send


# -- command line ------------------------------------------------------------------------
def summary(results: Sequence[ReplayResult]) -> str:
    lines = [f"{'PASS' if r.passed else 'FAIL'} {r.fixture}" + (f"  {r.reason}" if r.reason
                                                                else "") for r in results]
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} fixtures pass")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.sandbox.fixture_replay",
        description="Replay the Stripe CLI's trigger fixtures against the sandbox.")
    parser.add_argument("folder", type=Path, help="the folder of fixture JSON files")
    parser.add_argument("--base-url", default=None,
                        help="a running sandbox (default: a fresh one in this process)")
    parser.add_argument("--api-version", default=None,
                        help="send this Stripe-Version (the CLI's --api-version)")
    parser.add_argument("--api-key", default=API_KEY)
    args = parser.parse_args(argv)
    paths = fixture_files(args.folder)
    if not paths:
        print(f"no fixtures in {args.folder}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        transport = (http_transport(args.base_url, args.api_key) if args.base_url
                     else in_process_transport(str(Path(folder) / "replay.sqlite3"),
                                               args.api_key))
        results = replay_all(paths, transport, api_version=args.api_version)
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
