"""How object bodies are kept at rest: a one-byte codec tag, then the bytes.

Tag 0 is the JSON as is; tag 1 is zlib-compressed JSON; tag 2 is Zstandard (RFC 8878) with
:data:`STIX_DICTIONARY` as its raw-content dictionary, which new bodies use when it saves space.
A STIX object is small (a typical indicator is 600-700 bytes), so a compressor finds little to
reuse inside one object; the dictionary gives it the property names, vocabularies and
well-known identifiers of STIX 2.1 to refer back to, which makes a typical stored object about
half the size it is with zlib alone. Zstandard rather than zlib with the same preset
dictionary: as small, about four times faster to write and three times faster to read, which
ingest and every page pull pay per object. Tags never change meaning: a stored row decodes the
same way forever, and a better dictionary would be a new tag.

Status resources go through the same functions. Their rows written before they were encoded
hold the JSON itself, which starts with ``{``: that is not a tag, so it is read as it is.
"""

from __future__ import annotations

import threading
import zlib

import zstandard

__all__ = ["STIX_DICTIONARY", "decode_body", "encode_body"]

_RAW = 0
_ZLIB = 1
_ZSTD_STIX = 2
_LEGACY_JSON = ord("{")
_MIN_COMPRESS = 128
_LEVEL = 3

# Property names, open vocabularies and fixed identifiers of STIX 2.1 (OASIS, sections 2-7 and
# 10), written as the hub stores objects: compact JSON with sorted keys. zlib refers back at
# most 32 KiB back (Zstandard further), and nearer strings cost fewer bits: the most frequent
# come last.
# This text is part of the stored format of tag 2: it must never change.
_VOCABULARY = (
    '"x_mitre_version":"1.0","x_mitre_domains":["enterprise-attack"],"x_mitre_platforms":['
    '"Windows","Linux","macOS"],"x_mitre_is_subtechnique":false,"x_mitre_deprecated":false,'
    '"x_mitre_modified_by_ref":"identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",'
    '"x_mitre_attack_spec_version":"3.2.0","revoked":false,'
    '"external_references":[{"external_id":"T1","source_name":"mitre-attack","url":'
    '"https://attack.mitre.org/techniques/T1"}],"kill_chain_phases":[{"kill_chain_name":'
    '"mitre-attack","phase_name":"defense-evasion"}],{"kill_chain_name":'
    '"lockheed-martin-cyber-kill-chain","phase_name":"reconnaissance","weaponization",'
    '"delivery","exploitation","installation","command-and-control","actions-on-objectives"'
    '"attack-pattern","campaign","course-of-action","grouping","infrastructure",'
    '"intrusion-set","location","malware-analysis","note","observed-data","opinion",'
    '"threat-actor","tool","vulnerability","artifact","autonomous-system","directory",'
    '"email-addr","email-message","mac-addr","mutex","network-traffic","process","software",'
    '"user-account","windows-registry-key","x509-certificate","language-content",'
    '"extension-definition","marking-definition","relationship_type":"uses","targets",'
    '"attributed-to","mitigates","derived-from","duplicate-of","related-to","based-on",'
    '"variant-of","located-at","threat_actor_types":["crime-syndicate"],"primary_motivation":'
    '"personal-gain","resource_level":"organization","roles":["agent"],"sophistication":'
    '"advanced","aliases":[,"goals":[,"first_seen":"20,"last_seen":"20,"objective":'
    '"region":"europe","country":"FR","city":,"latitude":,"longitude":,'
    '"tool_types":["remote-access"],"infrastructure_types":["command-and-control"],'
    '"report_types":["threat-report"],"published":"20,"object_refs":[,"context":'
    '"suspicious-activity","context":"malware-analysis","sectors":["financial-services",'
    '"government-national","healthcare","telecommunications","technology","education",'
    '"energy","identity_class":"individual","identity_class":"organization",'
    '"contact_information":"","roles":,"is_family":true,"is_family":false,"malware_types":'
    '["ransomware","trojan","backdoor","remote-access-trojan","dropper","downloader",'
    '"keylogger","spyware","worm","bot","capabilities":[,"architecture_execution_envs":'
    '"implementation_languages":,"operating_system_refs":,"sample_refs":[,'
    '"observed_data_refs":[,"where_sighted_refs":["identity--,"sighting_of_ref":"indicator--'
    ',"summary":false,"count":1,"first_observed":"20,"last_observed":"20,"number_observed":1,'
    '"lang":"en","labels":["malicious-activity"],"granular_markings":[{"marking_ref":'
    '"selectors":["description"]}],"definition_type":"tlp","definition":{"tlp":"amber"}'
    '"extensions":{"extension-definition--","extension_type":"property-extension"},'
    '"hashes":{"MD5":"","SHA-1":"","SHA-256":""},"name":"","value":"","resolves_to_refs":['
    '"source_name":"","external_id":"CVE-20","url":"https://","description":"",'
    '"confidence":50,"confidence":70,"confidence":85,"revoked":true,"valid_until":"20,'
    '"source_ref":"indicator--,"target_ref":"malware--,"relationship_type":"indicates",'
    '"type":"relationship","type":"sighting","type":"malware","type":"identity",'
    '"type":"report","indicator_types":["malicious-activity","anomalous-activity",'
    '"attribution","compromised","benign","unknown"],'
    '"pattern":"[email-addr:value = \'","pattern":"[ipv6-addr:value = \'",'
    '"pattern":"[file:hashes.MD5 = \'","pattern":"[file:hashes.\'SHA-1\' = \'",'
    '"pattern":"[url:value = \'http://","pattern":"[url:value = \'https://",'
    '"pattern":"[domain-name:value = \'","pattern":"[file:hashes.\'SHA-256\' = \'",'
    '"pattern":"[ipv4-addr:value = \'",\' OR [ipv4-addr:value = \'",\'] OR [",'
    '"object_marking_refs":["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"],'
    '"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],'
    '"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],'
    '"object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"],'
    '"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],'
    '"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],'
    '"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],'
    '"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],'
    '{"confidence":,"created":"20,"created_by_ref":"identity--,"description":"'
    ',"id":"indicator--,"indicator_types":["malicious-activity"],"modified":"20,"name":"'
    'Malicious ,"pattern_type":"stix","pattern_version":"2.1","spec_version":"2.1",'
    '"type":"indicator","valid_from":"20'
)
STIX_DICTIONARY = _VOCABULARY.encode("utf-8")


