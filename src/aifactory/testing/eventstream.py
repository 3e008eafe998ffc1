"""The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), encoded from the spec.

Bedrock's `ConverseStream` answers with a sequence of these messages instead of server-sent events.
Each message is:

    prelude   total length (uint32) · headers length (uint32) · CRC32 of those 8 bytes (uint32)
    headers   per header: name length (uint8) · name · value type (uint8, 7 = string) · value length
              (uint16) · value
    payload   here always JSON
    trailer   CRC32 of everything before it (uint32)

all big-endian (https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html describes
the same framing). botocore's parser in the client checks both CRCs and every length, so a mistake here
fails the client loudly rather than passing unnoticed.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    )


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One framed message with string `headers` and `payload`."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(encoded_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    prelude += _CRC.pack(zlib.crc32(prelude))
    body = prelude + encoded_headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def event(event_type: str, payload: Any) -> bytes:
    """An event of the stream, such as `contentBlockDelta`, with a JSON payload."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, _json(payload))


def exception(exception_type: str, message: str) -> bytes:
    """An exception the service reports inside the stream, such as `throttlingException`."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))
