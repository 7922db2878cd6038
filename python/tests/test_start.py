"""Starting the mock: the way the session's mock was started (BEIA_MOCK_START), tokens, failures."""

import os

import pytest

from beia_mock import BeiaMock, License, MockAdminError, MockStartError
from beia_mock.launch import LABEL

from conftest import MODE

docker_only = pytest.mark.skipif(not MODE.startswith("docker"), reason=f"starts containers; this run's mock is {MODE!r}")


def start(**options) -> BeiaMock:
    """A second mock, started the way the session's was."""
    if MODE == "command":
        return BeiaMock.start_command(**options)
    if MODE == "docker-host":
        return BeiaMock.start_container(network="host", **options)
    if MODE == "docker":
        return BeiaMock.start_container(**options)
    pytest.skip("BEIA_MOCK_URL names a running mock; these tests start their own")


def test_the_session_mock_is_the_one_the_environment_names(beia_mock):
    assert beia_mock.endpoint == f"{beia_mock.url}/beia-api/v1/image"
    if MODE.startswith("docker"):
        assert beia_mock.container_id
        assert "listening on" in beia_mock.logs()
    elif MODE == "command":
        assert beia_mock.container_id is None and "listening on 127.0.0.1:" in beia_mock.logs()


@docker_only
def test_a_container_on_a_mapped_port_prints_a_token_that_the_helper_reads(image):
    with BeiaMock.start_container(network="mapped") as mock:
        assert mock.admin_token and f"Authorization: Bearer {mock.admin_token}" in mock.logs()
        assert mock.licenses()[0]["licenseId"] == "1234"
        with pytest.raises(MockAdminError) as refused:
            BeiaMock(mock.url).licenses()
        assert (refused.value.status, refused.value.code) == (401, "admin_unauthorized")
        assert "docker logs <container> | grep Bearer" in str(refused.value)
        assert mock.process(License("1234", "5678"), image).credits_remaining == 99


def test_a_given_admin_token_is_the_one_required(image):
    with start(admin_token="py-token") as mock:
        assert mock.admin_token == "py-token"
        assert "token required: the one given" in mock.logs()
        with pytest.raises(MockAdminError) as refused:
            BeiaMock(mock.url).licenses()
        assert refused.value.status == 401
        assert BeiaMock.connect(mock.url, "py-token").license("1234")["credits"] == 100


def test_a_config_given_as_a_dict_is_the_mock_s(image):
    config = {"licenses": [{"licenseId": "py", "apiKey": "py-key", "credits": 2}], "processing": {"delayMs": 0}}
    with start(config=config) as mock:
        assert mock.process(License("py", "py-key"), image).credits_remaining == 1
        assert mock.process(License("1234", "5678"), image).status == 401


def test_a_mock_that_cannot_start_says_why_with_its_last_log_lines():
    with pytest.raises(MockStartError) as failed:
        start(env={"BEIA_MOCK_QUIET": "perhaps"})
    message = str(failed.value)
    assert "exited with code 2" in message
    assert 'BEIA_MOCK_QUIET is "perhaps"' in message and "Its last log lines:" in message


@docker_only
def test_a_missing_image_says_how_to_build_it():
    with pytest.raises(MockStartError) as failed:
        BeiaMock.start_container("beia-kit/mock:0.0.0-not-built")
    assert str(failed.value) == (
        "Failed to start the beia mock container: beia-kit/mock:0.0.0-not-built is not on this Docker engine, and images named "
        'beia-kit/mock are never pulled (no registry publishes them). Build it in beia-kit with "npm run docker:build", '
        "or name your registry's copy in BEIA_MOCK_IMAGE."
    )


@docker_only
def test_stopped_containers_are_removed(beia_mock):
    import subprocess

    with start() as mock:
        container = mock.container_id
    listed = subprocess.run(["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={LABEL}"], capture_output=True, text=True, check=True)
    assert container not in listed.stdout
    assert beia_mock.container_id in listed.stdout


def test_the_helper_in_use_is_the_one_this_run_means():
    import beia_mock

    where = os.path.dirname(beia_mock.__file__)
    if os.environ.get("BEIA_MOCK_EXPECT_INSTALLED") == "1":
        assert "site-packages" in where, where
    else:
        assert where == os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "beia_mock")


def test_a_mock_started_with_recordings_replays_them_and_strict_refuses_an_unrecorded_upload(image, tmp_path):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    # Readable by the image's user (uid 1000) too.
    os.chmod(tmp_path, 0o755)
    os.chmod(recordings, 0o755)
    with start(recordings=str(recordings), recordings_strict=True) as mock:
        answer = mock.process(License("1234", "5678"), image)
        assert (answer.status, answer.error_code) == (415, "no_recording")
        assert mock.license("1234")["credits"] == 100