_ZSTD_DICTIONARY = zstandard.ZstdCompressionDict(
    STIX_DICTIONARY, dict_type=zstandard.DICT_TYPE_RAWCONTENT
)
_ZSTD_DICTIONARY.precompute_compress(level=_LEVEL)
# Compressor and decompressor objects are not for concurrent use: one of each per thread.
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    compressor: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            level=_LEVEL, dict_data=_ZSTD_DICTIONARY, write_checksum=False, write_dict_id=False
        )
    return compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    decompressor: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor(dict_data=_ZSTD_DICTIONARY)
    return decompressor


def encode_body(body: bytes) -> bytes:
    """The stored form of a JSON body: the smaller of as-is and dictionary-compressed."""
    if len(body) >= _MIN_COMPRESS:
        packed = _compressor().compress(body)
        if len(packed) < len(body):
            return bytes((_ZSTD_STIX,)) + packed
    return bytes((_RAW,)) + body


def decode_body(stored: bytes) -> bytes:
    """The JSON body back from its stored form."""
    tag = stored[0]
    if tag == _ZSTD_STIX:
        return _decompressor().decompress(stored[1:])
    if tag == _ZLIB:
        return zlib.decompress(stored[1:])
    if tag == _RAW:
        return bytes(stored[1:])
    if tag == _LEGACY_JSON:
        return bytes(stored)
    raise ValueError(f"unknown body codec {tag}")
