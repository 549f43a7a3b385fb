"""Schemathesis hooks for scripts/security-scans (loaded by schemathesis.toml beside this).

JSON Schema 2020-12 counts a number with a zero fraction (`1.0`) as an integer, so the
generator may send `"dormant_days": 1.0` where the schema says integer. The service reads
JSON with serde, which takes an integer field only as an integer literal and answers 400;
every client of the service writes integers as integers. This hook writes such numbers as
integers before a request is sent, so that the checks judge the service on what a client
sends. No other value is touched, and a case that breaks the schema still breaks it.
"""

import schemathesis


def _integral_floats_as_ints(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, (dict, list, float)):
        case.body = _integral_floats_as_ints(case.body)
