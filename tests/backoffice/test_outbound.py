"""The SSRF-guarded sender: which URLs may be called, and how they are called."""
import pytest

from backoffice import outbound
from backoffice.outbound import OutboundError, SafeResponse, UnsafeURL, check_url, safe_request
from tests.fakes.sink import Sink

PUBLIC = "93.184.216.34"


@pytest.fixture
def sink():
    with Sink() as s:
        yield s


@pytest.fixture
def resolver(monkeypatch):
    """Replace DNS: host name -> list of answers (each call pops the next answer when a list
    of lists is given), recording every lookup."""
    calls = []
    answers: dict[str, list] = {}

    def fake(host, port):
        calls.append(host)
        answer = answers.get(host, [PUBLIC])
        if answer and isinstance(answer[0], list):
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer

    monkeypatch.setattr(outbound, "resolve", fake)
    fake.calls = calls
    fake.answers = answers
    return fake


HOSTILE_LITERALS = [
    ("http://127.0.0.1/pb", "loopback"),
    ("http://127.8.9.10/pb", "loopback"),
    ("http://[::1]/pb", "loopback"),
    ("http://10.1.2.3/pb", "private"),
    ("http://172.16.0.1/pb", "private"),
    ("http://172.31.255.254/pb", "private"),
    ("http://192.168.1.1/pb", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/pb", "link-local"),
    ("http://100.64.0.1/pb", "CGNAT"),
    ("http://100.127.255.254/pb", "CGNAT"),
    ("http://0.0.0.0/pb", "unspecified"),
    ("http://0.1.2.3/pb", "this network"),
    ("http://[::]/pb", "unspecified"),
    ("http://224.0.0.1/pb", "multicast"),
    ("http://[ff02::1]/pb", "multicast"),
    ("http://240.0.0.1/pb", "private"),  # reserved 240/4; Python files it under private
    ("http://255.255.255.255/pb", "private"),
    ("http://[fc00::1]/pb", "unique-local"),
    ("http://[fd12:3456::1]/pb", "unique-local"),
    ("http://[fec0::1]/pb", "site-local"),
    ("http://[::ffff:127.0.0.1]/pb", "loopback"),  # IPv4-mapped
    ("http://[::ffff:169.254.169.254]/pb", "link-local"),
    ("http://[::ffff:10.0.0.1]/pb", "private"),
    ("http://[64:ff9b::a9fe:a9fe]/pb", "link-local"),  # NAT64 of 169.254.169.254
    ("http://[2002:7f00:1::1]/pb", "loopback"),  # 6to4 of 127.0.0.1
    ("http://[2002:c0a8:101::]/pb", "private"),  # 6to4 of 192.168.1.1
    ("http://[::7f00:1]/pb", "IPv4-compatible"),
    ("http://2130706433/pb", "loopback"),  # decimal 127.0.0.1
    ("http://0x7f000001/pb", "loopback"),  # hex
    ("http://0177.0.0.1/pb", "loopback"),  # octal
    ("http://127.1/pb", "loopback"),  # short form
    ("http://0x7f.1/pb", "loopback"),
    ("http://017700000001/pb", "loopback"),
    ("http://3232235777/pb", "private"),  # 192.168.1.1
    ("http://0xa9fea9fe/pb", "link-local"),  # 169.254.169.254
    ("http://127.0.0.1./pb", "loopback"),  # trailing dot
    ("https://127.0.0.1:8443/pb", "loopback"),
]


@pytest.mark.parametrize(("url", "kind"), HOSTILE_LITERALS)
def test_hostile_addresses_are_refused_before_any_connection(url, kind, resolver):
    with pytest.raises(UnsafeURL) as refused:
        check_url(url)
    assert kind in refused.value.message
    assert "public internet addresses" in refused.value.message
    with pytest.raises(UnsafeURL):
        safe_request("GET", url)
    assert resolver.calls == []  # numeric hosts never reach DNS


@pytest.mark.parametrize("answer", [
    ["127.0.0.1"], ["10.0.0.5"], ["169.254.169.254"], ["::1"], ["100.100.100.100"], ["::ffff:127.0.0.1"],
    [PUBLIC, "10.0.0.5"],  # every address must be public, not just the first
    ["fe80::1%eth0"],
])
def test_names_resolving_to_hostile_addresses_are_refused(answer, resolver):
    resolver.answers["tracker.example"] = answer

    with pytest.raises(UnsafeURL) as refused:
        check_url("https://tracker.example/pb?a=1")

    assert "tracker.example (" in refused.value.message


@pytest.mark.parametrize("url", [
    "http://localhost/pb", "http://LOCALHOST:8000/pb", "http://admin.localhost/pb", "http://localhost./pb",
])
def test_localhost_names_are_refused_without_asking_dns(url, resolver):
    with pytest.raises(UnsafeURL, match="localhost"):
        check_url(url)
    assert resolver.calls == []


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://tracker.example/pb", "Only http:// and https://"),
    ("file:///etc/passwd", "Only http:// and https://"),
    ("gopher://tracker.example:70/_x", "Only http:// and https://"),
    ("javascript:alert(1)", "Only http:// and https://"),
    ("//tracker.example/pb", "Only http:// and https://"),
    ("http:///pb", "no host"),
    ("http://user:pw@tracker.example/pb", "user:password@"),
    ("http://tracker.example@127.0.0.1/pb", "user:password@"),
    ("http://tracker.example:99999/pb", "port"),
    ("http://tracker.example:0/pb", "port"),
    ("http://tracker.example/a b", "spaces"),
    ("http://tracker.example\\@127.0.0.1/", "backslashes"),
    ("http://0x5db8d822/pb", "Write the IP address 0x5db8d822 as 93.184.216.34"),
    ("http://999.1.1.1/pb", "not a valid IP address"),
    ("", "Enter a URL"),
])
def test_malformed_urls_are_refused_with_a_message(url, message, resolver):
    with pytest.raises(UnsafeURL, match=message.replace("(", r"\(")):
        check_url(url)


