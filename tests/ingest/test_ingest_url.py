"""URL ingestion against a real HTTP server on 127.0.0.1: content, errors and safety limits."""

from __future__ import annotations

import gzip
import ipaddress

import pytest

from podcast.errors import ConfigError, InputError, UpstreamError
from podcast.options import build_options
from podcast.stages.ingest import UrlIngester
from podcast.stages.ingest.net import FetchLimits, address_allowed, fetch

from .ingest_helpers import ARTICLE, endless_route, short_body_route, slow_route, trickle_route

LOOPBACK = ("127.0.0.0/8",)


def ingester(**options: object) -> UrlIngester:
    """A URL ingester with options built the way the pipeline builds them."""
    return UrlIngester(build_options(UrlIngester.Options, options, "stages.ingest.url"))


def local(**options: object) -> UrlIngester:
    """Loopback allowed (the test server) but every other private range still refused."""
    return ingester(
        **{"allowed_networks": LOOPBACK, "connect_timeout": 2, "read_timeout": 2, **options}
    )


@pytest.fixture(scope="module", autouse=True)
def routes(http_server, text_pdf):
    s = http_server
    s.add("/article", body=ARTICLE.encode(), content_type="text/html; charset=utf-8")
    s.add("/missing", 404, b"gone", "text/plain")
    s.add("/broken", 500, b"oops", "text/plain")
    s.redirect("/loop-a", "/loop-b")
    s.redirect("/loop-b", "/loop-a")
    for n in range(1, 8):
        s.redirect(f"/chain/{n}", f"/chain/{n - 1}")
    s.redirect("/chain/0", "/article", status=301)
    s.redirect("/to-private", "http://10.11.12.13/secret")
    s.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    s.redirect("/to-file", "file:///etc/passwd")
    s.routes["/slow"] = slow_route(3.0, ARTICLE.encode())
    s.routes["/endless"] = endless_route(b"<p>" + b"x" * 8192 + b"</p>", 3 * 1024 * 1024)
    s.add("/declared-big", body=b"<p>small</p>", headers={})
    s.add("/image", body=b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    s.add("/paper", body=text_pdf, content_type="application/pdf")
    s.add("/paper-as-octets.pdf", body=text_pdf, content_type="")
    s.add("/gzip", body=gzip.compress(ARTICLE.encode()), headers={"Content-Encoding": "gzip"})
    s.add(
        "/notes.txt",
        body=b"Short notes\n\nFirst paragraph of notes.\n\nSecond one.",
        content_type="text/plain; charset=utf-8",
    )
    gb_page = ARTICLE.replace('<meta charset="utf-8">', "").replace(
        "Engineers have restarted", "工程师们重新启动了潮汐发电研究。Engineers have restarted"
    )
    s.add("/gbk-header", body=gb_page.encode("gb18030"), content_type="text/html; charset=GBK")
    return s


# ── good pages ──────────────────────────────────────────────────────────────────


def test_article_is_extracted_without_boilerplate(http_server, ctx):
    doc = local().ingest(http_server.url("/article"), ctx)
    assert doc.kind == "url"
    assert doc.title == "Tidal power returns to the Severn estuary"
    assert doc.language == "en"
    text = " ".join(doc.text.split())
    assert "let fish swim through them unharmed" in text
    assert "so grid operators can plan for it days ahead" in text
    for furniture in (
        "never miss a story",
        "Wind farms break",
        "Reader42",
        "All rights reserved",
        "World",
    ):
        assert furniture not in text, furniture
    assert [s.heading for s in doc.sections] == ["", "Why now"]
    assert doc.metadata["url"] == http_server.url("/article")


def test_redirects_are_followed_within_the_limit(http_server, ctx):
    doc = local(max_redirects=5).ingest(http_server.url("/chain/3"), ctx)
    assert doc.metadata["url"] == http_server.url("/article")
    with pytest.raises(UpstreamError, match="more than 2 redirects"):
        local(max_redirects=2).ingest(http_server.url("/chain/3"), ctx)


def test_gzip_body_and_charset_from_header(http_server, ctx):
    assert "unharmed" in local().ingest(http_server.url("/gzip"), ctx).text
    doc = local().ingest(http_server.url("/gbk-header"), ctx)
    assert "工程师们重新启动了潮汐发电研究" in doc.text


def test_pdf_by_url_goes_to_the_pdf_reader(http_server, ctx):
    for path in ("/paper", "/paper-as-octets.pdf"):
        doc = local().ingest(http_server.url(path), ctx)
        assert doc.kind == "pdf"
        assert doc.metadata["pages"] == 3
        assert "Podcasts turn long documents" in doc.text


def test_plain_text_by_url(http_server, ctx):
    doc = local().ingest(http_server.url("/notes.txt"), ctx)
    assert doc.title == "Short notes"
    assert "Second one." in doc.text


def test_host_header_names_the_host_not_the_ip(http_server, ctx):
    local().ingest(http_server.url("/article", host="localhost"), ctx)
    assert http_server.hosts[-1] == f"localhost:{http_server.port}"


# ── HTTP failures ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("path", "status"), [("/missing", "404"), ("/broken", "500")])
def test_error_status_is_an_upstream_error_naming_it(http_server, ctx, path, status):
    with pytest.raises(UpstreamError, match=f"HTTP {status}"):
        local().ingest(http_server.url(path), ctx)


def test_redirect_loop(http_server, ctx):
    with pytest.raises(UpstreamError, match="redirect loop"):
        local().ingest(http_server.url("/loop-a"), ctx)


def test_slow_server_times_out_quickly(http_server, ctx):
    import time

    start = time.monotonic()
    with pytest.raises(UpstreamError, match="did not answer in time"):
        local(read_timeout=0.3).ingest(http_server.url("/slow"), ctx)
    assert time.monotonic() - start < 2.0


def test_trickling_server_is_stopped_by_the_total_deadline(http_server, ctx):
    import time

    http_server.routes["/trickle"] = trickle_route(ARTICLE.encode(), 0.05)
    start = time.monotonic()
    with pytest.raises(UpstreamError, match=r"longer than 1 s in all.*ingest\.url\.timeout"):
        local(timeout=1).ingest(http_server.url("/trickle"), ctx)
    assert time.monotonic() - start < 3.0


def test_body_shorter_than_its_content_length_is_an_upstream_error(http_server, ctx):
    body = ARTICLE.encode()
    http_server.routes["/short"] = short_body_route(body[: len(body) // 3], len(body))
    with pytest.raises(UpstreamError, match="broke off"):
        local().ingest(http_server.url("/short"), ctx)


def test_oversized_body_is_refused_while_reading(http_server, ctx):
    with pytest.raises(InputError, match="larger than 1 MB"):
        local(max_bytes=1024 * 1024).ingest(http_server.url("/endless"), ctx)


def test_declared_length_over_the_cap_is_refused_before_reading(http_server):
    with pytest.raises(InputError, match="larger than"):
        fetch(http_server.url("/declared-big"), FetchLimits(max_bytes=5, allowed_networks=LOOPBACK))


def test_wrong_content_type_is_refused(http_server, ctx):
    with pytest.raises(InputError, match="image/png"):
        local().ingest(http_server.url("/image"), ctx)


# ── address and scheme policy ──────────────────────────────────────────────────


def test_private_address_refused_by_default_and_allowed_with_the_option(http_server, ctx):
    url = http_server.url("/article")
    with pytest.raises(InputError, match="private") as refused:
        ingester().ingest(url, ctx)
    assert "--allow-private-urls" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert "unharmed" in ingester(allow_private=True).ingest(url, ctx).text


def test_name_resolving_to_loopback_is_refused_after_dns(http_server, ctx):
    with pytest.raises(InputError, match="private"):
        ingester().ingest(http_server.url("/article", host="localhost"), ctx)


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
def test_redirect_to_private_address_is_refused_on_the_hop(http_server, ctx, path):
    with pytest.raises(InputError, match="private"):
        local().ingest(http_server.url(path), ctx)


@pytest.mark.parametrize("url", ["ftp://example.com/file.txt", "file:///etc/passwd", "gopher://x/"])
def test_non_http_schemes_are_refused(ctx, url):
    assert UrlIngester.accepts(url)
    with pytest.raises(InputError, match="only http and https"):
        ingester(allow_private=True).ingest(url, ctx)


def test_redirect_to_file_scheme_is_refused(http_server, ctx):
    with pytest.raises(InputError, match="only http and https"):
        local().ingest(http_server.url("/to-file"), ctx)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
        ("100.100.100.200", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_address_policy(address, allowed):
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, FetchLimits()) is allowed
    assert address_allowed(ip, FetchLimits(allow_private=True))


def test_metadata_address_stays_refused_inside_an_allowed_network():
    limits = FetchLimits(allowed_networks=("169.254.0.0/16",))
    assert not address_allowed(ipaddress.ip_address("169.254.169.254"), limits)
    assert address_allowed(ipaddress.ip_address("169.254.1.1"), limits)


def test_bad_limits_are_config_errors():
    with pytest.raises(ConfigError, match="CIDR"):
        FetchLimits(allowed_networks=("not-a-network",))
    with pytest.raises(ConfigError):
        ingester(read_timeout=0).limits()


def test_accepts_only_url_shapes():
    assert UrlIngester.accepts("https://example.com/a")
    assert not UrlIngester.accepts("notes.txt")
    assert not UrlIngester.accepts("-")
