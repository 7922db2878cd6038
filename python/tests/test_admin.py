"""Licenses, faults, the journal and verify, through the helper."""

import time

import pytest

from beia_mock import AnswerLost, MockAdminError


def test_each_test_gets_a_license_of_its_own_with_a_journal_of_its_own(beia_mock, beia_license, image):
    other = beia_mock.create_license(credits=5, ttl_seconds=60)
    try:
        assert other.license_id != beia_license.license_id and other.license_id.startswith("t-")
        assert beia_mock.process(other, image).credits_remaining == 4
        assert beia_mock.journal(beia_license) == []
        assert beia_mock.license(beia_license)["credits"] == 100
    finally:
        beia_mock.delete_license(other)


def test_an_error_fault_answers_a_500_once_then_a_200(beia_mock, beia_license, image):
    beia_mock.arm_fault("error", license=beia_license, count=1)
    failed = beia_mock.process(beia_license, image)
    assert (failed.status, failed.error_code, failed.credits_remaining) == (500, "internal_error", 100)
    assert beia_mock.process(beia_license, image).status == 200
    beia_mock.verify(license=beia_license, status=500, exactly=1)


def test_a_reset_after_the_charge_loses_the_answer_and_spends_the_credit(beia_mock, beia_license, image):
    beia_mock.arm_fault("reset", license=beia_license, phase="after")
    with pytest.raises(AnswerLost) as lost:
        beia_mock.process(beia_license, image)
    assert lost.value.kind == "reset" and isinstance(lost.value, ConnectionError)
    [entry] = beia_mock.journal(beia_license)
    assert (entry["status"], entry["fault"], entry.get("charged"), entry.get("answerLost")) == (444, "reset", True, True)
    assert beia_mock.license(beia_license)["credits"] == 99


def test_a_truncate_fault_cuts_the_answer(beia_mock, beia_license, image):
    beia_mock.arm_fault("truncate", license=beia_license)
    with pytest.raises(AnswerLost) as lost:
        beia_mock.process(beia_license, image)
    assert lost.value.kind == "truncated" and lost.value.status == 200


def test_a_latency_fault_delays_the_answer(beia_mock, beia_license, image):
    beia_mock.arm_fault("latency", license=beia_license, latency_ms=400)
    started = time.monotonic()
    assert beia_mock.process(beia_license, image).status == 200
    assert time.monotonic() - started >= 0.4


def test_seeded_chaos_is_listed_with_its_seed(beia_mock, beia_license):
    fault = beia_mock.arm_fault("chaos", license=beia_license, types=["error", "latency"], probability=0.5, seed=42, latency_ms=10)
    assert (fault["type"], fault["seed"]) == ("chaos", 42)
    assert any(armed["id"] == fault["id"] for armed in beia_mock.faults())
    beia_mock.remove_fault(fault["id"])
    assert all(armed["id"] != fault["id"] for armed in beia_mock.faults())


@pytest.mark.beia_license(credits=1)
def test_verify_passes_quietly_and_fails_with_the_near_misses(beia_mock, beia_license, image):
    beia_mock.process(beia_license, image)
    beia_mock.process(beia_license, image)
    beia_mock.verify(license=beia_license, status=200, exactly=1)
    beia_mock.verify(license=beia_license, status=429, never=True)
    beia_mock.verify(license=beia_license, at_least=2)
    with pytest.raises(AssertionError) as failed:
        beia_mock.verify(license=beia_license, status=200, exactly=2)
    message = str(failed.value)
    assert message.startswith(f'Expected exactly 2 request(s) matching {{"licenseId": "{beia_license.license_id}", "status": 200}}, the mock saw 1.')
    assert "Nearest misses:" in message and "402 no_credits: status 402 (not 200)" in message


def test_no_retry_came_before_retry_after(beia_mock, beia_license, image):
    beia_mock.process(beia_license, image, scenario="429")
    assert beia_mock.journal(beia_license, retry_too_early=True) == []


def test_a_deleted_license_is_gone_and_the_admin_api_says_so(beia_mock, image):
    license = beia_mock.create_license(credits=2, ttl_seconds=60)
    beia_mock.delete_license(license)
    assert beia_mock.process(license, image).status == 401
    with pytest.raises(MockAdminError) as refused:
        beia_mock.license(license)
    assert refused.value.status == 404
    beia_mock.delete_license(license, missing_ok=True)


def test_credits_set_to_zero_make_the_next_request_a_402(beia_mock, beia_license, image):
    beia_mock.set_credits(beia_license, 0)
    assert beia_mock.process(beia_license, image).error_code == "no_credits"
    beia_mock.update_license(beia_license, credits=2)
    assert beia_mock.process(beia_license, image).credits_remaining == 1


def test_health_names_the_version(beia_mock):
    health = beia_mock.health()
    assert health["status"] == "ok" and health["version"] == "0.1.0"
