"""No 身份证号 in any log line: a logging filter attached to every handler (settings.LOGGING).

An 18-character mainland ID number (17 digits and a digit or X) is replaced by its first 6 characters (the
region, not personal) and asterisks — in the formatted message, its arguments and the exception text, so
a traceback with an ID number in an exception message or a repr is masked too. Longer digit runs (a ledger
hash, a bank account) are left alone: the pattern wants no digit or letter on either side.
"""

from __future__ import annotations

import logging
import re
import traceback

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{11}[\dXx](?![0-9A-Za-z])")


def mask(text: str) -> str:
    return ID_NUMBER.sub(lambda m: m.group(1) + "*" * 12, text)


class MaskIdNumbers(logging.Filter):
    """Rewrites the record in place (the message is rendered once here) and never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True
