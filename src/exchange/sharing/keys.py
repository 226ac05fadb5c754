"""Partners' signing keys and signed contributions: key lifecycle, request verification, evidence.

A partner registers public keys (Ed25519 or ECDSA P-256, PEM or JWK), each valid in a window:
``valid_from`` (default now) to ``valid_until`` (open when absent). Rotation registers a new key
and ends the old one's window at a given time, so both are valid meanwhile. Revocation takes
effect at a given time: signatures created at or after it are refused, evidence made before it
stays verifiable. Every change is recorded (entity ``key``) in the same transaction.

When the partner's agreement requires signatures, a submission is verified before its body is
parsed (:meth:`KeyAdmin._verify_submission`); its nonce is remembered and the signed bytes kept
as evidence in the submission's own transaction (:meth:`KeyAdmin._keep_evidence`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from exchange.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from exchange.sharing.partners import PartnerAdmin
from exchange.signing.digest import verify_content_digest
from exchange.signing.errors import ContentDigestInvalid, SignatureInvalid
from exchange.signing.keys import PublicKeyInfo, load_public_key, public_key_from_pem
from exchange.signing.verify import (
    VerifiedSignature,
    parse_signature,
    verify_evidence,
    verify_request,
)
from exchange.stix.timestamps import format_date_added
from exchange.store.key_models import Evidence, PartnerKey
from exchange.store.models import Account
from exchange.store.protocol import Transaction

__all__ = [
    "EvidenceCheck",
    "KeyAdmin",
    "SignatureReplayed",
    "SignedRequest",
    "key_as_dict",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What the hub verifies a signature over, besides the body: method, URL, header lines."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]

    def fields(self) -> dict[str, str]:
        """Header fields by lower-cased name, repeated lines joined (RFC 9110 section 5.3)."""
        combined: dict[str, list[str]] = {}
        for name, value in self.headers:
            combined.setdefault(name.lower(), []).append(value.strip(" \t"))
        return {name: ", ".join(values) for name, values in combined.items()}


class SignatureReplayed(SignatureInvalid):
    """A signature whose nonce this key already used within the replay window."""

    def __init__(self, detail: str) -> None:
        AuthenticationFailed.__init__(self, detail)
        self.reason = "replayed"  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    """The outcome of verifying a submission's kept evidence again."""

    status_id: str
    ok: bool
    reason: str  # "ok" or why not
    detail: str
    key_id: str
    partner: str
    created: str
    covered: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "status_id": self.status_id,
            "ok": self.ok,
            "reason": self.reason,
            "detail": self.detail,
            "key_id": self.key_id,
            "partner": self.partner,
            "created": self.created,
            "covered": list(self.covered),
        }


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware time."""
    if moment.tzinfo is None:
        raise InvalidRequest("give a time zone, e.g. 2026-01-01T00:00:00Z")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _text(micros: int | None) -> str | None:
    return None if micros is None else format_date_added(micros)


def key_as_dict(key: PartnerKey, partner: str, now: int) -> dict[str, Any]:
    """A JSON-ready view of a registered key, with its state at ``now`` (µs)."""
    if key.revoked_at is not None and now >= key.revoked_at:
        state = "revoked"
    elif now < key.valid_from:
        state = "pending"
    elif key.valid_until is not None and now >= key.valid_until:
        state = "expired"
    else:
        state = "active"
    return {
        "key_id": key.key_id,
        "partner": partner,
        "algorithm": key.algorithm,
        "state": state,
        "valid_from": _text(key.valid_from),
        "valid_until": _text(key.valid_until),
        "revoked_at": _text(key.revoked_at),
        "revoked_reason": key.revoked_reason,
        "public_key": key.public_key.decode("ascii"),
        "created_by": key.created_by,
        "created_at": key.created_at,
    }


class KeyAdmin(PartnerAdmin):
    """Partners' signing keys, the verification of signed submissions, and their evidence."""

    _signature_skew: timedelta = timedelta(seconds=300)
    _nonces_pruned_at: int = 0

    # Key lifecycle -------------------------------------------------------------------------
    def _this_second(self) -> int:
        now = self._now_us()
        return now - now % 1_000_000

    def partner_keys(self, username: str) -> list[dict[str, Any]]:
        """A partner's registered keys (all of them: active, pending, expired, revoked)."""
        account = self._partner_account(username)
        now = self._now_us()
        return [
            key_as_dict(key, account.username, now) for key in self._store.partner_keys(account.id)
        ]

    def _new_key(
        self,
        account: Account,
        key_text: str | bytes,
        *,
        actor: str,
        key_id: str | None,
        valid_from: datetime | None,
        valid_until: datetime | None,
    ) -> tuple[PartnerKey, PublicKeyInfo]:
        info = load_public_key(key_text, key_id or None)
        # Signatures name their `created` in whole seconds: a default start or revocation
        # takes the current second, so a signature made right away is judged as intended.
        start = self._this_second() if valid_from is None else to_us(valid_from)
        end = None if valid_until is None else to_us(valid_until)
        if end is not None and end <= start:
            raise InvalidRequest("valid_until must be after valid_from")
        existing = self._store.partner_key(info.key_id)
        if existing is not None:
            whose = "this" if existing.partner_account == account.id else "another"
            raise Conflict(f"the key {info.key_id!r} is already registered for {whose} partner")
        thumbprint = info.thumbprint()
        for other in self._store.partner_keys():
            if public_key_from_pem(other.public_key, other.key_id).thumbprint() == thumbprint:
                whose = "this" if other.partner_account == account.id else "another"
                raise Conflict(
                    f"this public key is already registered for {whose} partner "
                    f"(as {other.key_id!r})"
                )
        key = PartnerKey(
            key_id=info.key_id,
            partner_account=account.id,
            algorithm=info.algorithm,
            public_key=info.pem().encode("ascii"),
            valid_from=start,
            valid_until=end,
            revoked_at=None,
            revoked_reason=None,
            created_by=actor,
            created_at=format_date_added(self._now_us()),
        )
        return key, info

    def add_partner_key(
        self,
        username: str,
        key_text: str | bytes,
        *,
        admin: str,
        key_id: str | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        rotates: str | None = None,
        rotated_until: datetime | None = None,
    ) -> dict[str, Any]:
        """Register a partner's public key (PEM or JWK); its id is its JWK thumbprint unless
        given. With ``rotates``, the partner's old key stays valid until ``rotated_until``
        (default: when the new key starts), in the same transaction (rotation with overlap)."""
        account = self._partner_account(username)
        actor = self._admin(admin)
        key, _ = self._new_key(
            account,
            key_text,
            actor=actor,
            key_id=key_id,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        now = self._now_us()
        old: PartnerKey | None = None
        old_end = key.valid_from if rotated_until is None else to_us(rotated_until)
        if rotates is not None:
            old = self._own_key(account, rotates)
            if old.revoked_at is not None:
                raise InvalidRequest(f"the key {rotates!r} is revoked")
            if old_end <= old.valid_from:
                raise InvalidRequest("the old key must stay valid after it started")
        elif rotated_until is not None:
            raise InvalidRequest("name the key being rotated out")
        with self._store.transaction() as tx:
            tx.add_partner_key(key)
            if old is not None:
                if old.valid_until is not None:
                    old_end = min(old_end, old.valid_until)
                tx.end_partner_key(old.key_id, old_end)
                ended = replace(old, valid_until=old_end)
                self._record(
                    tx,
                    actor,
                    "key",
                    old.key_id,
                    "rotate-out",
                    key_as_dict(old, account.username, now),
                    key_as_dict(ended, account.username, now),
                )
            after = key_as_dict(key, account.username, now)
            self._record(tx, actor, "key", key.key_id, "rotate-in" if old else "add", None, after)
        return after

    def _own_key(self, account: Account, key_id: str) -> PartnerKey:
        key = self._store.partner_key(key_id)
        if key is None or key.partner_account != account.id:
            raise NotFound(f"{account.username!r} has no key {key_id!r}")
        return key

    def revoke_partner_key(
        self,
        username: str,
        key_id: str,
        reason: str,
        *,
        admin: str,
        effective: datetime | None = None,
    ) -> dict[str, Any]:
        """Revoke a key from ``effective`` (default now) on: signatures created at or after it
        are refused; evidence of earlier submissions stays verifiable."""
        account = self._partner_account(username)
        actor = self._admin(admin)
        if not reason.strip():
            raise InvalidRequest("give a reason for the revocation")
        key = self._own_key(account, key_id)
        if key.revoked_at is not None:
            raise Conflict(f"the key {key_id!r} is already revoked")
        now = self._now_us()
        at = self._this_second() if effective is None else to_us(effective)
        revoked = replace(key, revoked_at=at, revoked_reason=reason)
        with self._store.transaction() as tx:
            tx.revoke_partner_key(key.key_id, at, reason)
            after = key_as_dict(revoked, account.username, now)
            self._record(
                tx,
                actor,
                "key",
                key.key_id,
                "revoke",
                key_as_dict(key, account.username, now),
                after,
            )
        return after

    # Verifying submissions -----------------------------------------------------------------
    def _verify_submission(
        self, account: Account, request: SignedRequest | None, body: bytes
    ) -> VerifiedSignature:
        """Verify a partner's signed write (RFC 9421); raises :class:`SignatureInvalid` with
        its reason code in the detail. The nonce is checked later, in the write transaction."""
        if request is None:
            raise SignatureInvalid(
                "missing_signature",
                "missing_signature: this partner's agreement requires signed submissions",
            )
        fields = request.fields()
        created: int | None = None
        try:
            created_s = parse_signature(fields).created
            created = None if created_s is None else created_s * 1_000_000
        except SignatureInvalid:
            pass  # verify_request refuses it with the same reason

        def resolve(key_id: str) -> PublicKeyInfo | None:
            key = self._store.partner_key(key_id)
            if key is None or key.partner_account != account.id or created is None:
                return None
            if not key.usable_at(created):
                return None
            return public_key_from_pem(key.public_key, key.key_id)

        try:
            return verify_request(
                request.method,
                request.url,
                fields,
                body,
                resolve_key=resolve,
                now=self._now(),
                max_skew=self._signature_skew,
            )
        except SignatureInvalid as exc:
            detail = exc.detail
            if exc.reason == "unknown_key":
                detail = (
                    f"{detail}: no key of this partner with this id is registered, valid and "
                    "not revoked at the signature's created time"
                )
            raise SignatureInvalid(exc.reason, f"{exc.reason}: {detail}") from None

    def _keep_evidence(
        self,
        tx: Transaction,
        signed: VerifiedSignature,
        request: SignedRequest,
        body: bytes,
        submission_pk: int,
    ) -> None:
        """Remember the nonce (refusing a replay) and keep the signed bytes as evidence."""
        now = self._now_us()
        nonce = signed.nonce or ""
        if not tx.remember_nonce(signed.key_id, nonce, now):
            raise SignatureReplayed(
                f"replayed: the nonce {nonce!r} of key {signed.key_id!r} was already used"
            )
        skew = int(self._signature_skew.total_seconds() * 1_000_000)
        if now - self._nonces_pruned_at >= skew:
            tx.prune_nonces(now - 2 * skew)
            self._nonces_pruned_at = now
        tx.add_evidence(
            Evidence(
                submission_pk=submission_pk,
                key_id=signed.key_id,
                label=signed.label,
                signature=signed.signature,
                signature_base=signed.signature_base,
                covered=signed.covered_components,
                created=to_us(signed.created),
                nonce=nonce,
                content_type=request.fields().get("content-type", ""),
                body=bytes(body),
            )
        )

    # Evidence ------------------------------------------------------------------------------
    def check_evidence(self, status_id: str) -> EvidenceCheck:
        """Verify a submission's kept evidence again, with the key as it was registered (also
        after it was rotated out or revoked later), and the body against the signed digest."""
        evidence = self._store.evidence_for_status(status_id)
        if evidence is None:
            raise NotFound(f"no signed evidence for the submission with status {status_id!r}")
        key = self._store.partner_key(evidence.key_id)
        partner = ""
        if key is not None:
            owner = self._store.account(key.partner_account)
            partner = owner.username if owner else key.partner_account

        def result(reason: str, detail: str) -> EvidenceCheck:
            return EvidenceCheck(
                status_id=status_id,
                ok=reason == "ok",
                reason=reason,
                detail=detail,
                key_id=evidence.key_id,
                partner=partner,
                created=format_date_added(evidence.created),
                covered=evidence.covered,
            )

        if key is None:
            return result("unknown_key", f"the key {evidence.key_id!r} is not registered")
        info = public_key_from_pem(key.public_key, key.key_id)
        if not verify_evidence(evidence.signature_base, evidence.signature, info):
            return result("bad_signature", "the signature does not verify over the kept base")
        digest = _base_line(evidence.signature_base.decode("ascii", "replace"), "content-digest")
        if digest is None:
            return result("missing_component", "the signature base has no content-digest")
        try:
            verify_content_digest(digest, evidence.body)
        except ContentDigestInvalid as exc:
            return result("digest_mismatch", exc.detail)
        if not key.usable_at(evidence.created):
            return result(
                "key_not_valid", "the key was not valid (or already revoked) when this was signed"
            )
        return result("ok", "the signature and the content digest verify")


def _base_line(base: str, name: str) -> str | None:
    prefix = f'"{name}": '
    for line in base.split("\n"):
        if line.startswith(prefix):
            return line[len(prefix) :]
    return None
