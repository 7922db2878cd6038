"""What the helper does without a mock: headers, the multipart encoder, messages."""

import email.parser
import email.policy
import socket

import pytest

from beia_mock import BeiaMock, File, Headers, MockStartError, VerificationError, decode_mixed, encode_multipart, token_from_logs


def parse_form(body: bytes, content_type: str):
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(), part.get_content_type(), part.get_payload(decode=True)) for part in message.iter_parts()]


def test_headers_match_in_any_case_and_dict_has_one_spelling():
    on_200 = Headers([("Credits-Remaining", "99"), ("Content-Type", "image/png")])
    on_402 = Headers([("credits-remaining", "0"), ("content-type", "application/json")])
    assert on_200["credits-remaining"] == "99" and on_200["CREDITS-REMAINING"] == "99"
    assert on_402["Credits-Remaining"] == "0"
    assert "Credits-Remaining" in on_402 and "Retry-After" not in on_402
    assert on_402.get("Retry-After") is None
    assert sorted(dict(on_200)) == sorted(dict(on_402)) == ["content-type", "credits-remaining"]
    assert on_200.raw()[0] == ("Credits-Remaining", "99")


def test_repeated_headers_are_all_kept():
    headers = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2")])
    assert headers.get_all("SET-COOKIE") == ["a=1", "b=2"]
    assert headers["set-cookie"] == "a=1, b=2"
    assert len(headers) == 1


def test_the_form_encoder_writes_what_a_multipart_parser_reads():
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    body, content_type = encode_multipart([("apiKey", "5678"), ("licenseId", "1234"), ("image", File(jpeg, "001.jpg"))])
    assert content_type.startswith("multipart/form-data; boundary=")
    assert parse_form(body, content_type) == [
        ("apiKey", None, "text/plain", b"5678"),
        ("licenseId", None, "text/plain", b"1234"),
        ("image", "001.jpg", "application/octet-stream", jpeg),
    ]


def test_the_form_encoder_escapes_quotes_and_line_breaks_in_names():
    body, content_type = encode_multipart([('a"b\r\nc', "x"), ("image", File(b"1", 'evil".jpg\r\nX-Injected: 1'))])
    assert b"X-Injected: 1\r\n" not in body
    assert b'name="a%22b%0D%0Ac"' in body
    assert b'filename="evil%22.jpg%0D%0AX-Injected: 1"' in body


def test_the_boundary_never_occurs_in_the_data():
    body, content_type = encode_multipart([("f", "beia-mock-")], boundary=None)
    boundary = content_type.split("boundary=")[1]
    assert body.count(boundary.encode()) == 2


def test_text_fields_go_in_utf8():
    body, content_type = encode_multipart([("note", "crédit ✓")])
    assert parse_form(body, content_type)[0][3] == "crédit ✓".encode()


def test_multipart_mixed_answers_are_read_by_part_name():
    body = (
        b"--b1\r\nContent-Type: image/png\r\nContent-Disposition: inline; name=\"result\"; filename=\"result.png\"\r\n\r\n\x89PNG\r\n\x1a\n1\r\n"
        b"--b1\r\nContent-Type: text/plain\r\nContent-Disposition: inline; name=\"credits\"\r\n\r\n41\r\n--b1--\r\n"
    )
    parts = {part.name: part for part in decode_mixed(body, "multipart/mixed; boundary=b1")}
    assert parts["result"].data == b"\x89PNG\r\n\x1a\n1" and parts["result"].filename == "result.png"
    assert parts["credits"].text == "41"
    with pytest.raises(ValueError, match="not multipart/mixed"):
        decode_mixed(b"x", "image/png")


def test_the_token_is_read_from_the_banner_line():
    assert token_from_logs("  admin     http://127.0.0.1:8080/__admin  token required: Authorization: Bearer Abc_123-x  (made for this run)") == "Abc_123-x"
    assert token_from_logs("  admin     http://127.0.0.1:8080/__admin  open: loopback only") is None


def test_a_verification_error_is_an_assertion_error_listing_the_near_misses():
    result = {
        "ok": False,
        "count": 0,
        "expected": "exactly 1",
        "nearMisses": [
            {
                "entry": {"seq": 7, "time": "2026-12-05T00:41:07.120Z", "method": "POST", "path": "/beia-api/v1/image", "status": 402, "code": "no_credits"},
                "differences": [{"field": "status", "expected": 200, "actual": 402}],
            }
        ],
    }
    error = VerificationError({"licenseId": "t-1", "status": 200}, result)
    assert isinstance(error, AssertionError)
    assert str(error) == (
        'Expected exactly 1 request(s) matching {"licenseId": "t-1", "status": 200}, the mock saw 0.\n'
        "Nearest misses:\n"
        "  #7 2026-12-05T00:41:07.120Z POST /beia-api/v1/image 402 no_credits: status 402 (not 200)"
    )


def test_an_unknown_start_mode_is_refused_with_the_choices():
    with pytest.raises(ValueError, match='expected "docker", "docker-host" or "command"'):
        BeiaMock.from_env({"BEIA_MOCK_START": "podman"})


def test_connecting_where_nothing_listens_names_the_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MockStartError, match=f"Failed to reach the beia mock at http://127.0.0.1:{port}: .* Is it running at that address"):
        BeiaMock.connect(f"http://127.0.0.1:{port}", wait=0.3)


def test_verify_takes_exactly_one_count():
    mock = BeiaMock("http://127.0.0.1:9")
    with pytest.raises(TypeError, match="exactly one of"):
        mock.verify(status=200)
    with pytest.raises(TypeError, match="exactly one of"):
        mock.verify(status=200, exactly=1, never=True)