def test_unresolvable_host_is_refused(monkeypatch):
    def nxdomain(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(outbound, "resolve", nxdomain)
    with pytest.raises(UnsafeURL, match="could not be resolved"):
        check_url("https://no-such-tracker.example/pb")


@pytest.mark.parametrize("url", [
    "https://tracker.example/pb?a=1",
    f"http://{PUBLIC}/pb",
    "http://[2606:4700:4700::1111]/pb",
    "https://трекер.example/pb",  # IDN
])
def test_public_targets_are_allowed(url, resolver):
    check_url(url)  # no exception


def test_the_development_setting_allows_loopback_and_private_but_never_metadata(settings, resolver):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True

    check_url("http://127.0.0.1:8000/pb")
    check_url("http://10.0.0.1/pb")
    with pytest.raises(UnsafeURL, match="link-local"):
        check_url("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(UnsafeURL, match="multicast"):
        check_url("http://224.0.0.1/")


def test_dns_rebinding_public_at_save_private_at_send_is_refused_at_send(resolver, sink):
    # given a name that resolves to a public address first, to loopback afterwards
    resolver.answers["rebind.example"] = [[PUBLIC], ["127.0.0.1"]]
    url = f"http://rebind.example:{sink.port}/pb"
    check_url(url)  # at save: fine

    # when it is sent
    with pytest.raises(UnsafeURL, match="loopback"):
        safe_request("GET", url)

    # then nothing reached the loopback service
    assert sink.requests == []


def test_the_connection_goes_to_the_validated_address_with_the_host_name_kept(settings, resolver, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    resolver.answers["tracker.test"] = ["127.0.0.1"]  # no real DNS knows this name

    response = safe_request("GET", f"http://tracker.test:{sink.port}/pb?click=abc")

    assert response.status == 200
    assert resolver.calls == ["tracker.test"]  # resolved once, by us; the socket used that IP
    assert sink.requests[0].headers["Host"] == f"tracker.test:{sink.port}"
    assert sink.requests[0].path == "/pb?click=abc"


def test_https_pins_the_address_and_verifies_the_certificate_for_the_host_name(resolver):
    target = outbound._target("https://tracker.example/pb")
    pool = outbound._pool(target)
    connection = pool._new_conn()

    assert pool.host == PUBLIC
    assert connection.server_hostname == "tracker.example"  # SNI
    assert connection.assert_hostname == "tracker.example"  # certificate checked for the name
    assert pool.cert_reqs == "CERT_REQUIRED"


def test_a_2xx_answer_is_returned_with_status_body_and_latency(settings, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    sink.respond(201, "accepted")

    response = safe_request("POST", sink.url("/pb"), data='{"a":1}', headers={"Content-Type": "application/json"})

    assert isinstance(response, SafeResponse)
    assert (response.status, response.body, response.ok) == (201, "accepted", True)
    assert response.elapsed_ms >= 0
    assert sink.requests[0].body == b'{"a":1}'
    assert sink.requests[0].headers["Content-Type"] == "application/json"


def test_redirects_are_not_followed(settings, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    sink.respond(302, location="http://169.254.169.254/latest/meta-data/")

    response = safe_request("GET", sink.url("/pb"))

    assert response.status == 302
    assert not response.ok
    assert response.location == "http://169.254.169.254/latest/meta-data/"
    assert len(sink.requests) == 1


def test_a_slow_tracker_times_out(settings, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    settings.POSTBACK_TIMEOUT_SECONDS = 0.2
    sink.respond(200, delay=1.0)

    with pytest.raises(OutboundError, match="No response within 0.2 s") as timed_out:
        safe_request("GET", sink.url("/slow"))

    assert 150 <= timed_out.value.elapsed_ms < 1000


def test_a_refused_connection_is_an_error_not_a_crash(settings):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    with Sink() as gone:
        url = gone.url("/pb")
    with pytest.raises(OutboundError, match="Connection refused"):
        safe_request("GET", url)


def test_a_huge_body_is_cut_and_the_connection_still_works(settings, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    sink.respond(200, b"x" * (5 * 1024 * 1024))

    response = safe_request("GET", sink.url("/big"))

    assert response.status == 200
    assert len(response.body) == outbound.MAX_BODY_BYTES
    sink.respond(200, "small")
    assert safe_request("GET", sink.url("/next")).body == "small"


def test_keep_alive_connections_are_reused(settings, sink):
    settings.POSTBACK_ALLOW_PRIVATE_TARGETS = True
    for _ in range(3):
        safe_request("GET", sink.url("/pb"))
    pool = outbound._pool(outbound._target(sink.url("/pb")))
    assert pool.num_connections == 1
