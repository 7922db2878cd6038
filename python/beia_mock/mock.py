"""BeiaMock: a running beia mock, its image endpoint and its admin API."""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import launch
from .http import Response, send
from .multipart import File, FieldValue, encode_multipart

__version__ = "0.1.0"

IMAGE_PATH = "/beia-api/v1/image"
# The image of this version of beia-kit, built by `npm run docker:build` (BEIA_MOCK_IMAGE in beia-kit/testcontainers).
DEFAULT_IMAGE = f"beia-kit/mock:{__version__}"


@dataclass(frozen=True)
class License:
    """A license's id and key, as a request sends them; ``credits`` and ``expires_at`` as the mock made it.

    >>> License("1234", "5678")   # the license of the mock's embedded default config
    License(license_id='1234', api_key='5678', credits=None, expires_at=None)
    """

    license_id: str
    api_key: str
    credits: Optional[int] = None
    expires_at: Optional[str] = None


LicenseRef = Union[str, License]


def _license_id(license: LicenseRef) -> str:
    return license.license_id if isinstance(license, License) else str(license)


class MockAdminError(Exception):
    """The admin API refused a call: ``status`` and the mock's ``code`` (``admin_unauthorized``, ``admin_not_found``, ...)."""

    def __init__(self, message: str, status: int, code: Optional[str]) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class VerificationError(AssertionError):
    """``verify`` did not hold: what was expected, what the mock saw, and the nearest misses.

    An ``AssertionError``, so pytest reports it as a failed assertion. ``result`` is the mock's answer.
    """

    def __init__(self, pattern: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        lines = [f"Expected {result.get('expected')} request(s) matching {json.dumps(dict(pattern))}, the mock saw {result.get('count')}."]
        misses = result.get("nearMisses") or []
        if misses:
            lines.append("Nearest misses:")
            for miss in misses:
                entry = miss.get("entry", {})
                what = ", ".join(f"{d.get('field')} {json.dumps(d.get('actual'))} (not {json.dumps(d.get('expected'))})" for d in miss.get("differences", []))
                code = f" {entry['code']}" if entry.get("code") else ""
                lines.append(f"  #{entry.get('seq')} {entry.get('time')} {entry.get('method')} {entry.get('path')} {entry.get('status')}{code}: {what}")
        else:
            lines.append("No request came close.")
        super().__init__("\n".join(lines))
        self.result = dict(result)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _body(**fields: Any) -> Dict[str, Any]:
    """Keyword arguments in snake_case as the admin API's camelCase JSON, leaving out the Nones."""
    return {_camel(key): value for key, value in fields.items() if value is not None}


class BeiaMock:
    """A beia mock: the one this helper started (``start_container``, ``start_command``) or one already running (``connect``).

    >>> with BeiaMock.start_container() as mock:                      # doctest: +SKIP
    ...     license = mock.create_license(credits=1)
    ...     assert mock.process(license, "examples/001.jpg").status == 200
    ...     assert mock.process(license, "examples/001.jpg").error_code == "no_credits"
    ...     mock.verify(license_id=license, status=200, exactly=1)
    """

    def __init__(self, url: str, admin_token: Optional[str] = None, *, timeout: float = 30.0, _handle: Any = None) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout
        self._handle = _handle

    # ------------------------------------------------------------------ starting and stopping

    @classmethod
    def connect(cls, url: str, admin_token: Optional[str] = None, *, wait: float = 30.0) -> "BeiaMock":
        """A mock that is already running (compose, a CI service, ``npm run mock``), once it answers healthy."""
        launch.wait_healthy(url.rstrip("/"), wait)
        return cls(url, admin_token)

    @classmethod
    def start_container(
        cls,
        image: Optional[str] = None,
        *,
        network: str = "mapped",
        admin_token: Optional[str] = None,
        config: Union[None, str, Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
        timeout: float = 60.0,
        docker: str = "docker",
        recordings: Optional[str] = None,
        recordings_strict: bool = False,
    ) -> "BeiaMock":
        """Runs the ``beia-kit/mock`` image (``BEIA_MOCK_IMAGE``, else this version's) and waits until it is healthy.

        ``network="mapped"`` (the default) maps the container's 8080 to a free port of 127.0.0.1; the
        mock then makes an admin token, which is read from its logs (the banner's ``Bearer`` line)
        unless ``admin_token`` gives one. ``network="host"`` shares the host's network (Linux only).
        ``config`` is the mock's config, a dict or the path of a JSON file (docs/configuration.md).
        ``recordings`` replays the recordings of the live API in that folder (docs/recordings.md),
        bound read-only (its files readable by uid 1000); ``recordings_strict`` refuses an upload
        without one (415 ``no_recording``).
        """
        image = image or os.environ.get("BEIA_MOCK_IMAGE") or DEFAULT_IMAGE
        container, url, token = launch.start_container(
            image, network=network, admin_token=admin_token, config=config, env=env, timeout=timeout, docker=docker, recordings=recordings, recordings_strict=recordings_strict
        )
        return cls(url, token, _handle=container)

    @classmethod
    def start_command(
        cls,
        command: Union[None, str, Sequence[str]] = None,
        *,
        admin_token: Optional[str] = None,
        config: Union[None, str, Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        timeout: float = 60.0,
        recordings: Optional[str] = None,
        recordings_strict: bool = False,
    ) -> "BeiaMock":
        """Runs ``beia mock`` (``BEIA_MOCK_COMMAND``, else ``beia`` on PATH, else ``npx --no-install beia``) on 127.0.0.1 at a free port.

        ``recordings`` replays the recordings of the live API in that folder (docs/recordings.md).
        """
        process, url, token = launch.start_command(
            command, admin_token=admin_token, config=config, env=env, cwd=cwd, timeout=timeout, recordings=recordings, recordings_strict=recordings_strict
        )
        return cls(url, token, _handle=process)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "BeiaMock":
        """The mock the environment names, as the ``beia_mock`` fixture gets it.

        - ``BEIA_MOCK_URL`` set: that running mock, with ``BEIA_MOCK_ADMIN_TOKEN``.
        - else ``BEIA_MOCK_START``: ``docker`` (the default: the image on a mapped port),
          ``docker-host`` (the image on the host's network) or ``command`` (``beia mock``).
        """
        env = os.environ if environ is None else environ
        token = env.get("BEIA_MOCK_ADMIN_TOKEN") or None
        if env.get("BEIA_MOCK_URL"):
            return cls.connect(env["BEIA_MOCK_URL"], token)
        start = env.get("BEIA_MOCK_START") or "docker"
        # A folder of recordings on this machine (BEIA_MOCK_RECORDINGS), replayed by the mock it starts.
        replay: Dict[str, Any] = {}
        if env.get("BEIA_MOCK_RECORDINGS"):
            replay = {"recordings": env["BEIA_MOCK_RECORDINGS"], "recordings_strict": (env.get("BEIA_MOCK_RECORDINGS_STRICT") or "").lower() in ("1", "true", "yes", "on")}
        if start == "docker":
            return cls.start_container(env.get("BEIA_MOCK_IMAGE") or None, admin_token=token, **replay)
        if start == "docker-host":
            return cls.start_container(env.get("BEIA_MOCK_IMAGE") or None, network="host", admin_token=token, **replay)
        if start == "command":
            return cls.start_command(env.get("BEIA_MOCK_COMMAND") or None, admin_token=token, **replay)
        raise ValueError(f'BEIA_MOCK_START is {start!r}; expected "docker", "docker-host" or "command" (or set BEIA_MOCK_URL).')

    def stop(self) -> None:
        """Stops the container or process this helper started; a mock it only connected to keeps running."""
        if self._handle is not None:
            self._handle.stop()
            self._handle = None

    def logs(self) -> str:
        """What the started mock printed (its banner and request lines); empty for a connected one."""
        return self._handle.logs() if self._handle is not None else ""

    @property
    def container_id(self) -> Optional[str]:
        return self._handle.id if isinstance(self._handle, launch.Container) else None

    def __enter__(self) -> "BeiaMock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<BeiaMock {self.url}>"

    # ------------------------------------------------------------------ the image API

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT/beia-api/v1/image``: what the code under test calls."""
        return self.url + IMAGE_PATH

    def process(
        self,
        license: License,
        image: Union[bytes, str, "os.PathLike[str]", File],
        *,
        include_cropped_image: Union[None, bool, str] = None,
        headers: Optional[Mapping[str, str]] = None,
        scenario: Optional[str] = None,
        filename: str = "001.jpg",
        timeout: Optional[float] = None,
    ) -> Response:
        """Sends an image as the vendor's samples do (D9): ``License-Id`` header, form fields ``apiKey``,
        ``licenseId``, ``image`` (``application/octet-stream`` with a filename), and
        ``includeCroppedImage`` when given. ``scenario`` sets ``X-Beia-Mock-Scenario`` (``"429"``,
        ``"reset; phase=after"``). Every status comes back as a ``Response``; a connection the mock
        drops (a ``reset`` or ``truncate`` fault) raises ``AnswerLost``.
        """
        if isinstance(image, File):
            part = image
        elif isinstance(image, bytes):
            part = File(image, filename)
        else:
            part = File.from_path(image)
        fields: List[Tuple[str, FieldValue]] = [("apiKey", license.api_key), ("licenseId", license.license_id), ("image", part)]
        if include_cropped_image is not None:
            value = include_cropped_image if isinstance(include_cropped_image, str) else ("true" if include_cropped_image else "false")
            fields.append(("includeCroppedImage", value))
        sent = {"License-Id": license.license_id}
        if scenario:
            sent["X-Beia-Mock-Scenario"] = scenario
        sent.update(headers or {})
        return self.post_form(fields, headers=sent, timeout=timeout)

    def post_form(self, fields: Sequence[Tuple[str, FieldValue]], headers: Optional[Mapping[str, str]] = None, timeout: Optional[float] = None) -> Response:
        """Any multipart/form-data request to the image endpoint: for the malformed ones a test needs (a field missing, a wrong header)."""
        body, content_type = encode_multipart(fields)
        return send("POST", self.endpoint, body, {"Content-Type": content_type, **dict(headers or {})}, self.timeout if timeout is None else timeout)

    # ------------------------------------------------------------------ the admin API

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Any admin call (``/__admin`` + ``path``), with the token; the JSON answer, or a ``MockAdminError``."""
        headers = {"Accept": "application/json"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = f"{self.url}/__admin{path}"
        try:
            answer = send(method, url, data, headers, self.timeout)
        except (ConnectionError, OSError) as error:
            raise MockAdminError(f"Failed to call the mock's admin API ({method} {url}): {error}. Is the mock running at that address?", 0, "admin_unreachable") from error
        if answer.ok:
            return answer.json() if answer.body else None
        hint = ""
        if answer.error_code == "admin_unauthorized":
            hint = " (BeiaMock.connect(url, admin_token=...) or BEIA_MOCK_ADMIN_TOKEN; a container prints its token: docker logs <container> | grep Bearer)"
        raise MockAdminError(f"Failed to call the mock's admin API ({method} {path}): {answer.status} {answer.error_message or answer.text[:200]}{hint}", answer.status, answer.error_code)

    def health(self) -> Dict[str, Any]:
        return self.admin("GET", "/health")

    def create_license(
        self,
        *,
        credits: Optional[int] = None,
        max_concurrent: Optional[int] = None,
        allowed_ips: Optional[Sequence[str]] = None,
        ttl_seconds: Optional[int] = None,
    ) -> License:
        """A license of its own for one test (``POST /__admin/licenses``): a fresh id and key, 100
        credits unless given, gone after ``ttl_seconds`` (an hour) or ``delete_license``. Tests that
        each take one never see each other's credits, journal entries or faults."""
        created = self.admin("POST", "/licenses", _body(credits=credits, max_concurrent=max_concurrent, allowed_ips=list(allowed_ips) if allowed_ips is not None else None, ttl_seconds=ttl_seconds))
        return License(created["licenseId"], created["apiKey"], created.get("credits"), created.get("expiresAt"))

    def delete_license(self, license: LicenseRef, *, missing_ok: bool = False) -> None:
        """Removes a license with its journal entries and faults."""
        try:
            self.admin("DELETE", f"/licenses/{urllib.parse.quote(_license_id(license), safe='')}")
        except MockAdminError as error:
            if not (missing_ok and error.status == 404):
                raise

    def licenses(self) -> List[Dict[str, Any]]:
        return self.admin("GET", "/licenses")

    def license(self, license: LicenseRef) -> Dict[str, Any]:
        """A license as the admin API shows it (``credits``, ``inFlight``, ...; the key masked)."""
        return self.admin("GET", f"/licenses/{urllib.parse.quote(_license_id(license), safe='')}")

    def update_license(
        self,
        license: LicenseRef,
        *,
        credits: Optional[int] = None,
        max_concurrent: Optional[int] = None,
        allowed_ips: Optional[Sequence[str]] = None,
        api_key: Optional[str] = None,
    ) -> Dict[str, Any]:
        body = _body(credits=credits, max_concurrent=max_concurrent, allowed_ips=list(allowed_ips) if allowed_ips is not None else None, api_key=api_key)
        return self.admin("PATCH", f"/licenses/{urllib.parse.quote(_license_id(license), safe='')}", body)

    def set_credits(self, license: LicenseRef, credits: int) -> Dict[str, Any]:
        """E.g. 0, for a 402 on the license's next request."""
        return self.update_license(license, credits=credits)

    def reset(self) -> Dict[str, Any]:
        """Licenses back to the config; the journal, faults and the licenses made per test dropped."""
        return self.admin("POST", "/reset")

    def journal(self, license: Optional[LicenseRef] = None, *, limit: Optional[int] = None, retry_too_early: bool = False) -> List[Dict[str, Any]]:
        """The requests the mock saw, oldest first, as it reports them (``status``, ``code``, ``parts``, ``fault``, ...)."""
        query: Dict[str, str] = {}
        if license is not None:
            query["licenseId"] = _license_id(license)
        if limit is not None:
            query["limit"] = str(limit)
        if retry_too_early:
            query["retryTooEarly"] = "true"
        return self.admin("GET", "/journal" + (f"?{urllib.parse.urlencode(query)}" if query else ""))

    def clear_journal(self) -> None:
        self.admin("DELETE", "/journal")

    def arm_fault(
        self,
        type: str,
        *,
        license: Optional[LicenseRef] = None,
        count: Optional[int] = None,
        probability: Optional[float] = None,
        seed: Optional[int] = None,
        latency_ms: Optional[int] = None,
        phase: Optional[str] = None,
        types: Optional[Sequence[str]] = None,
    ) -> Dict[str, Any]:
        """Arms a fault (docs/admin-api.md, "Faults"): ``error``, ``latency``, ``reset``, ``truncate``,
        ``hang`` or ``chaos``; for one license, or for every license when none is given."""
        body = _body(
            type=type,
            license_id=_license_id(license) if license is not None else None,
            count=count,
            probability=probability,
            seed=seed,
            latency_ms=latency_ms,
            phase=phase,
            types=list(types) if types is not None else None,
        )
        return self.admin("POST", "/faults", body)

    def faults(self) -> List[Dict[str, Any]]:
        return self.admin("GET", "/faults")

    def remove_fault(self, fault_id: str) -> None:
        self.admin("DELETE", f"/faults/{urllib.parse.quote(fault_id, safe='')}")

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def verify(
        self,
        *,
        license: Optional[LicenseRef] = None,
        status: Optional[int] = None,
        code: Optional[str] = None,
        path: Optional[str] = None,
        include_cropped_image: Optional[bool] = None,
        image_sha256: Optional[str] = None,
        since: Optional[str] = None,
        until: Optional[str] = None,
        exactly: Optional[int] = None,
        at_least: Optional[int] = None,
        at_most: Optional[int] = None,
        never: bool = False,
    ) -> Dict[str, Any]:
        """Asserts how many requests matching the pattern the mock saw (``POST /__admin/verify``).

        Give exactly one of ``exactly``, ``at_least``, ``at_most``, ``never=True``. Raises a
        ``VerificationError`` (an ``AssertionError``) that lists the nearest misses when wrong.
        """
        counts = {"exactly": exactly, "atLeast": at_least, "atMost": at_most, "never": True if never else None}
        given = {key: value for key, value in counts.items() if value is not None}
        if len(given) != 1:
            raise TypeError("verify: give exactly one of exactly=N, at_least=N, at_most=N, never=True.")
        pattern = _body(
            license_id=_license_id(license) if license is not None else None,
            status=status,
            code=code,
            path=path,
            include_cropped_image=include_cropped_image,
            image_sha256=image_sha256,
            since=since,
            until=until,
        )
        result = self.admin("POST", "/verify", {"pattern": pattern, "count": given})
        if not result.get("ok"):
            raise VerificationError(pattern, result)
        return result
