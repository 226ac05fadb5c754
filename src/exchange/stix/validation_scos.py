"""Per-type property tables for the 18 STIX 2.1 Cyber-observable Objects (section 6).

Built twice from one declaration: standalone SCOs reference other objects by identifier; SCOs
embedded in an observed-data ``objects`` dictionary (deprecated, section 4.14) reference each
other by their keys in it, which ``validation`` resolves with ``EMBEDDED_SCO_REFS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from exchange.stix.types import SCO_TYPES as STANDARD_SCO_TYPES
from exchange.stix.validation_checks import (
    Check,
    Problem,
    Shape,
    binary,
    boolean,
    character_set,
    dictionary,
    email_address,
    enum,
    hashes,
    hex_string,
    hostname,
    identifier,
    integer,
    language_tag,
    list_of,
    matching,
    number,
    segment,
    shape,
    string,
    timestamp,
    timestamp_seconds,
    uri,
)
from exchange.stix.validation_types import EXTENSIONS, SCO_CORE_PROPS, STRINGS, TypeSpec, words

__all__ = ["EMBEDDED_SCO_REFS", "EMBEDDED_SCO_TYPES", "SCO_TYPES"]


_RefFactory = Callable[[tuple[str, ...]], Check]
_ADDRESS = ("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")


def _sco(
    props: Mapping[str, Check],
    required: tuple[str, ...] = (),
    *,
    any_of: tuple[str, ...] = (),
    rule: Callable[[Mapping[str, Any]], Problem | None] | None = None,
    order: tuple[tuple[str, str, bool], ...] = (),
    uuid4_unless: tuple[str, ...] | None = None,
) -> TypeSpec:
    return TypeSpec(
        "sco", Shape({**SCO_CORE_PROPS, **props}, required, any_of, rule=rule), order, uuid4_unless
    )


def _artifact_rule(artifact: Mapping[str, Any]) -> Problem | None:
    # Section 6.1: payload_bin or url (url then with hashes), not both; a decryption_key
    # only with an encryption_algorithm.
    if ("payload_bin" in artifact) == ("url" in artifact):
        return ("missing_property", "", "exactly one of payload_bin and url is required")
    if "url" in artifact and "hashes" not in artifact:
        return ("missing_property", "", "'hashes' is required with url")
    if "decryption_key" in artifact and "encryption_algorithm" not in artifact:
        return ("missing_property", "", "decryption_key requires encryption_algorithm")
    return None


def _email_message_rule(message: Mapping[str, Any]) -> Problem | None:
    # Section 6.6: body for single-part messages, body_multipart for multipart ones.
    if message.get("is_multipart") is True:
        if "body" in message:
            return ("invalid_value", ".body", "not allowed when is_multipart is true")
    elif "body_multipart" in message:
        return ("invalid_value", ".body_multipart", "not allowed unless is_multipart is true")
    return None


def _network_traffic_rule(traffic: Mapping[str, Any]) -> Problem | None:
    # Section 6.12: no `end` while the traffic is still active.
    if traffic.get("is_active") is True and "end" in traffic:
        return ("invalid_value", ".end", "not allowed when is_active is true")
    return None


def _mime_part_rule(part: Mapping[str, Any]) -> Problem | None:
    if ("body" in part) == ("body_raw_ref" in part):
        return ("missing_property", "", "exactly one of body and body_raw_ref is required")
    return None


def _header_value(value: Any) -> Problem | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value):
        return None
    return ("invalid_type", "", "must be a string or a list of two or more strings")


_NON_NEGATIVE = integer(0)
_INT = integer()
_PORT = integer(0, 65535)
_INT_OR_STRING: Check = lambda value: (  # noqa: E731
    None
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    else ("invalid_type", "", "must be a string or an integer")
)


def _predefined_extensions(known: Mapping[str, Check]) -> Check:
    # The extensions dictionary of file, network-traffic, process and user-account: predefined
    # extensions have their own properties (section 6); other values are dictionaries.
    other = dictionary()

    def check(value: Any) -> Problem | None:
        problem = EXTENSIONS(value)
        if problem is not None:
            return problem
        for key, body in value.items():
            problem = known.get(key, other)(body)
            if problem is not None:
                return problem[0], f".{segment(key)}{problem[1]}", problem[2]
        return None

    return check


def _scos(ref: _RefFactory, refs: _RefFactory) -> dict[str, TypeSpec]:
    pe_section = shape(
        Shape(
            props={
                "name": string,
                "size": _NON_NEGATIVE,
                "entropy": number(),
                "hashes": hashes,
            },
            required=("name",),
        )
    )
    optional_header_props: dict[str, Check] = {
        name: (hex_string if name.endswith("_hex") else _INT)
        for name in words(
            "magic_hex major_linker_version minor_linker_version address_of_entry_point "
            "base_of_code base_of_data image_base section_alignment file_alignment "
            "major_os_version minor_os_version major_image_version minor_image_version "
            "major_subsystem_version minor_subsystem_version win32_version_value_hex checksum_hex "
            "subsystem_hex dll_characteristics_hex loader_flags_hex number_of_rva_and_sizes"
        )
    }
    for name in words(
        "size_of_code size_of_initialized_data size_of_uninitialized_data size_of_image "
        "size_of_headers size_of_stack_reserve size_of_stack_commit size_of_heap_reserve "
        "size_of_heap_commit"
    ):
        optional_header_props[name] = _NON_NEGATIVE
    optional_header_props["hashes"] = hashes
    pe_fields = words(
        "imphash machine_hex number_of_sections time_date_stamp pointer_to_symbol_table_hex "
        "number_of_symbols size_of_optional_header characteristics_hex file_header_hashes "
        "optional_header sections"
    )
    file_extensions: dict[str, Check] = {
        "ntfs-ext": shape(
            Shape(
                props={
                    "sid": string,
                    "alternate_data_streams": list_of(
                        shape(
                            Shape(
                                props={"name": string, "hashes": hashes, "size": _NON_NEGATIVE},
                                required=("name",),
                            )
                        )
                    ),
                },
                any_of=("sid", "alternate_data_streams"),
            )
        ),
        "raster-image-ext": shape(
            Shape(
                props={
                    "image_height": _INT,
                    "image_width": _INT,
                    "bits_per_pixel": _INT,
                    "exif_tags": dictionary(_INT_OR_STRING),
                },
                any_of=(
                    "image_height",
                    "image_width",
                    "bits_per_pixel",
                    "image_compression_algorithm",
                    "exif_tags",
                ),
            )
        ),
        "pdf-ext": shape(
            Shape(
                props={
                    "version": string,
                    "is_optimized": boolean,
                    "document_info_dict": dictionary(string),
                    "pdfid0": string,
                    "pdfid1": string,
                },
                any_of=("version", "is_optimized", "document_info_dict", "pdfid0", "pdfid1"),
            )
        ),
        "archive-ext": shape(
            Shape(
                props={"contains_refs": refs(("file", "directory")), "comment": string},
                required=("contains_refs",),
            )
        ),
        "windows-pebinary-ext": shape(
            Shape(
                props={
                    "pe_type": string,
                    "imphash": string,
                    "machine_hex": hex_string,
                    "number_of_sections": _NON_NEGATIVE,
                    "time_date_stamp": timestamp_seconds,
                    "pointer_to_symbol_table_hex": hex_string,
                    "number_of_symbols": _NON_NEGATIVE,
                    "size_of_optional_header": _NON_NEGATIVE,
                    "characteristics_hex": hex_string,
                    "file_header_hashes": hashes,
                    "optional_header": shape(
                        Shape(props=optional_header_props, closed=True), non_empty=True
                    ),
                    "sections": list_of(pe_section),
                },
                required=("pe_type",),
                any_of=tuple(pe_fields),
            )
        ),
    }
    traffic_extensions: dict[str, Check] = {
        "http-request-ext": shape(
            Shape(
                props={
                    "request_method": string,
                    "request_value": string,
                    "request_version": string,
                    "request_header": dictionary(list_of(string, 0), key_form="a header name"),
                    "message_body_length": _INT,
                    "message_body_data_ref": ref(("artifact",)),
                },
                required=("request_method", "request_value"),
            )
        ),
        "icmp-ext": shape(
            Shape(
                props={"icmp_type_hex": hex_string, "icmp_code_hex": hex_string},
                required=("icmp_type_hex", "icmp_code_hex"),
            )
        ),
        "socket-ext": shape(
            Shape(
                props={
                    "address_family": enum(
                        words(
                            "AF_UNSPEC AF_INET AF_IPX AF_APPLETALK AF_NETBIOS AF_INET6 AF_IRDA "
                            "AF_BTH"
                        )
                    ),
                    "is_blocking": boolean,
                    "is_listening": boolean,
                    "options": dictionary(_INT),
                    "socket_type": enum(
                        ["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"]
                    ),
                    "socket_descriptor": _NON_NEGATIVE,
                    "socket_handle": _INT,
                },
                required=("address_family",),
            )
        ),
        "tcp-ext": shape(
            Shape(
                props={"src_flags_hex": hex_string, "dst_flags_hex": hex_string},
                any_of=("src_flags_hex", "dst_flags_hex"),
            )
        ),
    }
    process_extensions: dict[str, Check] = {
        "windows-process-ext": shape(
            Shape(
                props={
                    "aslr_enabled": boolean,
                    "dep_enabled": boolean,
                    "priority": string,
                    "owner_sid": string,
                    "window_title": string,
                    "startup_info": dictionary(),
                    "integrity_level": enum(("low", "medium", "high", "system")),
                },
                any_of=(
                    "aslr_enabled",
                    "dep_enabled",
                    "priority",
                    "owner_sid",
                    "window_title",
                    "startup_info",
                    "integrity_level",
                ),
            )
        ),
        "windows-service-ext": shape(
            Shape(
                props={
                    "service_name": string,
                    "descriptions": STRINGS,
                    "display_name": string,
                    "group_name": string,
                    "start_type": enum(
                        words(
                            "SERVICE_AUTO_START SERVICE_BOOT_START SERVICE_DEMAND_START "
                            "SERVICE_DISABLED SERVICE_SYSTEM_ALERT"
                        )
                    ),
                    "service_dll_refs": refs(("file",)),
                    "service_type": enum(
                        words(
                            "SERVICE_KERNEL_DRIVER SERVICE_FILE_SYSTEM_DRIVER "
                            "SERVICE_WIN32_OWN_PROCESS SERVICE_WIN32_SHARE_PROCESS"
                        )
                    ),
                    "service_status": enum(
                        words(
                            "SERVICE_CONTINUE_PENDING SERVICE_PAUSE_PENDING SERVICE_PAUSED "
                            "SERVICE_RUNNING SERVICE_START_PENDING SERVICE_STOP_PENDING "
                            "SERVICE_STOPPED"
                        )
                    ),
                },
                any_of=(
                    "service_name",
                    "descriptions",
                    "display_name",
                    "group_name",
                    "start_type",
                    "service_dll_refs",
                    "service_type",
                    "service_status",
                ),
            )
        ),
    }
    account_extensions: dict[str, Check] = {
        "unix-account-ext": shape(
            Shape(
                props={"gid": _INT, "groups": STRINGS, "home_dir": string, "shell": string},
                any_of=("gid", "groups", "home_dir", "shell"),
            )
        ),
    }
    account_fields = words(
        "user_id credential account_login account_type display_name is_service_account "
        "is_privileged can_escalate_privs is_disabled account_created account_expires "
        "credential_last_changed account_first_login account_last_login"
    )
    x509_v3_text = words(
        "basic_constraints name_constraints policy_constraints key_usage extended_key_usage "
        "subject_key_identifier authority_key_identifier subject_alternative_name "
        "issuer_alternative_name subject_directory_attributes crl_distribution_points "
        "inhibit_any_policy certificate_policies policy_mappings"
    )
    x509_fields = words(
        "is_self_signed hashes version serial_number signature_algorithm issuer "
        "validity_not_before validity_not_after subject subject_public_key_algorithm "
        "subject_public_key_modulus subject_public_key_exponent x509_v3_extensions"
    )
    process_fields = words(
        "extensions is_hidden pid created_time cwd command_line environment_variables "
        "opened_connection_refs creator_user_ref image_ref parent_ref child_refs"
    )
    ip_props: dict[str, Check] = {
        "resolves_to_refs": refs(("mac-addr",)),
        "belongs_to_refs": refs(("autonomous-system",)),
    }
    return {
        "artifact": _sco(
            {
                "mime_type": matching(
                    r"(?:application|audio|font|image|message|model|multipart|text|video)"
                    r"/[a-zA-Z0-9.+_-]+",
                    "a MIME type (type/subtype)",
                ),
                "payload_bin": binary,
                "url": uri,
                "hashes": hashes,
                "encryption_algorithm": enum(
                    ("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated")
                ),
                "decryption_key": string,
            },
            rule=_artifact_rule,
            uuid4_unless=("hashes", "payload_bin"),
        ),
        "autonomous-system": _sco({"number": _INT, "name": string, "rir": string}, ("number",)),
        "directory": _sco(
            {
                "path": string,
                "path_enc": character_set,
                "ctime": timestamp,
                "mtime": timestamp,
                "atime": timestamp,
                "contains_refs": refs(("file", "directory")),
            },
            ("path",),
        ),
        "domain-name": _sco(
            {
                "value": hostname,
                "resolves_to_refs": refs(("ipv4-addr", "ipv6-addr", "domain-name")),
            },
            ("value",),
        ),
        "email-addr": _sco(
            {
                "value": email_address,
                "display_name": string,
                "belongs_to_ref": ref(("user-account",)),
            },
            ("value",),
        ),
        "email-message": _sco(
            {
                "is_multipart": boolean,
                "date": timestamp,
                "content_type": string,
                "from_ref": ref(("email-addr",)),
                "sender_ref": ref(("email-addr",)),
                "to_refs": refs(("email-addr",)),
                "cc_refs": refs(("email-addr",)),
                "bcc_refs": refs(("email-addr",)),
                "message_id": string,
                "subject": string,
                "received_lines": STRINGS,
                "additional_header_fields": dictionary(_header_value),
                "body": string,
                "body_multipart": list_of(
                    shape(
                        Shape(
                            props={
                                "body": string,
                                "body_raw_ref": ref(("artifact", "file")),
                                "content_type": string,
                                "content_disposition": string,
                            },
                            rule=_mime_part_rule,
                        )
                    ),
                    0,
                ),
                "raw_email_ref": ref(("artifact",)),
            },
            ("is_multipart",),
            rule=_email_message_rule,
            uuid4_unless=("from_ref", "subject", "body"),
        ),
        "file": _sco(
            {
                "extensions": _predefined_extensions(file_extensions),
                "hashes": hashes,
                "size": _NON_NEGATIVE,
                "name": string,
                "name_enc": character_set,
                "magic_number_hex": hex_string,
                "mime_type": string,
                "ctime": timestamp,
                "mtime": timestamp,
                "atime": timestamp,
                "parent_directory_ref": ref(("directory",)),
                "contains_refs": refs(tuple(STANDARD_SCO_TYPES)),
                "content_ref": ref(("artifact",)),
            },
            any_of=("hashes", "name"),
        ),
        "ipv4-addr": _sco(
            {
                "value": matching(
                    r"(?:(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}"
                    r"(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])(?:/(?:3[0-2]|[12][0-9]|[0-9]))?",
                    "an IPv4 address or CIDR block",
                ),
                **ip_props,
            },
            ("value",),
        ),
        "ipv6-addr": _sco({"value": _ipv6, **ip_props}, ("value",)),
        "mac-addr": _sco(
            {"value": matching(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}", "a lowercase colon MAC address")},
            ("value",),
        ),
        "mutex": _sco({"name": string}, ("name",)),
        "network-traffic": _sco(
            {
                "extensions": _predefined_extensions(traffic_extensions),
                "start": timestamp,
                "end": timestamp,
                "is_active": boolean,
                "src_ref": ref(_ADDRESS),
                "dst_ref": ref(_ADDRESS),
                "src_port": _PORT,
                "dst_port": _PORT,
                "protocols": STRINGS,
                "src_byte_count": _NON_NEGATIVE,
                "dst_byte_count": _NON_NEGATIVE,
                "src_packets": _NON_NEGATIVE,
                "dst_packets": _NON_NEGATIVE,
                "ipfix": dictionary(_INT_OR_STRING),
                "src_payload_ref": ref(("artifact",)),
                "dst_payload_ref": ref(("artifact",)),
                "encapsulates_refs": refs(("network-traffic",)),
                "encapsulated_by_ref": ref(("network-traffic",)),
            },
            ("protocols",),
            any_of=("src_ref", "dst_ref"),
            rule=_network_traffic_rule,
            order=(("end", "start", False),),
        ),
        "process": _sco(
            {
                "extensions": _predefined_extensions(process_extensions),
                "is_hidden": boolean,
                "pid": _INT,
                "created_time": timestamp,
                "cwd": string,
                "command_line": string,
                "environment_variables": dictionary(string),
                "opened_connection_refs": refs(("network-traffic",)),
                "creator_user_ref": ref(("user-account",)),
                "image_ref": ref(("file",)),
                "parent_ref": ref(("process",)),
                "child_refs": refs(("process",)),
            },
            any_of=tuple(process_fields),
            uuid4_unless=(),
        ),
        "software": _sco(
            {
                "name": string,
                "cpe": matching(_CPE23, "a CPE 2.3 formatted string"),
                "swid": string,
                "languages": list_of(language_tag),
                "vendor": string,
                "version": string,
            },
            ("name",),
        ),
        "url": _sco({"value": uri}, ("value",)),
        "user-account": _sco(
            {
                "extensions": _predefined_extensions(account_extensions),
                "user_id": string,
                "credential": string,
                "account_login": string,
                "account_type": string,
                "display_name": string,
                "is_service_account": boolean,
                "is_privileged": boolean,
                "can_escalate_privs": boolean,
                "is_disabled": boolean,
                "account_created": timestamp,
                "account_expires": timestamp,
                "credential_last_changed": timestamp,
                "account_first_login": timestamp,
                "account_last_login": timestamp,
            },
            any_of=("extensions", *account_fields),
            uuid4_unless=("account_type", "user_id", "account_login"),
        ),
        "windows-registry-key": _sco(
            {
                "key": _registry_key,
                "values": list_of(
                    shape(
                        Shape(
                            props={
                                "name": string,
                                "data": string,
                                "data_type": enum(_REGISTRY_DATA_TYPES),
                            },
                            any_of=("name", "data", "data_type"),
                        )
                    ),
                ),
                "modified_time": timestamp,
                "creator_user_ref": ref(("user-account",)),
                "number_of_subkeys": _INT,
            },
            any_of=("key", "values", "modified_time", "creator_user_ref", "number_of_subkeys"),
            uuid4_unless=("key", "values"),
        ),
        "x509-certificate": _sco(
            {
                "is_self_signed": boolean,
                "hashes": hashes,
                "version": string,
                "serial_number": string,
                "signature_algorithm": string,
                "issuer": string,
                "validity_not_before": timestamp,
                "validity_not_after": timestamp,
                "subject": string,
                "subject_public_key_algorithm": string,
                "subject_public_key_modulus": string,
                "subject_public_key_exponent": _INT,
                "x509_v3_extensions": shape(
                    Shape(
                        props={
                            **dict.fromkeys(x509_v3_text, string),
                            "private_key_usage_period_not_before": timestamp,
                            "private_key_usage_period_not_after": timestamp,
                        },
                        any_of=(
                            *x509_v3_text,
                            "private_key_usage_period_not_before",
                            "private_key_usage_period_not_after",
                        ),
                    )
                ),
            },
            any_of=tuple(x509_fields),
            uuid4_unless=("hashes", "serial_number"),
        ),
    }


_IPV6 = (
    r"(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,7}:"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}"
    r"|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}"
    r"|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:)"
    r"|(?:[0-9A-Fa-f]{1,4}:){6}[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
    r"|::(?:[fF]{4}:)?[0-9]{1,3}(?:\.[0-9]{1,3}){3})"
    r"(?:%[^/]+)?(?:/(?:12[0-8]|1[01][0-9]|[1-9][0-9]|[0-9]))?"
)
_ipv6 = matching(_IPV6, "an IPv6 address or CIDR block")

# CPE 2.3 formatted string binding (NISTIR 7695): part and ten further components.
_CPE_VALUE = r"(?:\?*|\*?)(?:[a-zA-Z0-9\-._]|\\[\\*?!\"#$%&'()+,/:;<=>@\[\]^`{|}~])+(?:\?*|\*?)"
_CPE23 = (
    rf"cpe:2\.3:[aho*\-](?::(?:{_CPE_VALUE}|[*\-])){{5}}"
    rf"(?::(?:[a-zA-Z]{{2,3}}(?:-(?:[a-zA-Z]{{2}}|[0-9]{{3}}))?|[*\-]))"
    rf"(?::(?:{_CPE_VALUE}|[*\-])){{4}}"
)

# Section 6.17: keys MUST start with a full hive name, never an abbreviation such as HKLM.
_REGISTRY_ABBREVIATIONS = frozenset({"HKLM", "HKCC", "HKCR", "HKCU", "HKU"})
_REGISTRY_DATA_TYPES = words(
    "REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN "
    "REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST "
    "REG_FULL_RESOURCE_DESCRIPTION REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE"
)


def _registry_key(value: Any) -> Problem | None:
    if not isinstance(value, str):
        return ("invalid_type", "", "must be a string")
    if value.split("\\", 1)[0].upper() in _REGISTRY_ABBREVIATIONS:
        return ("invalid_value", "", "must start with a full hive name, not an abbreviation")
    return None


def _embedded_ref(_types: tuple[str, ...]) -> Check:
    return string


def _embedded_refs(_types: tuple[str, ...]) -> Check:
    return list_of(string)


def _standalone_refs(types: tuple[str, ...]) -> Check:
    return list_of(identifier(types))


SCO_TYPES: Mapping[str, TypeSpec] = _scos(identifier, _standalone_refs)
EMBEDDED_SCO_TYPES: Mapping[str, TypeSpec] = _scos(_embedded_ref, _embedded_refs)

# Top-level reference properties of SCOs: the types they may point at (section 6), used to
# resolve references between SCOs embedded in one observed-data.
EMBEDDED_SCO_REFS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "directory": {"contains_refs": ("file", "directory")},
    "domain-name": {"resolves_to_refs": ("ipv4-addr", "ipv6-addr", "domain-name")},
    "email-addr": {"belongs_to_ref": ("user-account",)},
    "email-message": {
        "from_ref": ("email-addr",),
        "sender_ref": ("email-addr",),
        "to_refs": ("email-addr",),
        "cc_refs": ("email-addr",),
        "bcc_refs": ("email-addr",),
        "raw_email_ref": ("artifact",),
    },
    "file": {
        "parent_directory_ref": ("directory",),
        "contains_refs": tuple(STANDARD_SCO_TYPES),
        "content_ref": ("artifact",),
    },
    "ipv4-addr": {"resolves_to_refs": ("mac-addr",), "belongs_to_refs": ("autonomous-system",)},
    "ipv6-addr": {"resolves_to_refs": ("mac-addr",), "belongs_to_refs": ("autonomous-system",)},
    "network-traffic": {
        "src_ref": _ADDRESS,
        "dst_ref": _ADDRESS,
        "src_payload_ref": ("artifact",),
        "dst_payload_ref": ("artifact",),
        "encapsulates_refs": ("network-traffic",),
        "encapsulated_by_ref": ("network-traffic",),
    },
    "process": {
        "opened_connection_refs": ("network-traffic",),
        "creator_user_ref": ("user-account",),
        "image_ref": ("file",),
        "parent_ref": ("process",),
        "child_refs": ("process",),
    },
    "windows-registry-key": {"creator_user_ref": ("user-account",)},
}
