"""The server's TLS context, built from the settings, with one clear error for each mistake."""

from __future__ import annotations

import ssl
from pathlib import Path

import click

from exchange.settings import Settings

__all__ = ["CLIENT_CERT_MODES", "tls_context"]

CLIENT_CERT_MODES = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def _check_readable(path: Path, what: str) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise click.ClickException(f"cannot read the {what} {path}: {exc.strerror}") from None


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2 or newer), or None for plain HTTP.

    Everything that cannot work (a missing or unreadable file, a key that does not match the
    certificate, a client-certificate mode without a CA) is one clear error, raised here before
    the server starts rather than as a traceback from inside it.
    """
    cert, key, ca = settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    mode = settings.tls_client_cert
    if cert is None:
        if key is not None or ca is not None or mode != "none":
            raise click.UsageError(
                "--tls-key, --tls-client-ca and --tls-client-cert need --tls-cert"
            )
        return None
    if mode == "none" and ca is not None:
        raise click.UsageError(
            "--tls-client-ca needs --tls-client-cert optional or required to take effect"
        )
    if mode != "none" and ca is None:
        raise click.UsageError(f"--tls-client-cert {mode} needs --tls-client-ca")
    _check_readable(cert, "TLS certificate")
    if key is not None:
        _check_readable(key, "TLS key")
    if ca is not None:
        _check_readable(ca, "client CA file")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Python already starts server contexts at TLS 1.2; pinned so no OpenSSL or Python build
    # default can lower it.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    secret = settings.tls_key_password
    # A callable, so an encrypted key without a password fails instead of prompting.
    password = secret.get_secret_value() if secret is not None else ""
    try:
        context.load_cert_chain(cert, key, password=lambda: password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise click.ClickException(
                f"the TLS key {key or cert} does not match the certificate {cert}"
            ) from None
        raise click.ClickException(
            f"cannot load the TLS certificate {cert} and key {key or cert} "
            f"({exc.reason or exc}): both must be PEM; an encrypted key needs "
            "EXCHANGE_TLS_KEY_PASSWORD"
        ) from None
    if ca is not None:
        try:
            context.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise click.ClickException(
                f"no usable CA certificate in {ca} ({exc.reason or exc}): it must be PEM"
            ) from None
    context.verify_mode = CLIENT_CERT_MODES[mode]
    return context
