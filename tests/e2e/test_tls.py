"""`exchange serve` over TLS, against real servers: HTTPS with taxii2-client, plain HTTP refused
on the TLS port, TLS 1.2 as the floor, client certificates (mTLS) optional and required, and
clear errors for certificate files that cannot work."""

from __future__ import annotations

import socket
import ssl
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr
from taxii2client.v21 import Collection, Server

from exchange.cli.serve import tls_context
from exchange.countries import country_collection_id
from exchange.settings import Settings
from tests.support.server import EXCHANGE, ClientTLS, HubProcess, _env, free_port, start_hub
from tests.support.tls import TLSFiles, make_pki

FR = country_collection_id("FR")


@pytest.fixture(autouse=True)
def _session_verify_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these variables override a Session's `verify`, which is where taxii2-client
    # puts its `verify=` (an explicit per-request `verify=` still wins).
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _tls_env(pki: TLSFiles, client_cert: str = "none") -> dict[str, str]:
    env = {
        "EXCHANGE_TLS_CERT_FILE": str(pki.server.cert),
        "EXCHANGE_TLS_KEY_FILE": str(pki.server.key),
    }
    if client_cert != "none":
        env["EXCHANGE_TLS_CLIENT_CA_FILE"] = str(pki.ca)
        env["EXCHANGE_TLS_CLIENT_CERT"] = client_cert
    return env


def _serving(
    factory: pytest.TempPathFactory, pki: TLSFiles, client_cert: str
) -> Iterator[HubProcess]:
    client = ClientTLS(pki.ca, pki.client.pair if client_cert != "none" else None)
    hub = start_hub(
        factory.mktemp(f"tls-{client_cert}"), extra_env=_tls_env(pki, client_cert), tls=client
    )
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory: pytest.TempPathFactory, pki: TLSFiles) -> Iterator[HubProcess]:
    yield from _serving(tmp_path_factory, pki, "none")


@pytest.fixture(scope="module")
def mtls_hub(tmp_path_factory: pytest.TempPathFactory, pki: TLSFiles) -> Iterator[HubProcess]:
    yield from _serving(tmp_path_factory, pki, "required")


@pytest.fixture(scope="module")
def optional_hub(tmp_path_factory: pytest.TempPathFactory, pki: TLSFiles) -> Iterator[HubProcess]:
    yield from _serving(tmp_path_factory, pki, "optional")


