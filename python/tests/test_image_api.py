"""Vendor-shaped requests to the mock, each test with a license of its own."""

import hashlib

import pytest

from beia_mock import File, License


def test_a_vendor_shaped_request_gets_a_png_and_pays_one_credit(beia_mock, beia_license, image):
    response = beia_mock.process(beia_license, image)
    assert response.status == 200
    assert response.content_type == "image/png" and response.is_png
    assert response.credits_remaining == 99
    entry = beia_mock.journal(beia_license)[-1]
    assert [(part["name"], part.get("filename"), part.get("contentType")) for part in entry["parts"]] == [
        ("apiKey", None, None),
        ("licenseId", None, None),
        ("image", "001.jpg", "application/octet-stream"),
    ]
    assert entry["parts"][2]["sha256"] == hashlib.sha256(image).hexdigest()


@pytest.mark.beia_license(credits=1)
def test_credits_remaining_is_read_alike_on_a_200_and_a_402(beia_mock, beia_license, image):
    paid = beia_mock.process(beia_license, image)
    refused = beia_mock.process(beia_license, image)
    assert (paid.status, refused.status, refused.error_code) == (200, 402, "no_credits")
    for response, credits in ((paid, "0"), (refused, "0")):
        assert response.headers["Credits-Remaining"] == response.headers["credits-remaining"] == credits
        assert dict(response.headers)["credits-remaining"] == credits


def test_include_cropped_image_answers_result_cropped_and_credits(beia_mock, beia_license, image):
    response = beia_mock.process(beia_license, image, include_cropped_image=True)
    assert response.status == 200 and response.content_type.startswith("multipart/mixed")
    parts = response.parts()
    assert sorted(parts) == ["credits", "cropped", "result"]
    assert parts["result"].data.startswith(b"\x89PNG") and parts["cropped"].data.startswith(b"\x89PNG")
    assert parts["credits"].text == "99"
    beia_mock.verify(license=beia_license, include_cropped_image=True, exactly=1)


def test_a_file_part_keeps_the_name_and_type_given(beia_mock, beia_license, image):
    response = beia_mock.process(beia_license, File(image, "scan.png", "image/png"))
    assert response.status == 200
    assert beia_mock.journal(beia_license)[-1]["parts"][2]["filename"] == "scan.png"


def test_a_wrong_api_key_is_a_401_without_credits(beia_mock, beia_license, image):
    response = beia_mock.process(License(beia_license.license_id, "not-the-key"), image)
    assert (response.status, response.error_code) == (401, "invalid_license")
    assert "Credits-Remaining" not in response.headers


@pytest.mark.beia_license(allowed_ips=["203.0.113.9"])
def test_a_license_for_another_address_is_a_403(beia_mock, beia_license, image):
    response = beia_mock.process(beia_license, image)
    assert (response.status, response.error_code) == (403, "ip_not_allowed")


def test_the_scenario_header_forces_a_429_with_retry_after(beia_mock, beia_license, image):
    response = beia_mock.process(beia_license, image, scenario="429")
    assert response.status == 429 and response.error_code == "too_many_requests"
    assert response.retry_after is not None and response.retry_after >= 1


def test_a_form_without_the_api_key_is_a_400_naming_it(beia_mock, beia_license, image):
    response = beia_mock.post_form([("licenseId", beia_license.license_id), ("image", File(image, "001.jpg"))], headers={"License-Id": beia_license.license_id})
    assert response.status == 400
    assert "apiKey" in (response.error_message or "")


@pytest.mark.beia_license(credits=3)
def test_the_marker_sets_the_license_credits(beia_mock, beia_license):
    assert beia_license.credits == 3
    assert beia_mock.license(beia_license)["credits"] == 3