def _indicator(name: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


def _push_and_pull(hub: HubProcess, cert: tuple[str, str] | None) -> None:
    """demo-partner-a pushes an indicator with taxii2-client, analyst-fr reads it back."""
    verify = str(hub.tls.ca_file) if hub.tls else True
    partner, analyst = hub.accounts["demo-partner-a"], hub.accounts["analyst-fr"]
    assert partner.inbox is not None
    sent = _indicator("over TLS")
    inbox = Collection(
        hub.collection_url(partner.inbox),
        user=partner.username,
        password=partner.token,
        verify=verify,
        cert=cert,
    )
    status = inbox.add_objects({"objects": [sent]})
    assert (status.status, status.success_count) == ("complete", 1)
    server = Server(
        hub.discovery, user=analyst.username, password=analyst.token, verify=verify, cert=cert
    )
    assert [root.url for root in server.api_roots] == [hub.api_root]
    assert hub.api_root.startswith("https://127.0.0.1:")
    (france,) = [c for c in server.api_roots[0].collections if c.id == FR]
    got = {obj["id"]: obj for obj in france.get_objects(limit=1000)["objects"]}
    assert got[sent["id"]]["name"] == "over TLS"


def _handshake(
    port: int,
    *,
    ca: Path,
    cert: tuple[str, str] | None = None,
    versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None,
) -> str:
    """One TLS connection and one HTTP request; the negotiated protocol version."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(*cert)
    if versions is not None:
        context.minimum_version, context.maximum_version = versions
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = tls.recv(1024)
        # In TLS 1.3 the server judges a client certificate after the client's handshake ends:
        # a refusal arrives as an alert (ssl.SSLError) or a closed connection on this read.
        if not answer.startswith(b"HTTP/1.1 "):
            raise ConnectionError(f"no HTTP answer: {answer!r}")
        version = tls.version()
        assert version is not None
        return version


# --- TLS without client certificates ----------------------------------------------------------


def test_taxii2_client_works_over_https(tls_hub: HubProcess) -> None:
    _push_and_pull(tls_hub, cert=None)
    assert tls_hub.log_path is not None
    assert f"TAXII discovery at https://127.0.0.1:{tls_hub.port}/taxii2/" in (
        tls_hub.log_path.read_text()
    )


def test_the_server_is_trusted_only_through_its_ca(tls_hub: HubProcess, pki: TLSFiles) -> None:
    analyst = tls_hub.accounts["analyst-fr"]
    # The system trust store does not know the test CA: the certificate is the one served.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_hub.discovery, auth=analyst.auth, timeout=10)
    answer = requests.get(tls_hub.discovery, auth=analyst.auth, verify=str(pki.ca), timeout=10)
    assert answer.status_code == 200


def test_plain_http_to_the_tls_port_gets_no_answer(tls_hub: HubProcess) -> None:
    analyst = tls_hub.accounts["analyst-fr"]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_hub.port}/taxii2/", auth=analyst.auth, timeout=10)


def test_tls_1_2_and_1_3_are_served(tls_hub: HubProcess, pki: TLSFiles) -> None:
    v12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    assert _handshake(tls_hub.port, ca=pki.ca, versions=v12) == "TLSv1.2"
    assert _handshake(tls_hub.port, ca=pki.ca) == "TLSv1.3"


def _old_tls_client(ca: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(ca))
    # OpenSSL 3 allows TLS 1.1 only at security level 0.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated: that is the point
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


def _local_openssl_speaks_tls_1_1(pki: TLSFiles) -> bool:
    """Whether this OpenSSL can complete a TLS 1.1 handshake at all (client and server in
    memory), so that a refusal by the hub means the hub refused."""
    try:
        client = _old_tls_client(pki.ca)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            server.minimum_version = ssl.TLSVersion.TLSv1_1
        server.load_cert_chain(pki.server.cert, pki.server.key)
    except (ssl.SSLError, ValueError):
        return False
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    ends = [
        client.wrap_bio(to_client, to_server, server_hostname="127.0.0.1"),
        server.wrap_bio(to_server, to_client, server_side=True),
    ]
    done = [False, False]
    for _ in range(20):
        for i, end in enumerate(ends):
            if done[i]:
                continue
            try:
                end.do_handshake()
                done[i] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                return False
        if all(done):
            return ends[0].version() == "TLSv1.1"
    return False


def test_tls_1_1_is_refused(tls_hub: HubProcess, pki: TLSFiles) -> None:
    if not _local_openssl_speaks_tls_1_1(pki):
        pytest.skip("this OpenSSL cannot complete a TLS 1.1 handshake even with itself")
    client = _old_tls_client(pki.ca)
    with (
        socket.create_connection(("127.0.0.1", tls_hub.port), timeout=10) as raw,
        pytest.raises(ssl.SSLError),  # the hub ends the handshake
    ):
        client.wrap_socket(raw, server_hostname="127.0.0.1")
    # The same client allowed TLS 1.2 gets through: only the version was refused.
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(("127.0.0.1", tls_hub.port), timeout=10) as raw,
        client.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() == "TLSv1.2"


# --- client certificates (mTLS) ---------------------------------------------------------------


def test_mtls_required_admits_the_ca_client_certificate(
    mtls_hub: HubProcess, pki: TLSFiles
) -> None:
    _push_and_pull(mtls_hub, cert=pki.client.pair)


def test_mtls_required_refuses_connections_without_a_valid_certificate(
    mtls_hub: HubProcess, pki: TLSFiles
) -> None:
    analyst = mtls_hub.accounts["analyst-fr"]
    for cert in (None, pki.stranger.pair):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            _handshake(mtls_hub.port, ca=pki.ca, cert=cert)
        with pytest.raises(requests.ConnectionError):
            requests.get(
                mtls_hub.discovery, auth=analyst.auth, verify=str(pki.ca), cert=cert, timeout=10
            )
    # The same request with the right certificate: the refusals above were the certificate's.
    assert _handshake(mtls_hub.port, ca=pki.ca, cert=pki.client.pair).startswith("TLSv1.")


def test_a_client_certificate_does_not_replace_the_token(
    mtls_hub: HubProcess, pki: TLSFiles
) -> None:
    """mTLS admits the connection; the token still names the account: no token is 401, and two
    accounts behind one certificate each see their own collections."""
    options: dict[str, Any] = {"verify": str(pki.ca), "cert": pki.client.pair, "timeout": 10}
    headers = {"Accept": "application/taxii+json;version=2.1"}
    assert requests.get(mtls_hub.discovery, headers=headers, **options).status_code == 401
    seen = {}
    for name in ("analyst-fr", "analyst-de"):
        answer = requests.get(
            f"{mtls_hub.api_root}collections/",
            headers=headers,
            auth=mtls_hub.accounts[name].auth,
            **options,
        )
        assert answer.status_code == 200
        seen[name] = {c["id"] for c in answer.json()["collections"]}
    assert FR in seen["analyst-fr"]
    assert FR not in seen["analyst-de"]
    assert country_collection_id("DE") in seen["analyst-de"]


def test_mtls_optional_checks_a_certificate_only_when_one_is_sent(
    optional_hub: HubProcess, pki: TLSFiles
) -> None:
    assert _handshake(optional_hub.port, ca=pki.ca).startswith("TLSv1.")
    assert _handshake(optional_hub.port, ca=pki.ca, cert=pki.client.pair).startswith("TLSv1.")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _handshake(optional_hub.port, ca=pki.ca, cert=pki.stranger.pair)


# --- settings that cannot work ----------------------------------------------------------------


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`exchange serve` with options that must be refused before it listens."""
    done = subprocess.run(
        [*EXCHANGE, "serve", "--port", str(free_port()), *args],
        env=_env(tmp_path / "data", env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


def test_serve_refuses_tls_settings_that_cannot_work(tmp_path: Path, pki: TLSFiles) -> None:
    missing = tmp_path / "missing.pem"
    code, err = _serve(tmp_path, "--tls-cert", str(missing))
    assert code != 0
    assert f"cannot read the TLS certificate {missing}: No such file or directory" in err

    code, err = _serve(tmp_path, "--tls-cert", str(pki.server.cert), "--tls-key", str(missing))
    assert code != 0
    assert f"cannot read the TLS key {missing}" in err

    code, err = _serve(
        tmp_path, "--tls-cert", str(pki.server.cert), "--tls-key", str(pki.other_key)
    )
    assert code != 0
    assert f"the TLS key {pki.other_key} does not match the certificate {pki.server.cert}" in err

    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n")
    code, err = _serve(tmp_path, "--tls-cert", str(not_pem), "--tls-key", str(pki.server.key))
    assert code != 0
    assert f"cannot load the TLS certificate {not_pem}" in err

    code, err = _serve(
        tmp_path,
        env={**_tls_env(pki), "EXCHANGE_TLS_CLIENT_CERT": "required"},
    )
    assert code != 0
    assert "--tls-client-cert required needs --tls-client-ca" in err

    code, err = _serve(tmp_path, "--tls-client-ca", str(pki.ca))
    assert code != 0
    assert "need --tls-cert" in err


def test_serve_help_explains_every_tls_option() -> None:
    done = subprocess.run(
        [*EXCHANGE, "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    text = " ".join(done.stdout.split())
    for option in ("--tls-cert", "--tls-key", "--tls-client-ca", "--tls-client-cert"):
        assert option in text
    for env in ("EXCHANGE_TLS_CERT_FILE", "EXCHANGE_TLS_KEY_FILE", "EXCHANGE_TLS_KEY_PASSWORD"):
        assert env in text
    assert "none, optional (checked when sent) or required" in text


def test_an_encrypted_key_needs_its_password(tmp_path: Path, pki: TLSFiles) -> None:
    key = load_pem_private_key(pki.server.key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"correct horse"),
        )
    )
    settings = Settings(
        tls_cert_file=pki.server.cert,
        tls_key_file=encrypted,
        tls_key_password=SecretStr("correct horse"),
    )
    context = tls_context(settings)
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE
    for wrong in (None, "wrong"):
        code, err = _serve(
            tmp_path,
            "--tls-cert",
            str(pki.server.cert),
            "--tls-key",
            str(encrypted),
            env={"EXCHANGE_TLS_KEY_PASSWORD": wrong} if wrong else None,
        )
        assert code != 0
        assert "an encrypted key needs EXCHANGE_TLS_KEY_PASSWORD" in err
